"""The Bot API methods, as plain functions of typed parameters over :class:`TelegramWorld`.

Each method returns the ``result`` Telegram would send, or raises
:class:`~tests.fake_telegram.errors.TelegramError` with Telegram's status and wording.
:class:`~tests.fake_telegram.server.FakeTelegram` adds HTTP, long polling (getUpdates),
webhook delivery, recording, fault injection and flood control on top.
"""

from __future__ import annotations

import copy
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import TelegramError, bad_request, forbidden
from .formatting import check_text, format_text
from .markup import check_reply_markup, inline_part
from .params import input_file_reference
from .records import SentMessage, StoredFile, UploadedFile, Webhook
from .world import TelegramWorld, image_size, pillow_available, scope_key

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile: "files of up to 20MB in size"
UPLOAD_LIMIT = 50 * 1024 * 1024  # "50 MB for other files" sent by bots
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_QUERY_NOT_FOUND = "query is too old and response timeout expired or query ID is invalid"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)

Method = Callable[["BotApi", dict[str, Any], dict[str, UploadedFile]], Any]
F = TypeVar("F", bound=Method)
METHODS: dict[str, tuple[str, str | None]] = {"getupdates": ("getUpdates", None)}


def api_method(name: str) -> Callable[[F], F]:
    """Register a Bot API method; Telegram matches method names case-insensitively."""

    def register(function: F) -> F:
        METHODS[name.lower()] = (name, function.__name__)
        return function

    return register


def canonical_method(name: str) -> str | None:
    """``sendMessage`` for ``SENDMESSAGE``; None for a method Telegram does not have."""
    entry = METHODS.get(name.lower())
    return entry[0] if entry else None


@dataclass
class WithDescription:
    """A successful result that Telegram sends with a ``description`` (setWebhook)."""

    result: Any
    description: str


