"""What Telegram holds for one bot: people, chats, messages, files and the update queue.

:class:`TelegramWorld` knows nothing of HTTP nor of Bot API methods. The users act on it
(``send_text``, ``press_button``…: the updates Telegram would queue), the Bot API methods
(:mod:`tests.fake_telegram.bot_api`) read and change it, and tests inspect it
(``sent_messages``, ``pending_updates``, ``files``…).
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .formatting import bot_command_entities
from .records import FakeUser, SentMessage, StoredFile, Webhook, inline_buttons

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl"
_TOKEN = re.compile(r"(\d+):[\w-]+")

UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# "Specify an empty list to receive all update types except chat_member, message_reaction,
# and message_reaction_count (default)."
DEFAULT_UPDATE_TYPES = frozenset(UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
PHOTO_SIDES = (90, 320, 800, 1280)


def bot_id_of(token: str) -> int:
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise ValueError(f"not a bot token: {token!r}")
    return int(match.group(1))


def is_well_formed_token(token: str) -> bool:
    return _TOKEN.fullmatch(token) is not None


def update_type(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of an image, or None when Pillow cannot read it."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - pillow is a dependency of the project
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def pillow_available() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


@dataclass
class QueuedUpdate:
    update: dict[str, Any]
    replay: bool = False
    delivered: int = 0

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


class TelegramWorld:
    """What Telegram holds for one bot, and what its users do."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "doithoai_test_bot",
        bot_first_name: str = "Đối thoại (test)",
        strict_chats: bool = False,
        first_update_id: int = 1,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_id = bot_id_of(token)
        self.bot_username = bot_username
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.strict_chats = strict_chats
        self._now = now
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self._message_ids: dict[int, int] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._sent: list[SentMessage] = []
        self._sent_by_key: dict[tuple[int, int], SentMessage] = {}
        self._sent_by_chat: dict[int, list[SentMessage]] = {}
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._photo_sizes: dict[str, list[StoredFile]] = {}
        self._file_numbers = itertools.count(1)
        self._queue: list[QueuedUpdate] = []
        self.updates: dict[int, dict[str, Any]] = {}
        self.dropped_updates: list[dict[str, Any]] = []
        self.delivery_counts: Counter[int] = Counter()
        self._next_update_id = first_update_id
        self.allowed_updates: list[str] | None = None
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook: Webhook | None = None
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self._callback_numbers = itertools.count(4_200_000_000_000_000_001)
        self.chat_actions: list[tuple[int, str]] = []
        self.bot_texts: dict[str, Any] = {}

    # -- hooks for the server -------------------------------------------------------------

    def _updates_changed(self) -> None:
        """Called whenever the update queue or the webhook changes."""

    def _timestamp(self) -> int:
        return int(self._now())

    # -- people and chats --------------------------------------------------------------------

    def user(
        self,
        id: int,
        first_name: str = "Người dùng",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
    ) -> FakeUser:
        """A user who has a private chat with the bot (chat id == user id)."""
        person = FakeUser(id, first_name, last_name, username, language_code)
        self.users[id] = person
        self.chats[id] = person.private_chat()
        return person

    def group(self, id: int, title: str = "Nhóm", *, type: str | None = None) -> dict[str, Any]:
        """A group the bot is in; ids like ``-100…`` are supergroups."""
        kind = type or ("supergroup" if str(id).startswith("-100") else "group")
        chat = {"id": id, "type": kind, "title": title}
        self.chats[id] = chat
        return chat

    def block(self, user: FakeUser | int) -> None:
        """The user blocks the bot: sending to them answers 403."""
        self.blocked.add(self._as_user(user).id)

    def unblock(self, user: FakeUser | int) -> None:
        self.blocked.discard(self._as_user(user).id)

    def _as_user(self, user: FakeUser | int) -> FakeUser:
        if isinstance(user, FakeUser):
            if user.id not in self.users:
                self.users[user.id] = user
                self.chats.setdefault(user.id, user.private_chat())
            return user
        if user not in self.users:
            return self.user(user, f"User {user}")
        return self.users[user]

    def _chat_of(self, user: FakeUser, chat_id: int | None) -> dict[str, Any]:
        if chat_id is None or chat_id == user.id:
            return self.chats.setdefault(user.id, user.private_chat())
        return self.chats.get(chat_id) or self.group(chat_id)

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    # -- users act: updates ------------------------------------------------------------------

    def _enqueue(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        return self._queue_update(update)

    def _queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        self.updates[int(update["update_id"])] = update
        allowed = set(self.allowed_updates or ()) or DEFAULT_UPDATE_TYPES
        if update_type(update) not in allowed:
            self.dropped_updates.append(update)
        else:
            self._queue.append(QueuedUpdate(update))
            self._updates_changed()
        return copy.deepcopy(update)

    def _incoming_message(
        self, user: FakeUser | int, chat_id: int | None, content: dict[str, Any]
    ) -> dict[str, Any]:
        person = self._as_user(user)
        chat = self._chat_of(person, chat_id)
        message = {
            "message_id": self._next_message_id(chat["id"]),
            "from": person.to_dict(),
            "chat": dict(chat),
            "date": self._timestamp(),
            **content,
        }
        self._messages[(chat["id"], message["message_id"])] = message
        return self._enqueue({"message": message})

    def send_text(
        self,
        user: FakeUser | int,
        text: str,
        chat_id: int | None = None,
        *,
        reply_to: SentMessage | dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The user writes ``text``, in their private chat unless ``chat_id``; returns the update.

        Commands get ``bot_command`` entities, as Telegram adds them.
        """
        content: dict[str, Any] = {"text": text}
        entities = bot_command_entities(text)
        if entities:
            content["entities"] = entities
        if reply_to is not None:
            replied = reply_to.message if isinstance(reply_to, SentMessage) else reply_to
            content["reply_to_message"] = copy.deepcopy(replied)
        return self._incoming_message(user, chat_id, content)

    def send_command(
        self,
        user: FakeUser | int,
        command: str,
        payload: str | None = None,
        chat_id: int | None = None,
        *,
        mention: bool = False,
    ) -> dict[str, Any]:
        """``/start`` or ``/start PAYLOAD`` (a deep link); ``mention`` adds ``@botname``."""
        text = "/" + command.lstrip("/")
        if mention:
            text += f"@{self.bot_username}"
        if payload:
            text += f" {payload}"
        return self.send_text(user, text, chat_id)

    def send_contact(
        self,
        user: FakeUser | int,
        phone_number: str,
        contact_user_id: int | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """The user shares a contact; by default their own (the "share my phone" button)."""
        person = self._as_user(user)
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or person.first_name,
            "user_id": person.id if contact_user_id is None else contact_user_id,
        }
        if last_name or (first_name is None and person.last_name):
            contact["last_name"] = last_name or person.last_name
        return self._incoming_message(person, chat_id, {"contact": contact})

    def send_location(
        self,
        user: FakeUser | int,
        latitude: float,
        longitude: float,
        chat_id: int | None = None,
        *,
        horizontal_accuracy: float | None = None,
    ) -> dict[str, Any]:
        """The user shares a location (the attach menu, or a ``request_location`` button)."""
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        return self._incoming_message(user, chat_id, {"location": location})

    def send_photo(
        self,
        user: FakeUser | int,
        data: bytes,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """The user sends a photo; getFile and the file URL then serve ``data``."""
        width, height = image_size(data) or (800, 600)
        sizes = self._store_photo(data, width, height)
        content: dict[str, Any] = {"photo": [size.photo_size() for size in sizes]}
        if caption:
            content["caption"] = caption
        return self._incoming_message(user, chat_id, content)

    def send_document(
        self,
        user: FakeUser | int,
        data: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """The user sends a file; getFile and the file URL then serve ``data``."""
        stored = self._store_document(data, file_name, mime_type)
        content: dict[str, Any] = {"document": stored.document()}
        if caption:
            content["caption"] = caption
        return self._incoming_message(user, chat_id, content)

    def press_button(
        self,
        user: FakeUser | int,
        message: SentMessage | dict[str, Any],
        data: str,
        *,
        check: bool = True,
    ) -> dict[str, Any]:
        """The user presses the inline button with ``callback_data == data`` under ``message``.

        ``message`` is a message the bot sent (a :class:`SentMessage` or its ``Message``
        dict). With ``check`` the button must be on the message as it is now.
        """
        person = self._as_user(user)
        if isinstance(message, SentMessage):
            key = (message.chat_id, message.message_id)
        else:
            key = (int(message["chat"]["id"]), int(message["message_id"]))
        sent = self._sent_by_key.get(key)
        if sent is None:
            raise ValueError(f"the bot sent no message {key[1]} in chat {key[0]}")
        if check:
            if sent.deleted:
                raise ValueError(f"message {key[1]} in chat {key[0]} was deleted")
            buttons = inline_buttons(sent.message.get("reply_markup"))
            if data not in [button.get("callback_data") for button in buttons]:
                raise ValueError(
                    f"no inline button with callback_data {data!r} under message {key[1]}; "
                    f"buttons: {buttons}"
                )
        query_id = str(next(self._callback_numbers))
        query = {
            "id": query_id,
            "from": person.to_dict(),
            "message": sent.snapshot(),
            "chat_instance": str(abs(key[0]) * 2654435761 % 2**63),
            "data": data,
        }
        self.callback_queries[query_id] = query
        return self._enqueue({"callback_query": query})

    def inject_raw(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue any update as given; ``update_id`` is assigned when missing."""
        raw = copy.deepcopy(update)
        if "update_id" not in raw:
            raw = {"update_id": self._next_update_id, **raw}
        self._next_update_id = max(self._next_update_id, int(raw["update_id"]) + 1)
        return self._queue_update(raw)

    def replay(self, update_id: int) -> dict[str, Any]:
        """Deliver an update again, with the same ``update_id`` (as after a lost answer).

        In polling it is returned by the next getUpdates whatever the offset; in webhook
        mode it is POSTed again.
        """
        if update_id not in self.updates:
            raise ValueError(f"no update {update_id}")
        again = copy.deepcopy(self.updates[update_id])
        self._queue.append(QueuedUpdate(again, replay=True))
        self._updates_changed()
        return copy.deepcopy(again)

    # -- the update queue ---------------------------------------------------------------------

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed (polling) or acknowledged (webhook)."""
        return [copy.deepcopy(entry.update) for entry in self._ordered_queue()]

    def _ordered_queue(self) -> list[QueuedUpdate]:
        return sorted(self._queue, key=lambda entry: entry.update_id)

    def _confirm_updates(self, offset: int | None) -> None:
        """getUpdates' ``offset``: forget updates below it (or all but the last -offset)."""
        if offset is None:
            return
        fresh = [entry for entry in self._ordered_queue() if not entry.replay]
        if offset < 0:
            keep = {id(entry) for entry in fresh[offset:]}
        else:
            keep = {id(entry) for entry in fresh if entry.update_id >= offset}
        self._queue = [
            entry
            for entry in self._queue
            if id(entry) in keep or (entry.replay and not entry.delivered)
        ]

    def _take_updates(self, limit: int) -> list[dict[str, Any]]:
        """The first ``limit`` queued updates, counted as delivered."""
        batch = self._ordered_queue()[:limit]
        for entry in batch:
            entry.delivered += 1
            self.delivery_counts[entry.update_id] += 1
        return [entry.update for entry in batch]

    def _next_for_webhook(self) -> QueuedUpdate | None:
        queue = self._ordered_queue()
        return queue[0] if queue else None

    def _acknowledged(self, entry: QueuedUpdate) -> None:
        self._queue = [other for other in self._queue if other is not entry]

    def _drop_pending(self) -> None:
        self._queue.clear()

    # -- files --------------------------------------------------------------------------------

    def _new_file(self, data: bytes, kind: str, suffix: str, **details: Any) -> StoredFile:
        number = next(self._file_numbers)
        prefix = "AgACAgIAAxkBAAI" if kind == "photo" else "BQACAgIAAxkBAAI"
        stored = StoredFile(
            file_id=f"{prefix}{number:08d}fake{self.bot_id}",
            file_unique_id=f"AQAD{number:08d}",
            data=data,
            file_path=f"{kind}s/file_{number}{suffix}",
            kind=kind,
            **details,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _store_photo(self, data: bytes, width: int, height: int) -> list[StoredFile]:
        """Telegram keeps a photo in several sizes (side ≤ 90, 320, 800, 1280)."""
        sizes: list[StoredFile] = []
        longest = max(width, height, 1)
        for side in PHOTO_SIDES:
            scale = min(1.0, side / longest)
            dims = (max(1, round(width * scale)), max(1, round(height * scale)))
            if not sizes or (sizes[-1].width, sizes[-1].height) != dims:
                sizes.append(self._new_file(data, "photo", ".jpg", width=dims[0], height=dims[1]))
            if scale == 1.0:
                break
        for size in sizes:
            self._photo_sizes[size.file_id] = sizes
        return sizes

    def _store_document(
        self, data: bytes, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        return self._new_file(data, "document", suffix, file_name=file_name, mime_type=mime_type)

    def file_bytes(self, file_id: str) -> bytes:
        """The content of a stored file (sent by a user or uploaded by the bot)."""
        return self.files[file_id].data

    # -- what the bot sent, for tests ------------------------------------------------------

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent, oldest first, as they are now (after edits and deletions)."""
        if chat_id is None:
            return list(self._sent)
        return list(self._sent_by_chat.get(chat_id, ()))

    def last_message(self, chat_id: int | None = None) -> SentMessage:
        sent = self.sent_messages(chat_id)
        if not sent:
            raise LookupError(f"the bot sent nothing to chat {chat_id}")
        return sent[-1]

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """The command list setMyCommands stored for a scope and language."""
        return copy.deepcopy(self._commands.get((scope_key(scope), language_code), []))


def scope_key(scope: Any) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True, ensure_ascii=False)
