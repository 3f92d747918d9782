"""The words of a queued message (procedure/notifications.py), rendered for a chat.

The outbox keeps what happened; the sender (bot/) asks :func:`render` for the message when it
delivers. Simple kinds are a catalogue entry ``chat.push.<kind>`` filled with the row's data;
kinds with lists (digests, notices with opinions) register a renderer of their own with
:func:`renderer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from handlers.channel import Outgoing
from handlers.replies import button, reply
from texts import format_date

Renderer = Callable[[dict[str, object]], Outgoing]
RENDERERS: dict[str, Renderer] = {}
DATE_FIELDS = ("due", "previous_due", "answered_on", "day", "latest")


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    def register(function: Renderer) -> Renderer:
        RENDERERS[kind] = function
        return function

    return register


def day(value: object) -> str:
    """An ISO date from an outbox row as ``Thứ Hai, 16/03/2026``."""
    return format_date(date.fromisoformat(str(value))) if value else ""


def render(kind: str, data: dict[str, object]) -> Outgoing:
    """The message for one outbox row. An unknown kind is a programming error (KeyError)."""
    import handlers.push  # noqa: F401  (registers the renderers of kinds with lists)

    message = _render(kind, data)
    # The kind and the simple fields travel along, for a channel that sends status notices
    # by an approved template (Zalo OA outside its reply window).
    fields = {key: str(value) for key, value in data.items() if isinstance(value, str | int)}
    return replace(message, extra={**fields, "kind": kind, **message.extra})


def _render(kind: str, data: dict[str, object]) -> Outgoing:
    special = RENDERERS.get(kind)
    if special is not None:
        return special(data)
    return plain(kind, data)


def plain(kind: str, data: dict[str, object]) -> Outgoing:
    """The catalogue entry ``chat.push.<kind>`` filled with the row's data, dates shown."""
    values = {key: ("" if value is None else value) for key, value in data.items()}
    for key in DATE_FIELDS:
        if key in values:
            values[key] = day(values[key])
    code = str(data.get("tracking_code", "") or "")
    buttons = [[button("chat.push.track", f"track:{code}")]] if code else []
    return reply(f"chat.push.{kind}", buttons=buttons, **values)
