"""Telegram's limits on text: 4,096 characters a message, 1,024 a caption; HTML kept valid
across the pieces of a long message; a plain fallback when Telegram cannot parse the entities."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from handlers.channel import Outgoing, Photo

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
MEDIA_GROUP_LIMIT = 10  # sendMediaGroup takes 2 to 10 items
CHANNEL = "telegram"
_TAG = re.compile(r"<(/?)(b|i|u|s|code|pre)>")


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line ends or spaces where possible, with
    every tag that is open at a cut closed before it and opened again after it."""
    pieces: list[str] = []
    open_tags: list[str] = []
    rest = text
    while rest:
        prefix = "".join(f"<{tag}>" for tag in open_tags)
        budget = limit - len(prefix) - sum(len(tag) + 3 for tag in open_tags) - 16
        if len(prefix) + len(rest) <= limit and not open_tags:
            pieces.append(rest)
            break
        if len(prefix) + len(rest) + sum(len(tag) + 3 for tag in open_tags) <= limit:
            pieces.append(prefix + rest)
            break
        cut = _cut_point(rest, budget)
        chunk, rest = rest[:cut], rest[cut:].lstrip(" ")
        tags = list(open_tags)
        for closing, name in _TAG.findall(chunk):
            if closing:
                if name in tags:
                    tags.remove(name)
            else:
                tags.append(name)
        suffix = "".join(f"</{tag}>" for tag in reversed(tags))
        pieces.append(prefix + chunk + suffix)
        open_tags = tags
    return pieces


def _cut_point(text: str, budget: int) -> int:
    window = text[:budget]
    for separator in ("\n", " "):
        position = window.rfind(separator)
        if position > budget // 2:
            cut = position + 1
            break
    else:
        cut = budget
    # Never cut inside a tag or an entity such as &amp;
    for pattern in (r"<[^>]*$", r"&[a-z#0-9]*$"):
        dangling = re.search(pattern, text[:cut])
        if dangling:
            cut = dangling.start()
    return max(cut, 1)


def as_plain(text: str) -> str:
    """The text without markup, for a resend after "can't parse entities"."""
    return html.unescape(_TAG.sub("", text))


def telegram_pieces(message: Outgoing) -> list[Outgoing]:
    """How the Telegram adapters' ``deliver`` cuts a message: the picture or file with the first
    part of the text as its caption, or the text in pieces; the buttons go with the last piece
    of a text and with the upload. Photos Telegram keeps (:class:`Photo` of this channel) follow
    as pieces of their own: one photo, or an album of up to 10 (one per petition)."""
    if (
        len(message.text) <= MESSAGE_LIMIT
        and not message.photos
        and message.image is None
        and message.document is None
    ):
        return [message]  # most replies: one text that fits (split_html would say the same)
    if not message.photos:
        return _message_pieces(message)
    # An album is a piece without text: its caption is its first photo's.
    albums = [Outgoing(text="", photos=album) for album in photo_albums(message)]
    if not message.text and not albums:
        return []
    main = _message_pieces(replace(message, photos=())) if message.text else []
    return [*main, *albums]


def photo_albums(message: Outgoing) -> list[tuple[Photo, ...]]:
    """The photos Telegram holds, in albums of at most 10; a photo with a caption (the next
    petition's) starts a new album. Photos other platforms hold are left out."""
    albums: list[list[Photo]] = []
    for photo in message.photos:
        if photo.channel != CHANNEL:
            continue
        if not albums or len(albums[-1]) >= MEDIA_GROUP_LIMIT or photo.caption:
            albums.append([])
        albums[-1].append(photo)
    return [tuple(album) for album in albums]


def _message_pieces(message: Outgoing) -> list[Outgoing]:
    if message.image is not None or message.document is not None:
        caption, *rest = split_html(message.text, CAPTION_LIMIT) if message.text else [""]
        first = Outgoing(
            text=caption,
            buttons=message.buttons,
            ask_contact=message.ask_contact,
            ask_location=message.ask_location,
            remove_keyboard=message.remove_keyboard,
            image=message.image,
            document=message.document,
        )
        return [first, *(Outgoing(text=piece) for piece in rest)]
    texts = split_html(message.text)
    if len(texts) <= 1:
        return [message]
    last = Outgoing(
        text=texts[-1],
        buttons=message.buttons,
        ask_contact=message.ask_contact,
        ask_location=message.ask_location,
        remove_keyboard=message.remove_keyboard,
    )
    return [*(Outgoing(text=piece) for piece in texts[:-1]), last]
