"""What became of a message the outbox could not deliver, where people look for it (X2).

A message a platform refuses for good is marked failed in the outbox by the sender. When the
reason is one the resident and the staff should know about (Zalo's reply window), it is also
an event: on the petition's timeline when the message was about a petition (the resident sees
it with /tracuu, staff in the audit trail), otherwise on the session or in the audit trail only.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from procedure.permissions import Actor
from procedure.use_cases.context import record_event
from storage.tables import Event, OutboxMessage, Petition
from storage.unit_of_work import UnitOfWork


def record_not_delivered(
    uow: UnitOfWork, outbox_id: int, *, channel: str, reason: str, at: datetime
) -> Event | None:
    """The event of a message not delivered (flushed, not committed: the caller commits it
    with the outbox row's failure). None if the row is gone."""
    row = uow.session.get(OutboxMessage, outbox_id)
    if row is None:
        return None
    data = dict(row.data)
    petition_id: int | None = None
    code = data.get("tracking_code")
    if isinstance(code, str) and code:
        petition_id = uow.session.exec(
            select(Petition.id).where(Petition.tracking_code == code)
        ).first()
    session_id = data.get("session_id")
    event = record_event(
        uow,
        kind="petition.not_delivered" if petition_id else "message.not_delivered",
        actor=Actor.system(),
        action=None,
        at=at,
        petition_id=petition_id,
        session_id=session_id if isinstance(session_id, int) else None,
        reason=reason,
        details={
            "outbox_id": outbox_id,
            "message_kind": row.kind,
            "person_id": row.person_id,
            "channel": channel,
        },
    )
    uow.flush()
    return event
