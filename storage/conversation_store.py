"""Where conversation state and claimed updates are kept (the handlers' store, X4)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from storage.tables import Conversation, ProcessedUpdate
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork


def load_conversation(
    uow: UnitOfWork, channel: str, chat_id: str
) -> tuple[str, dict[str, object]] | None:
    row = uow.session.get(Conversation, (channel, chat_id))
    return None if row is None else (row.state, dict(row.data))


def save_conversation(
    uow: UnitOfWork, channel: str, chat_id: str, state: str, data: dict[str, object]
) -> None:
    """Write the state in the unit of work; the caller commits."""
    row = uow.session.get(Conversation, (channel, chat_id))
    if row is None:
        row = Conversation(channel=channel, chat_id=chat_id)
    row.state = state
    row.data = dict(data)
    row.version += 1
    row.updated_at = utc_now()
    uow.session.add(row)


def claim_update(uow: UnitOfWork, channel: str, update_id: str) -> bool:
    """Claim an update before handling it; False when it was handled already (X4).

    The claim is flushed, not committed: it commits with the effects of handling the update, so
    an update whose handling failed can be handled again.
    """
    if uow.session.get(ProcessedUpdate, (channel, update_id)) is not None:
        return False
    uow.session.add(ProcessedUpdate(channel=channel, update_id=update_id))
    try:
        uow.flush()
    except IntegrityError:
        uow.session.rollback()
        return False
    return True
