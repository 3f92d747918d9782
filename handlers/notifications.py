"""The words of a queued message (procedure/notifications.py), rendered for a chat (C3 pushes).

The outbox keeps what happened; the sender (bot/) asks this module for the text when it delivers.
"""

from __future__ import annotations

from datetime import date

from handlers.channel import Outgoing
from handlers.replies import button, reply
from texts import format_date


def _day(value: object) -> str:
    return format_date(date.fromisoformat(str(value))) if value else ""


def render(kind: str, data: dict[str, object]) -> Outgoing:
    """The message for one outbox row. Unknown kinds are a programming error (KeyError)."""
    values = {key: value for key, value in data.items() if value is not None}
    for key in ("due", "previous_due", "answered_on"):
        if key in values:
            values[key] = _day(values[key])
    code = str(data.get("tracking_code", ""))
    buttons = [[button("chat.push.track", f"track:{code}")]] if code else []
    return reply(f"chat.push.{kind}", buttons=buttons, **_defaults(kind, values))


def _defaults(kind: str, values: dict[str, object]) -> dict[str, object]:
    needed = {
        "petition.forwarded": ("tracking_code", "agency", "due"),
        "petition.extended": ("tracking_code", "agency", "previous_due", "due", "reason"),
        "petition.answered": ("tracking_code", "agency", "text", "answered_on"),
        "petition.answered_directly": ("tracking_code", "text", "answered_on"),
        "petition.merged": ("tracking_code", "original_tracking_code"),
        "registration.promoted": ("code",),
    }[kind]
    return {name: values.get(name, "") for name in needed}
