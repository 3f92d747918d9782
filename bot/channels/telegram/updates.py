"""A Telegram update (the Bot API's JSON, whichever framework received it) as one Incoming."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.channel import Attachment, Contact, Incoming

CHANNEL = "telegram"


def _command(text: str, entities: list[Mapping[str, Any]]) -> tuple[str, str] | None:
    """("start", "payload") for "/start payload" when Telegram marked a bot command at 0."""
    if not text.startswith("/"):
        return None
    if entities and not any(
        e.get("type") == "bot_command" and e.get("offset") == 0 for e in entities
    ):
        return None
    head, _, payload = text.partition(" ")
    name = head[1:].split("@", 1)[0]
    if not name or not name.replace("_", "").isalnum() or not name.isascii():
        return None
    return name.lower(), payload.strip()


def incoming_from_update(update: Mapping[str, Any]) -> Incoming | None:
    """The Incoming for a message or a pressed button; None for updates we do not handle."""
    update_id = str(update["update_id"])
    callback = update.get("callback_query")
    if callback:
        return _callback(update_id, callback)
    message = update.get("message") or update.get("edited_message")
    if not message or "from" not in message:
        return None
    if "message" not in update and "location" in message:
        # A live location moving: the first point was the place; its updates are not messages.
        return None
    return _message(update_id, message)


def _callback(update_id: str, callback: Mapping[str, Any]) -> Incoming:
    message = callback.get("message") or {}
    chat = message.get("chat") or {}
    user = callback["from"]
    return Incoming(
        channel=CHANNEL,
        user_id=str(user["id"]),
        chat_id=str(chat.get("id", user["id"])),
        update_id=update_id,
        message_id=str(message["message_id"]) if "message_id" in message else None,
        button=str(callback.get("data") or ""),
        display_name=user.get("first_name"),
    )


def _message(update_id: str, message: Mapping[str, Any]) -> Incoming:
    user = message["from"]
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "user_id": str(user["id"]),
        "chat_id": str(message["chat"]["id"]),
        "update_id": update_id,
        "message_id": str(message["message_id"]),
        "display_name": user.get("first_name"),
    }
    text = message.get("text")
    if text is not None:
        command = _command(text, list(message.get("entities") or []))
        if command is not None:
            return Incoming(**base, text=text, command=command[0], payload=command[1])
        return Incoming(**base, text=text)
    if "contact" in message:
        contact = message["contact"]
        owner = contact.get("user_id")
        return Incoming(
            **base,
            contact=Contact(
                phone_number=str(contact["phone_number"]),
                user_id=str(owner) if owner is not None else None,
            ),
        )
    caption = message.get("caption")
    if message.get("photo"):
        largest = max(
            message["photo"], key=lambda size: size.get("width", 0) * size.get("height", 0)
        )
        return Incoming(
            **base,
            text=caption,
            attachment=Attachment(
                kind="photo",
                file_ref=str(largest["file_id"]),
                mime_type="image/jpeg",
            ),
        )
    if "document" in message:
        document = message["document"]
        return Incoming(
            **base,
            text=caption,
            attachment=Attachment(
                kind="document",
                file_ref=str(document["file_id"]),
                file_name=document.get("file_name"),
                mime_type=document.get("mime_type"),
            ),
        )
    place = message.get("location") or (message.get("venue") or {}).get("location")
    if isinstance(place, Mapping) and "latitude" in place and "longitude" in place:
        # A shared location (or a venue): the place of the problem (issue 13). A live location
        # is read as its first point.
        return Incoming(
            **base,
            text=caption,
            location=(float(place["latitude"]), float(place["longitude"])),
        )
    if "sticker" in message:
        return Incoming(**base, sticker=True)
    return Incoming(**base, unsupported=True)
