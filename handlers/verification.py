"""Q3: a verification code for every submission — a picture of digits by default, plain text
when ``VERIFY_CODE_AS=text`` (accessibility, tests). Digits 2–9 only: no 0/O or 1/I to confuse."""

from __future__ import annotations

import io
import random
import secrets
from functools import cache
from typing import TYPE_CHECKING

# Pillow is imported when the first picture is drawn: a start of the bot needs none (issue 12).
if TYPE_CHECKING:
    from PIL import ImageFont

CODE_DIGITS = "23456789"
CODE_LENGTH = 5
MAX_TRIES = 3


def new_code() -> str:
    return "".join(secrets.choice(CODE_DIGITS) for _ in range(CODE_LENGTH))


def matches(expected: str, typed: str) -> bool:
    return "".join(ch for ch in typed if ch.isdigit()) == expected


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    for name in ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "Arial Bold.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def render_png(code: str) -> bytes:
    """Large dark digits on a light background with light noise: easy for a person to read."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(secrets.randbits(32))
    width, height = 60 * len(code) + 40, 110
    image = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        start = (rng.randint(0, width), rng.randint(0, height))
        end = (rng.randint(0, width), rng.randint(0, height))
        draw.line([start, end], fill=(200, 200, 210), width=2)
    font = _font(72)
    for index, digit in enumerate(code):
        glyph = Image.new("RGBA", (70, 100), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((8, 4), digit, font=font, fill=(20, 30, 80, 255))
        glyph = glyph.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BICUBIC)
        image.paste(glyph, (20 + index * 60, rng.randint(0, 10)), glyph)
    image = image.filter(ImageFilter.SMOOTH)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
