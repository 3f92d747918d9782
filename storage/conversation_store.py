"""Where conversation state and claimed updates are kept (the handlers' store, X4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from storage.tables import Conversation, ProcessedUpdate, TrackingMiss
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


def recent_tracking_misses(
    uow: UnitOfWork, person_id: int, channel: str, external_user_id: str, since: datetime
) -> int:
    """Misses since ``since`` by this person, or from this channel account (whoever it maps to)."""
    query = (
        select(func.count())
        .select_from(TrackingMiss)
        .where(col(TrackingMiss.at) >= since)
        .where(
            or_(
                col(TrackingMiss.person_id) == person_id,
                and_(
                    col(TrackingMiss.channel) == channel,
                    col(TrackingMiss.external_user_id) == external_user_id,
                ),
            )
        )
    )
    return int(uow.session.exec(query).one())


def record_tracking_miss(
    uow: UnitOfWork,
    person_id: int,
    channel: str,
    external_user_id: str,
    at: datetime,
    forget_before: datetime,
) -> None:
    """Keep one miss, and forget this person's misses older than ``forget_before``."""
    uow.session.exec(
        delete(TrackingMiss)
        .where(col(TrackingMiss.person_id) == person_id)
        .where(col(TrackingMiss.at) < forget_before)
    )
    uow.session.add(
        TrackingMiss(person_id=person_id, channel=channel, external_user_id=external_user_id, at=at)
    )
