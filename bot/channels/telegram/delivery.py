"""Telegram's side of :meth:`Channel.send`, shared by the aiogram and python-telegram-bot shims.

:func:`render` turns one piece (see :func:`~bot.channels.telegram.text.telegram_pieces`: a text
of at most 4,096 characters, or a picture or file with a caption of at most 1,024) into the
parameters of one Bot API call: ``sendMessage``, ``sendPhoto``, ``sendDocument`` or
``sendMediaGroup`` (photos Telegram keeps, sent again by file id), in HTML parse mode (user
text in an :class:`Outgoing` is already escaped, handlers/replies.py), the keyboard as the Bot
API's ``reply_markup`` JSON. A shim only executes that call with its framework's send method and
maps the framework's errors to the shared failures of :mod:`bot.channels.base`,
with :class:`CantParseEntities` for Telegram's "can't parse entities", after which
:meth:`TelegramDelivery.send` sends the same piece once more as plain text.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from bot.channels.base import Capabilities, PermanentFailure
from bot.channels.telegram.text import MESSAGE_LIMIT, as_plain, telegram_pieces
from handlers.channel import Outgoing

log = logging.getLogger(__name__)

NAME = "telegram"
CAPABILITIES = Capabilities(
    buttons=True,
    max_buttons=100,  # Telegram's limit for an inline keyboard
    max_text=MESSAGE_LIMIT,
    share_phone=True,
    images=True,
    documents=True,
    edit=False,  # the conversations never edit a sent message
)
ParseMode = Literal["HTML"] | None
Method = Literal["sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup"]
# The Bot API's reply_markup: InlineKeyboardMarkup, ReplyKeyboardMarkup or ReplyKeyboardRemove.
ReplyMarkup = dict[str, Any]


class CantParseEntities(PermanentFailure):
    """Telegram refused the HTML of a text (400 "can't parse entities"): send it as plain text."""


@dataclass(frozen=True)
class TelegramCall:
    """One Bot API call that sends one piece."""

    method: Method
    chat_id: str
    text: str  # the message text, or the caption of a picture or file ("" for none)
    parse_mode: ParseMode = "HTML"
    reply_markup: ReplyMarkup | None = None
    file: tuple[str, bytes] | None = None  # (file name, content) of a picture or document
    # Photos Telegram keeps, by file id: one for sendPhoto (instead of ``file``), 2–10 for
    # sendMediaGroup (``text`` is the caption of the first; an album takes no keyboard).
    photo_ids: tuple[str, ...] = ()


def reply_markup(message: Outgoing) -> ReplyMarkup | None:
    """The keyboard of ``message`` as the Bot API's ``reply_markup``, or None."""
    if message.buttons:
        return {
            "inline_keyboard": [
                [{"text": b.label, "callback_data": b.data} for b in row] for row in message.buttons
            ]
        }
    if message.ask_contact:
        return {
            "keyboard": [[{"text": message.ask_contact, "request_contact": True}]],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        }
    if message.ask_location:
        return {
            "keyboard": [[{"text": message.ask_location, "request_location": True}]],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        }
    if message.remove_keyboard:
        return {"remove_keyboard": True}
    return None


def render(chat_id: str, piece: Outgoing, *, plain: bool = False) -> TelegramCall:
    """The call that sends ``piece`` (one of :func:`telegram_pieces`); ``plain``: without markup,
    after Telegram could not parse its HTML."""
    text = as_plain(piece.text) if plain else piece.text
    parse_mode: ParseMode = None if plain else "HTML"
    markup = reply_markup(piece)
    if piece.photos:
        ids = tuple(photo.file_ref for photo in piece.photos)
        caption = piece.photos[0].caption
        text = as_plain(caption) if plain else caption
        if len(ids) == 1:
            return TelegramCall("sendPhoto", chat_id, text, parse_mode, markup, photo_ids=ids)
        return TelegramCall("sendMediaGroup", chat_id, text, parse_mode, photo_ids=ids)
    if piece.image is not None:
        picture = ("anh.png", piece.image)
        return TelegramCall("sendPhoto", chat_id, text, parse_mode, markup, picture)
    if piece.document is not None:
        return TelegramCall("sendDocument", chat_id, text, parse_mode, markup, piece.document)
    return TelegramCall("sendMessage", chat_id, text, parse_mode, markup)


def seconds(value: float | timedelta) -> float:
    """A ``retry_after`` as seconds, whether the framework gives a number or a timedelta."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def is_entity_error(description: str) -> bool:
    return "can't parse entities" in description.lower()


class TelegramDelivery(ABC):
    """Sends pieces to Telegram; a shim implements :meth:`_execute` with its framework."""

    name = NAME
    capabilities = CAPABILITIES

    def pieces(self, message: Outgoing) -> list[Outgoing]:
        return telegram_pieces(message)

    async def send(self, chat_id: str, message: Outgoing) -> None:
        """Send one piece: one Bot API call, or two when its HTML is refused (then plain).

        Raises RateLimited, TransientFailure or PermanentFailure; never waits nor retries
        otherwise (the callers pace: bot/outbox_sender.py, bot/reply_sender.py). A message that
        is not one piece (a caller that did not split) is sent piece by piece."""
        pieces = self.pieces(message)
        if len(pieces) != 1:
            log.warning("a message of %s pieces given to send(); sending each", len(pieces))
            for piece in pieces:
                await self.send(chat_id, piece)
            return
        try:
            await self._execute(render(chat_id, message))
        except CantParseEntities as bad:
            log.warning("resending without markup after: %s", bad.reason)
            await self._execute(render(chat_id, message, plain=True))

    @abstractmethod
    async def _execute(self, call: TelegramCall) -> None:
        """Make ``call`` with the framework; raise the shared failures (CantParseEntities for a
        text whose HTML Telegram refused)."""
