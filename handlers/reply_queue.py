"""A conversation's replies through the outbox (issue 12, X4: with several workers, a reply is
queued in the turn's own transaction, so a worker killed after the commit loses nothing).

An :class:`Outgoing` becomes JSON data for an outbox row and back, whole: its text, buttons,
reply-keyboard requests, image and document bytes (base64), photos kept by a platform and the
extra fields. The rows are sent by the one elected outbox sender (bot/outbox_sender.py), in
order per chat, before any broadcast, under the bot's one global limit.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable

from handlers.channel import Button, Incoming, Outgoing, Photo
from procedure import reply_outbox
from storage.unit_of_work import UnitOfWork

# In a queued reply's ``extra``: the number its first button has among the buttons of its turn
# (1, then on across the turn's replies). Channels that show buttons as numbered text (Zalo)
# start the chat's numbering afresh at 1, as a turn answered directly does, and go on after it.
TURN_FIRST_BUTTON = "turn_first_button"


class QueuedReplies(list[Outgoing]):
    """Replies already queued in the outbox (committed with the turn): for the channel's
    information (a menu to refresh), never to be sent by it."""


def _bytes(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def to_data(message: Outgoing) -> dict[str, object]:
    """``message`` as JSON-compatible data; :func:`from_data` gives it back equal."""
    data: dict[str, object] = {"text": message.text}
    if message.buttons:
        data["buttons"] = [[[b.label, b.data] for b in row] for row in message.buttons]
    if message.ask_contact is not None:
        data["ask_contact"] = message.ask_contact
    if message.ask_location is not None:
        data["ask_location"] = message.ask_location
    if message.remove_keyboard:
        data["remove_keyboard"] = True
    if message.image is not None:
        data["image"] = _bytes(message.image)
    if message.document is not None:
        data["document"] = [message.document[0], _bytes(message.document[1])]
    if message.photos:
        data["photos"] = [[p.channel, p.file_ref, p.caption] for p in message.photos]
    if message.extra:
        data["extra"] = dict(message.extra)
    return data


def _rows(value: object) -> Iterable[list[object]]:
    return [row for row in value if isinstance(row, list)] if isinstance(value, list) else []


def from_data(data: dict[str, object]) -> Outgoing:
    """The message :func:`to_data` wrote."""
    document = data.get("document")
    image = data.get("image")
    extra = data.get("extra")
    return Outgoing(
        text=str(data.get("text", "")),
        buttons=tuple(
            tuple(Button(label=str(pair[0]), data=str(pair[1])) for pair in _rows(row))
            for row in _rows(data.get("buttons"))
        ),
        ask_contact=str(data["ask_contact"]) if data.get("ask_contact") is not None else None,
        ask_location=str(data["ask_location"]) if data.get("ask_location") is not None else None,
        remove_keyboard=bool(data.get("remove_keyboard", False)),
        image=base64.b64decode(str(image)) if image is not None else None,
        document=(
            (str(document[0]), base64.b64decode(str(document[1])))
            if isinstance(document, list)
            else None
        ),
        photos=tuple(
            Photo(channel=str(photo[0]), file_ref=str(photo[1]), caption=str(photo[2]))
            for photo in _rows(data.get("photos"))
        ),
        extra={str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {},
    )


def queue_replies(
    uow: UnitOfWork, incoming: Incoming, person_id: int, replies: list[Outgoing]
) -> QueuedReplies:
    """Write ``replies`` to the outbox in ``uow``'s transaction (the caller commits)."""
    turn = incoming.update_id if incoming.update_id is not None else secrets.token_hex(8)
    messages: list[dict[str, object]] = []
    first = 1
    for reply in replies:
        data = to_data(reply)
        count = sum(len(row) for row in reply.buttons)
        if count:
            data["extra"] = {**reply.extra, TURN_FIRST_BUTTON: str(first)}
            first += count
        messages.append(data)
    reply_outbox.queue_replies(
        uow,
        person_id=person_id,
        channel=incoming.channel,
        chat_id=incoming.chat_id,
        key=f"{incoming.channel}:{incoming.chat_id}:{turn}",
        messages=messages,
    )
    return QueuedReplies(replies)
