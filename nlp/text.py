"""Text as residents type it: normalised for storage, folded for checks and search.

``normalise`` is the only transformation applied to what is stored (X4: the resident's own
wording survives); ``fold_tone_placement`` and ``strip_diacritics`` build keys for comparison
and search and are never written back.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from nlp.orthography import parse, render

_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_SPACES = re.compile(r"[^\S\n\t]+")
_WORD = re.compile(r"[^\W\d_]+")
_WORD_OR_NUMBER = re.compile(r"[^\W_]+")
_KEEP = frozenset("\n\t")


def _visible(char: str) -> bool:
    # Control (Cc) and format (Cf) characters: zero-width space/joiners (U+200B..U+200D),
    # word joiner (U+2060), byte-order mark (U+FEFF), soft hyphen, bidi overrides.
    return char in _KEEP or unicodedata.category(char) not in {"Cc", "Cf"}


def normalise(text: str) -> str:
    """NFC; no zero-width, format or control characters (newline and tab stay); one space.

    Runs of spaces (any Unicode space, e.g. no-break space) become one space; spaces at the
    start and end of each line and blank space around the whole text are dropped. Everything
    else, including the resident's spelling, case and punctuation, is kept.
    """
    text = unicodedata.normalize("NFC", _LINE_BREAKS.sub("\n", text))
    if text.isprintable():
        pass  # no control, format or line-break characters: nothing to drop (the usual case)
    elif not text.isascii():
        text = "".join(char for char in text if _visible(char))
    else:
        text = "".join(char for char in text if char in _KEEP or " " <= char != "\x7f")
    lines = (_SPACES.sub(" ", line).strip(" ") for line in text.split("\n"))
    return "\n".join(lines).strip()


def _fold_word(match: re.Match[str]) -> str:
    return _folded(match.group())


@lru_cache(maxsize=1 << 16)
def _folded(word: str) -> str:
    """One word with its tone mark placed the new way (a few thousand distinct words make most
    text, so each is parsed once: folding the 25,000 lines of nlp/data took 4.9 s uncached)."""
    parsed = parse(word.lower())
    if parsed is None or not parsed.tone:
        return word
    folded = render(parsed)
    return "".join(
        new.upper() if old.isupper() else new for old, new in zip(word, folded, strict=True)
    )


def fold_tone_placement(text: str) -> str:
    """Put every tone mark where the new style puts it, so both spellings compare equal.

    ``hòa`` -> ``hoà``, ``thúy`` -> ``thuý``, ``khỏe`` -> ``khoẻ``, ``Qúy`` -> ``Quý``; case is
    kept and words that are not Vietnamese syllables are left alone. NFD input is composed
    first. For checks and search only: never rewrite the stored text with it.
    """
    return _WORD.sub(_fold_word, unicodedata.normalize("NFC", text))


def strip_diacritics(text: str) -> str:
    """Drop every diacritic (tone marks, hats, horns, other accents) and write đ/Đ as d/D."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return unicodedata.normalize("NFC", bare.replace("đ", "d").replace("Đ", "D"))


def bare_words(text: str) -> list[str]:
    """The words and numbers of ``text`` as people type them: without diacritics, in lower case,
    emoji and punctuation dropped ("✉️ Gửi ý kiến!" gives ``["gui", "y", "kien"]``)."""
    return _WORD_OR_NUMBER.findall(strip_diacritics(text).lower())
