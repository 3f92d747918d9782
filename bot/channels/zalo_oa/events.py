"""Zalo OA webhook events (Open API v3) as the conversations' :class:`Incoming`.

Every id and the ``timestamp`` are strings (epoch milliseconds). ``follow`` and ``unfollow`` name
the user in ``follower`` instead of ``sender``. A tapped ``oa.query.show`` button arrives as a
``user_send_text`` whose text is the button's payload: the channel maps it back to our button."""

from __future__ import annotations

import hashlib
from typing import Any

from handlers.channel import Attachment, Contact, Incoming

CHANNEL = "zalo_oa"
# Events about the user's own device or our echoes: nothing to answer.
IGNORED_PREFIXES = ("oa_send_", "user_received_", "user_seen_", "user_reacted_")
UNSUPPORTED = {
    "user_send_audio",
    "user_send_video",
    "user_send_gif",
    "user_send_link",
    "user_send_business_card",
}


def user_of(payload: dict[str, Any]) -> str:
    for key in ("sender", "follower", "user"):
        value = payload.get(key)
        if isinstance(value, dict) and value.get("id"):
            return str(value["id"])
    return str(payload.get("user_id_by_app") or "")


def event_id(payload: dict[str, Any]) -> str:
    """``message.msg_id`` when the event has one, otherwise an id derived from what identifies
    the event (name, user, timestamp), so a redelivery gets the same id."""
    message = payload.get("message")
    if isinstance(message, dict) and message.get("msg_id"):
        return str(message["msg_id"])[:64]
    basis = f"{payload.get('event_name')}|{user_of(payload)}|{payload.get('timestamp')}"
    return "d:" + hashlib.sha256(basis.encode()).hexdigest()[:40]


def _first_attachment(message: dict[str, Any]) -> dict[str, Any]:
    attachments = message.get("attachments")
    if isinstance(attachments, list) and attachments and isinstance(attachments[0], dict):
        return attachments[0]
    return {}


def location_of(attachment: dict[str, Any]) -> tuple[float, float] | None:
    """Coordinates as ``{latitude, longitude}`` (most sources) or ``{lat, long}`` (some code)."""
    payload = attachment.get("payload")
    if not isinstance(payload, dict):
        return None
    place = payload.get("coordinates") if isinstance(payload.get("coordinates"), dict) else payload
    assert isinstance(place, dict)
    latitude = place.get("latitude", place.get("lat"))
    longitude = place.get("longitude", place.get("long", place.get("lng")))
    try:
        return float(latitude), float(longitude)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def phone_e164_like(phone: str) -> str:
    """Zalo gives ``849…``; the conversations read ``+849…``."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "+" + digits if digits.startswith("84") else phone


def command_of(text: str) -> tuple[str, str] | None:
    """("start", "abc") for "/start abc"."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, payload = text.partition(" ")
    name = head[1:]
    if not name.replace("_", "").isalnum():
        return None
    return name.lower(), payload.strip()


def incoming_from_event(payload: dict[str, Any]) -> Incoming | None:
    """The update for the conversations, or None for events that need no answer. A text is
    returned as text; mapping it to a button shown before is the channel's business."""
    name = str(payload.get("event_name") or "")
    user = user_of(payload)
    if not user or name.startswith(IGNORED_PREFIXES) or name == "unfollow":
        return None
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "user_id": user,
        "chat_id": user,
        "update_id": event_id(payload),
        # Pictures reach an OA chat: uploaded, then sent as a media message (channel.py).
        "shows_images": True,
    }
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    assert isinstance(message, dict)
    if message.get("msg_id"):
        base["message_id"] = str(message["msg_id"])
    if name == "follow":
        return Incoming(**base, command="start")
    if name == "user_send_text":
        text = str(message.get("text") or "")
        command = command_of(text)
        if command is not None:
            return Incoming(**base, text=text, command=command[0], payload=command[1])
        return Incoming(**base, text=text)
    if name == "user_submit_info":
        info = payload.get("info") if isinstance(payload.get("info"), dict) else {}
        assert isinstance(info, dict)
        phone = str(info.get("phone") or "")
        if not phone:
            return Incoming(**base, unsupported=True)
        # Zalo shares the phone of the account that submits it: the sender's own number.
        return Incoming(
            **base,
            contact=Contact(phone_number=phone_e164_like(phone), user_id=user),
            display_name=str(info.get("name") or "") or None,
        )
    attachment = _first_attachment(message)
    caption = str(message.get("text") or "") or None
    if name in {"user_send_image", "user_send_file"}:
        inner = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
        assert isinstance(inner, dict)
        url = str(inner.get("url") or inner.get("thumbnail") or "")
        if not url:
            return Incoming(**base, unsupported=True)
        kind = "photo" if name == "user_send_image" else "document"
        return Incoming(
            **base,
            text=caption,
            attachment=Attachment(
                kind=kind,
                file_ref=url[:400],
                file_name=str(inner.get("name") or "") or None,
                mime_type=str(inner.get("type") or "") or None,
            ),
        )
    if name == "user_send_location":
        # The place of the problem, for the petition being written (issue 13).
        place = location_of(attachment)
        if place is None:
            return Incoming(**base, unsupported=True)
        return Incoming(**base, location=place)
    if name == "user_send_sticker":
        return Incoming(**base, sticker=True)
    if name in UNSUPPORTED or name.startswith("user_send_"):
        return Incoming(**base, unsupported=True)
    return None