class BotApi(TelegramWorld):
    """The Bot API methods over what Telegram holds for one bot."""

    def _existing_file(self, reference: str, wanted: str) -> StoredFile:
        stored = self.files.get(reference)
        if stored is None:
            if reference.startswith(("http://", "https://")):
                return self._new_file(b"", wanted, "", source_url=reference)
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != wanted:
            raise bad_request(f"can't use file of type {stored.kind.title()} as {wanted.title()}")
        return stored

    # -- bot messages -------------------------------------------------------------------------

    def _target_chat(self, params: dict[str, Any], *, sending: bool = True) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            for chat in self.chats.values():
                if chat_id.startswith("@") and chat.get("username") == chat_id[1:]:
                    return chat
            raise bad_request("chat not found")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise bad_request("chat not found")
        chat = self.chats.get(chat_id)
        if chat is None:
            if self.strict_chats or chat_id == 0:
                raise bad_request("chat not found")
            chat = (
                self.user(chat_id, f"User {chat_id}").private_chat()
                if chat_id > 0
                else (self.group(chat_id, f"Group {chat_id}"))
            )
        if sending and chat_id in self.blocked:
            raise forbidden("bot was blocked by the user")
        return chat

    def _bot_message(self, chat: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        reply = params.get("reply_parameters") or {}
        reply_id = reply.get("message_id", params.get("reply_to_message_id"))
        allow = reply.get(
            "allow_sending_without_reply", params.get("allow_sending_without_reply", False)
        )
        replied = None
        if reply_id is not None:
            replied = self._messages.get((chat["id"], int(reply_id)))
            if replied is None and not allow:
                raise bad_request("message to be replied not found")
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": self._timestamp(),
        }
        if replied is not None:
            message["reply_to_message"] = {
                key: value for key, value in replied.items() if key != "reply_to_message"
            }
        return message

    def _keep_sent(
        self,
        method: str,
        message: dict[str, Any],
        params: dict[str, Any],
        raw_text: str | None,
        markup: dict[str, Any] | None,
        file: StoredFile | None = None,
    ) -> dict[str, Any]:
        shown = inline_part(markup)
        if shown:
            message["reply_markup"] = shown
        chat_id = int(message["chat"]["id"])
        self._messages[(chat_id, message["message_id"])] = message
        sent = SentMessage(
            chat_id=chat_id,
            message_id=message["message_id"],
            method=method,
            message=message,
            raw_text=raw_text,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            file=file,
        )
        self._sent.append(sent)
        self._sent_by_chat.setdefault(chat_id, []).append(sent)
        self._sent_by_key[(chat_id, sent.message_id)] = sent
        return copy.deepcopy(message)

    def _caption(self, params: dict[str, Any], message: dict[str, Any]) -> str | None:
        caption = params.get("caption")
        if caption is None or caption == "":
            return None
        plain, entities = format_text(
            str(caption), params.get("parse_mode"), params.get("caption_entities"), caption=True
        )
        if plain:
            message["caption"] = plain
        if entities:
            message["caption_entities"] = entities
        return str(caption)

    # -- Bot API methods ----------------------------------------------------------------------

    @api_method("getMe")
    def _get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @api_method("logOut")
    def _log_out(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    @api_method("close")
    def _close(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    @api_method("sendMessage")
    def _send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._target_chat(params)
        raw = check_text(params.get("text"))
        plain, entities = format_text(raw, params.get("parse_mode"), params.get("entities"))
        if not plain:
            raise bad_request("message text is empty")
        markup = check_reply_markup(params.get("reply_markup"))
        message = self._bot_message(chat, params)
        message["text"] = plain
        if entities:
            message["entities"] = entities
        return self._keep_sent("sendMessage", message, params, raw, markup)

    @api_method("sendPhoto")
    def _send_photo(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._target_chat(params)
        reference = input_file_reference(params, files, "photo")
        if isinstance(reference, UploadedFile):
            dims = image_size(reference.data)
            if dims is None and pillow_available():
                raise bad_request("IMAGE_PROCESS_FAILED")
            sizes = self._store_photo(reference.data, *(dims or (800, 600)))
        else:
            sizes = self._photo_sizes.get(reference) or [self._existing_file(reference, "photo")]
        message_part: dict[str, Any] = {}
        raw_caption = self._caption(params, message_part)
        markup = check_reply_markup(params.get("reply_markup"))
        message = self._bot_message(chat, params)
        message["photo"] = [size.photo_size() for size in sizes]
        message.update(message_part)
        return self._keep_sent("sendPhoto", message, params, raw_caption, markup, sizes[-1])

    @api_method("sendMediaGroup")
    def _send_media_group(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        """An album of 2–10 items (photos here), each a message of its own with one
        ``media_group_id``; captions per item; no reply_markup (the method has none)."""
        chat = self._target_chat(params)
        media = params.get("media")
        if not media:
            raise bad_request("media to send are not specified")
        if not isinstance(media, list) or not all(isinstance(item, dict) for item in media):
            raise bad_request("expected an Array of InputMedia")
        if not 2 <= len(media) <= 10:
            raise bad_request("wrong number of media specified")  # wording: ours
        prepared = []
        for item in media:
            if item.get("type") != "photo":
                raise bad_request("unsupported media type in the fake: only photos")
            reference = input_file_reference(item, files, "media")
            if isinstance(reference, UploadedFile):
                dims = image_size(reference.data) or (800, 600)
                sizes = self._store_photo(reference.data, *dims)
            else:
                kept = self._photo_sizes.get(reference)
                sizes = kept or [self._existing_file(reference, "photo")]
            part: dict[str, Any] = {}
            raw_caption = self._caption(item, part)
            prepared.append((sizes, part, raw_caption, item))
        group_id = str(10**17 + len(self._sent))
        sent = []
        for sizes, part, raw_caption, item in prepared:
            message = self._bot_message(chat, params)
            message["media_group_id"] = group_id
            message["photo"] = [size.photo_size() for size in sizes]
            message.update(part)
            sent.append(
                self._keep_sent("sendMediaGroup", message, item, raw_caption, None, sizes[-1])
            )
        return sent

    @api_method("sendDocument")
    def _send_document(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._target_chat(params)
        reference = input_file_reference(params, files, "document")
        if isinstance(reference, UploadedFile):
            if len(reference.data) > UPLOAD_LIMIT:
                raise TelegramError(413, "Request Entity Too Large")
            name = reference.filename or "document"
            mime = mimetypes.guess_type(name)[0] or reference.content_type
            stored = self._store_document(reference.data, name, mime or "application/octet-stream")
        else:
            stored = self._existing_file(reference, "document")
        message_part: dict[str, Any] = {}
        raw_caption = self._caption(params, message_part)
        markup = check_reply_markup(params.get("reply_markup"))
        message = self._bot_message(chat, params)
        message["document"] = stored.document()
        message.update(message_part)
        return self._keep_sent("sendDocument", message, params, raw_caption, markup, stored)

    def _message_to_edit(self, params: dict[str, Any]) -> SentMessage:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._target_chat(params, sending=False)
        message_id = params.get("message_id")
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            raise bad_request("message identifier is not specified")
        sent = self._sent_by_key.get((chat["id"], message_id))
        if sent is None or sent.deleted:
            if (chat["id"], message_id) in self._messages and sent is None:
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return sent

    def _apply_edit(
        self,
        sent: SentMessage,
        changes: dict[str, Any],
        markup: dict[str, Any] | None,
        params: dict[str, Any],
    ) -> dict[str, Any]:
        """Edit in place; an edit without ``reply_markup`` removes the inline keyboard."""
        before = {key: value for key, value in sent.message.items() if key != "edit_date"}
        after = copy.deepcopy(before)
        after.pop("reply_markup", None)
        for key, value in changes.items():
            if value:
                after[key] = value
            else:
                after.pop(key, None)
        shown = inline_part(markup)
        if shown:
            after["reply_markup"] = shown
        if after == before:
            raise bad_request(_NOT_MODIFIED)
        sent.history.append(sent.snapshot())
        after["edit_date"] = self._timestamp()
        sent.message.clear()
        sent.message.update(after)
        sent.reply_markup = markup
        if "parse_mode" in params:
            sent.parse_mode = params.get("parse_mode")
        return copy.deepcopy(sent.message)

    @api_method("editMessageText")
    def _edit_message_text(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        sent = self._message_to_edit(params)
        if "text" not in sent.message:
            raise bad_request("there is no text in the message to edit")
        raw = check_text(params.get("text"))
        plain, entities = format_text(raw, params.get("parse_mode"), params.get("entities"))
        if not plain:
            raise bad_request("message text is empty")
        markup = check_reply_markup(params.get("reply_markup"))
        result = self._apply_edit(sent, {"text": plain, "entities": entities}, markup, params)
        sent.raw_text = raw
        return result

    @api_method("editMessageCaption")
    def _edit_message_caption(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        sent = self._message_to_edit(params)
        if "text" in sent.message:
            raise bad_request("there is no caption in the message to edit")
        part: dict[str, Any] = {}
        raw = self._caption(params, part)
        markup = check_reply_markup(params.get("reply_markup"))
        changes = {
            "caption": part.get("caption"),
            "caption_entities": part.get("caption_entities"),
        }
        result = self._apply_edit(sent, changes, markup, params)
        sent.raw_text = raw
        return result

    @api_method("editMessageReplyMarkup")
    def _edit_message_reply_markup(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        sent = self._message_to_edit(params)
        markup = check_reply_markup(params.get("reply_markup"))
        return self._apply_edit(sent, {}, markup, params)

    @api_method("deleteMessage")
    def _delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._target_chat(params, sending=False)
        message_id = params.get("message_id")
        key = (int(chat["id"]), message_id if isinstance(message_id, int) else 0)
        if key not in self._messages:
            raise bad_request("message to delete not found")
        del self._messages[key]
        sent = self._sent_by_key.get(key)
        if sent is not None:
            sent.deleted = True
        return True

    @api_method("answerCallbackQuery")
    def _answer_callback_query(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self.callback_queries or query_id in self.callback_answers:
            raise bad_request(_QUERY_NOT_FOUND)
        self.callback_answers[query_id] = {
            key: params[key] for key in ("text", "show_alert", "url", "cache_time") if key in params
        }
        return True

    @api_method("sendChatAction")
    def _send_chat_action(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._target_chat(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat["id"], str(action)))
        return True

    @api_method("getFile")
    def _get_file(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return stored.file()

    @api_method("setMyCommands")
    def _set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        kept = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("can't parse commands JSON object")
            command = str(item.get("command", "")).removeprefix("/")
            description = str(item.get("description", ""))
            if not _COMMAND.fullmatch(command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            kept.append({"command": command, "description": description})
        key = (scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands[key] = kept
        return True

    @api_method("getMyCommands")
    def _get_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self.commands(params.get("scope"), str(params.get("language_code") or ""))

    @api_method("deleteMyCommands")
    def _delete_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        key = (scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    @api_method("setWebhook")
    def _set_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params, files)
        if not url.startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        max_connections = params.get("max_connections", 40)
        if not isinstance(max_connections, int) or not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = params.get("allowed_updates")
        if allowed is not None:
            self.allowed_updates = list(allowed)
        if params.get("drop_pending_updates"):
            self._drop_pending()
        same = self.webhook is not None and self.webhook.url == url
        self.webhook = Webhook(
            url=url,
            secret_token=str(secret) if secret is not None else None,
            max_connections=max_connections,
            ip_address=params.get("ip_address"),
            allowed_updates=list(allowed) if allowed is not None else None,
        )
        self._updates_changed()
        return WithDescription(True, "Webhook is already set" if same else "Webhook was set")

    @api_method("deleteWebhook")
    def _delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        existed = self.webhook is not None
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._updates_changed()
        return WithDescription(
            True, "Webhook was deleted" if existed else "Webhook is already deleted"
        )

    @api_method("getWebhookInfo")
    def _get_webhook_info(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        hook = self.webhook
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = hook.ip_address or "127.0.0.1"
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    def _set_text(self, params: dict[str, Any], field: str) -> bool:
        value = params.get(field)
        key = f"{field}:{params.get('language_code') or ''}"
        self.bot_texts[key] = "" if value is None else str(value)
        return True

    def _get_text(self, params: dict[str, Any], field: str) -> dict[str, str]:
        key = f"{field}:{params.get('language_code') or ''}"
        return {field: self.bot_texts.get(key, "")}

    @api_method("setMyDescription")
    def _set_my_description(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._set_text(params, "description")

    @api_method("getMyDescription")
    def _get_my_description(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._get_text(params, "description")

    @api_method("setMyShortDescription")
    def _set_my_short_description(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        return self._set_text(params, "short_description")

    @api_method("getMyShortDescription")
    def _get_my_short_description(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        return self._get_text(params, "short_description")

    @api_method("setMyName")
    def _set_my_name(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._set_text(params, "name")

    @api_method("getMyName")
    def _get_my_name(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._get_text(params, "name")

    @api_method("setChatMenuButton")
    def _set_chat_menu_button(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.bot_texts[f"menu_button:{params.get('chat_id', '')}"] = params.get(
            "menu_button", {"type": "default"}
        )
        return True

    @api_method("getChatMenuButton")
    def _get_chat_menu_button(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self.bot_texts.get(
            f"menu_button:{params.get('chat_id', '')}",
            self.bot_texts.get("menu_button:", {"type": "default"}),
        )

    def _call_method(
        self, method: str, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        """Run a registered method other than getUpdates; unknown names answer 404."""
        entry = METHODS.get(method.lower())
        if entry is None or entry[1] is None:
            raise TelegramError(404, "Not Found")
        return getattr(self, entry[1])(params, files)
