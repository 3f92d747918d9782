"""A conversation turn's replies as outbox rows (issue 12, X4): written in the turn's own
transaction, so a worker killed after its commit loses no reply (handlers/reply_queue.py turns
each reply into data; bot/outbox_sender.py sends the rows). Flushed, never committed: the turn
owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage import outbox_store
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork


def queue_replies(
    uow: UnitOfWork,
    *,
    person_id: int,
    channel: str,
    chat_id: str,
    key: str,
    messages: Sequence[dict[str, object]],
    now: datetime | None = None,
) -> None:
    """The replies to ``chat_id`` on ``channel``, in order, before any broadcast."""
    outbox_store.queue_replies(
        uow,
        person_id=person_id,
        channel=channel,
        chat_id=chat_id,
        key=key,
        messages=messages,
        now=now or utc_now(),
    )
