"""Messages to people other than the current sender go through the outbox (X4): a row written in
the same transaction as the change that causes it. The words are chosen when the message is
rendered for a channel (handlers/notifications.py); here is only what happened."""

from __future__ import annotations

from sqlmodel import select

from storage.tables import OutboxMessage
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork


def enqueue(
    uow: UnitOfWork,
    *,
    person_id: int,
    kind: str,
    data: dict[str, object],
    key: str,
    transactional: bool = True,
) -> OutboxMessage | None:
    """Queue one message; a second call with the same ``key`` queues nothing (idempotent)."""
    exists = uow.session.exec(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)
    ).first()
    if exists is not None:
        return None
    now = utc_now()
    message = OutboxMessage(
        idempotency_key=key,
        person_id=person_id,
        kind=kind,
        data=data,
        transactional=transactional,
        created_at=now,
        available_at=now,
    )
    uow.session.add(message)
    return message
