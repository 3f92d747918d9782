"""Plain values the fake keeps and hands to tests: people, chats, files, calls, messages."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user who talks to the bot. Ids may exceed 2**32, as real ones do."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "vi"
    is_bot: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        user: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def private_chat(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object of this user's private chat with the bot."""
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class StoredFile:
    """A file Telegram keeps: sent by a user or uploaded by the bot; served by getFile."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    kind: str  # "photo" or "document"
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    source_url: str | None = None

    @property
    def file_size(self) -> int:
        return len(self.data)

    def photo_size(self) -> dict[str, Any]:
        """The Bot API ``PhotoSize`` object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "width": self.width or 0,
            "height": self.height or 0,
        }

    def document(self) -> dict[str, Any]:
        """The Bot API ``Document`` object."""
        document: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.file_name:
            document["file_name"] = self.file_name
        if self.mime_type:
            document["mime_type"] = self.mime_type
        return document

    def file(self) -> dict[str, Any]:
        """The Bot API ``File`` object that getFile returns."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


_request_numbers = itertools.count(1)


@dataclass
class RecordedRequest:
    """One call the bot made, successful or not."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    http_method: str = "POST"
    content_type: str = ""
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)
    number: int = field(default_factory=lambda: next(_request_numbers))

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return self.response.get("result")

    def upload(self, field_name: str) -> UploadedFile | None:
        """The file sent for ``field_name``, directly or as ``attach://<name>``."""
        value = self.params.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value.removeprefix("attach://"))
        return self.files.get(field_name)


def _buttons(markup: dict[str, Any] | None, key: str) -> list[dict[str, Any]]:
    if not markup:
        return []
    return [
        button if isinstance(button, dict) else {"text": str(button)}
        for row in markup.get(key) or []
        for button in row
    ]


def inline_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The buttons of an inline keyboard, rows flattened."""
    return _buttons(markup, "inline_keyboard")


@dataclass
class SentMessage:
    """A message the bot sent, kept up to date when the bot edits or deletes it."""

    chat_id: int
    message_id: int
    method: str
    message: dict[str, Any]
    raw_text: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    file: StoredFile | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    @property
    def text(self) -> str | None:
        """What the user reads: text or caption, markup removed, HTML entities decoded."""
        return self.message.get("text", self.message.get("caption"))

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.message.get("entities", self.message.get("caption_entities", [])))

    @property
    def edited(self) -> bool:
        return bool(self.history)

    @property
    def inline_buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons, row by row flattened."""
        return _buttons(self.reply_markup, "inline_keyboard")

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.inline_buttons if "callback_data" in b]

    @property
    def keyboard_buttons(self) -> list[dict[str, Any]]:
        """Reply keyboard buttons (``KeyboardButton``), flattened."""
        return _buttons(self.reply_markup, "keyboard")

    @property
    def button_texts(self) -> list[str]:
        return [b["text"] for b in self.inline_buttons + self.keyboard_buttons]

    @property
    def requests_contact(self) -> bool:
        """A "share my phone number" keyboard came with this message."""
        return any(b.get("request_contact") for b in self.keyboard_buttons)

    @property
    def requests_location(self) -> bool:
        """A "share my location" keyboard came with this message."""
        return any(b.get("request_location") for b in self.keyboard_buttons)

    @property
    def removes_keyboard(self) -> bool:
        return bool(self.reply_markup and self.reply_markup.get("remove_keyboard"))

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(self.message)


@dataclass
class ScheduledFailure:
    """An error :meth:`FakeTelegram.fail_next` arranged for the next matching calls."""

    method: str  # lower case, or "*" for any method but getUpdates
    error_code: int
    description: str
    parameters: dict[str, Any] | None
    times: int
    chat_id: int | str | None = None

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.times <= 0:
            return False
        if self.method == "*":
            if method == "getupdates":
                return False
        elif self.method != method:
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id


@dataclass
class Webhook:
    """The webhook setting of the bot, as getWebhookInfo reports it."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    deliveries: int = 0
    failures: int = 0
