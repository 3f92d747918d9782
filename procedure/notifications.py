"""Messages to people other than the current sender go through the outbox (X4): a row written in
the same transaction as the change that causes it. The words are chosen when the message is
rendered for a channel (handlers/notifications.py); here is only what happened."""

from __future__ import annotations

from sqlmodel import col, select

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


def enqueue_many(
    uow: UnitOfWork,
    messages: list[tuple[int, str]],
    *,
    kind: str,
    data: dict[str, object],
    transactional: bool = True,
) -> int:
    """Queue the same message for many people, given as (person_id, idempotency key) pairs; keys
    already queued are skipped. One query for the check, one insert for the rows: an invitation
    to ten thousand followers stays one short transaction."""
    keys = [key for _, key in messages]
    existing: set[str] = set()
    for start in range(0, len(keys), 900):
        chunk = keys[start : start + 900]
        existing.update(
            uow.session.exec(
                select(OutboxMessage.idempotency_key).where(
                    col(OutboxMessage.idempotency_key).in_(chunk)
                )
            ).all()
        )
    now = utc_now()
    rows = [
        OutboxMessage(
            idempotency_key=key,
            person_id=person_id,
            kind=kind,
            data=data,
            transactional=transactional,
            created_at=now,
            available_at=now,
        )
        for person_id, key in messages
        if key not in existing
    ]
    uow.session.add_all(rows)
    return len(rows)
