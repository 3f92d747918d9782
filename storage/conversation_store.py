"""Where conversation state and claimed updates are kept (the handlers' store, X4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, func, select

from storage.advisory import lock_for_transaction
from storage.tables import Conversation, ProcessedUpdate, TrackingMiss
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork

_CONVERSATION = Conversation.__table__  # type: ignore[attr-defined]
_PROCESSED = ProcessedUpdate.__table__  # type: ignore[attr-defined]

# The three statements of every update, built once (SQLAlchemy Core, values as bound parameters):
# building and hashing a statement costs more than SQLite takes to run it.
_LOAD = core_select(_CONVERSATION.c.state, _CONVERSATION.c.data).where(
    _CONVERSATION.c.channel == bindparam("channel"),
    _CONVERSATION.c.chat_id == bindparam("chat_id"),
)


def _statements(dialect: Any) -> tuple[Any, Any]:
    """The claim (``INSERT … ON CONFLICT DO NOTHING RETURNING``) and the state's upsert
    (``INSERT … ON CONFLICT DO UPDATE``): SQLite 3.35+ and PostgreSQL both have them."""
    claim = (
        dialect.insert(_PROCESSED)
        .values(
            channel=bindparam("channel"),
            update_id=bindparam("update_id"),
            claimed_at=bindparam("claimed_at"),
        )
        .on_conflict_do_nothing(index_elements=[_PROCESSED.c.channel, _PROCESSED.c.update_id])
        # RETURNING says whether the row went in (psycopg's rowcount is -1 here).
        .returning(_PROCESSED.c.update_id)
    )
    insert = dialect.insert(_CONVERSATION).values(
        channel=bindparam("channel"),
        chat_id=bindparam("chat_id"),
        state=bindparam("state"),
        data=bindparam("data", type_=_CONVERSATION.c.data.type),
        version=1,
        updated_at=bindparam("updated_at", type_=_CONVERSATION.c.updated_at.type),
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[_CONVERSATION.c.channel, _CONVERSATION.c.chat_id],
        set_={
            "state": insert.excluded.state,
            "data": insert.excluded.data,
            "version": _CONVERSATION.c.version + 1,
            "updated_at": insert.excluded.updated_at,
        },
    )
    return claim, upsert


_BY_DIALECT = {"sqlite": _statements(sqlite), "postgresql": _statements(postgresql)}


def load_conversation(
    uow: UnitOfWork, channel: str, chat_id: str
) -> tuple[str, dict[str, object]] | None:
    """One ``SELECT`` of two columns (no ORM object is built)."""
    row = (
        uow.session.connection()
        .execute(_LOAD, {"channel": channel, "chat_id": chat_id})
        .first()
    )
    return None if row is None else (row.state, dict(row.data or {}))


def save_conversation(
    uow: UnitOfWork, channel: str, chat_id: str, state: str, data: dict[str, object]
) -> None:
    """Write the state in the unit of work, one upsert; the caller commits."""
    upsert = _BY_DIALECT[uow.dialect][1]
    uow.session.connection().execute(
        upsert,
        {
            "channel": channel,
            "chat_id": chat_id,
            "state": state,
            "data": dict(data),
            "updated_at": utc_now(),
        },
    )


def lock_conversation(uow: UnitOfWork, channel: str, chat_id: str) -> None:
    """Hold the conversation's lock until the unit of work ends (PostgreSQL's
    ``pg_advisory_xact_lock``): two updates of one chat never run at the same time, whichever
    processes handle them (issue 12). SQLite runs one write transaction at a time anyway."""
    lock_for_transaction(uow, "conversation", channel, chat_id)


def claim_update(uow: UnitOfWork, channel: str, update_id: str) -> bool:
    """Claim an update before handling it; False when it was handled already (X4).

    One ``INSERT … ON CONFLICT DO NOTHING``: the primary key makes the claim atomic, also
    between processes. The claim is not committed here: it commits with the effects of handling
    the update, so an update whose handling failed can be handled again.
    """
    claim = _BY_DIALECT[uow.dialect][0]
    claimed = (
        uow.session.connection()
        .execute(claim, {"channel": channel, "update_id": update_id, "claimed_at": utc_now()})
        .first()
    )
    return claimed is not None


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
