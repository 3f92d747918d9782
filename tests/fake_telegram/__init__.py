"""A fake Telegram Bot API server for end-to-end tests of the real aiogram and PTB code.

See :mod:`tests.fake_telegram.server` for how to point each framework at it.

Modules, one concept each:

* ``server`` — :class:`FakeTelegram`: HTTP server, long polling, webhook delivery,
  recording, waiting, fault injection, flood control.
* ``world`` — what Telegram holds for one bot (people, chats, messages, files, the
  update queue) and what its users do (``send_text``, ``press_button``…).
* ``bot_api`` — the Bot API methods over it, as plain functions of typed parameters.
* ``formatting`` — HTML parse mode (a port of tdlib's parser), entities, UTF-16 offsets.
* ``markup`` — ``reply_markup`` checks; ``params`` — reading the four request encodings;
  ``limits`` — flood control; ``records`` — the values tests inspect; ``errors`` — the
  error answers.
"""

from .errors import TelegramError
from .formatting import EntityParseError, parse_html, utf16_len
from .records import FakeUser, RecordedRequest, SentMessage, StoredFile, UploadedFile, Webhook
from .server import SECRET_HEADER, FakeTelegram
from .world import DEFAULT_TOKEN, UPDATE_TYPES

__all__ = [
    "DEFAULT_TOKEN",
    "SECRET_HEADER",
    "UPDATE_TYPES",
    "EntityParseError",
    "FakeTelegram",
    "FakeUser",
    "RecordedRequest",
    "SentMessage",
    "StoredFile",
    "TelegramError",
    "UploadedFile",
    "Webhook",
    "parse_html",
    "utf16_len",
]
