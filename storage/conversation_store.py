"""Where conversation state and claimed updates are kept (the handlers' store, X4)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, delete, literal_column, or_
from sqlalchemy import select as core_select
from sqlalchemy.dialects import sqlite
from sqlmodel import col, func, select

from storage.advisory import lock_for_transaction
from storage.dialects import dialect_insert
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


@cache
def _statements(dialect: str) -> tuple[Any, Any]:
    """The claim (``INSERT … ON CONFLICT DO NOTHING RETURNING``) and the state's upsert
    (``INSERT … ON CONFLICT DO UPDATE``): SQLite 3.35+ and PostgreSQL both have them."""
    insert_into = dialect_insert(dialect)
    claim = (
        insert_into(_PROCESSED)
        .values(
            channel=bindparam("channel"),
            update_id=bindparam("update_id"),
            claimed_at=bindparam("claimed_at"),
        )
        .on_conflict_do_nothing(index_elements=[_PROCESSED.c.channel, _PROCESSED.c.update_id])
        # RETURNING says whether the row went in (psycopg's rowcount is -1 here).
        .returning(_PROCESSED.c.update_id)
    )
    insert = insert_into(_CONVERSATION).values(
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


class _OnDriver:
    """A statement compiled once for SQLite and run by the driver itself (``sqlite3``) on the
    unit of work's own connection, in its transaction: SQLAlchemy's execution of an already
    compiled statement (parameters, events, result set-up) costs several times what SQLite
    takes to run these three (issue 12: they run on every update). The values are processed as
    SQLAlchemy would (the column types' bind processors: JSON, UTC times)."""

    __slots__ = ("_defaults", "_order", "_processors", "sql")

    def __init__(self, statement: Any) -> None:
        compiled = statement.compile(dialect=sqlite.dialect())
        self.sql: str = compiled.string
        self._order = tuple(compiled.positiontup or ())
        # Values written in the statement itself (``version = version + 1``).
        self._defaults = {
            name: bind.value for bind, name in compiled.bind_names.items() if bind.value is not None
        }
        self._processors = dict(compiled._bind_processors)

    def execute(self, uow: UnitOfWork, values: dict[str, Any]) -> Any:
        merged = {**self._defaults, **values}
        for name, process in self._processors.items():
            merged[name] = process(merged[name])
        driver = uow.session.connection().connection.driver_connection
        assert driver is not None
        return driver.execute(self.sql, tuple(merged[name] for name in self._order))


_CLAIM_ON_DRIVER = _OnDriver(_statements("sqlite")[0])
_SAVE_ON_DRIVER = _OnDriver(_statements("sqlite")[1])
_LOAD_ON_DRIVER = _OnDriver(_LOAD)
_READ_DATA = _CONVERSATION.c.data.type.result_processor(sqlite.dialect(), None)


def load_conversation(
    uow: UnitOfWork, channel: str, chat_id: str
) -> tuple[str, dict[str, object]] | None:
    """One ``SELECT`` of two columns (no ORM object is built)."""
    if uow.dialect == "sqlite":
        rows = _LOAD_ON_DRIVER.execute(uow, {"channel": channel, "chat_id": chat_id}).fetchall()
        if not rows:
            return None
        found = rows[0]
        data = _READ_DATA(found[1]) if _READ_DATA is not None else found[1]
        return found[0], dict(data or {})
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
    values = {
        "channel": channel,
        "chat_id": chat_id,
        "state": state,
        "data": dict(data),
        "updated_at": utc_now(),
    }
    if uow.dialect == "sqlite":
        _SAVE_ON_DRIVER.execute(uow, values)
    else:
        uow.session.connection().execute(_statements(uow.dialect)[1], values)


def lock_conversation(uow: UnitOfWork, channel: str, chat_id: str) -> None:
    """Hold the conversation's lock until the unit of work ends (PostgreSQL's
    ``pg_advisory_xact_lock``): two updates of one chat never run at the same time, whichever
    processes handle them (issue 12). SQLite runs one write transaction at a time anyway.
    With several workers the accounts' generation comes in the same round trip, so the turn
    may use this process's memo of accounts (storage/unit_of_work.py)."""
    lock_for_transaction(uow, "conversation", channel, chat_id, read_generation=True)


def claim_update(uow: UnitOfWork, channel: str, update_id: str) -> bool:
    """Claim an update before handling it; False when it was handled already (X4).

    One ``INSERT … ON CONFLICT DO NOTHING``: the primary key makes the claim atomic, also
    between processes. The claim is not committed here: it commits with the effects of handling
    the update, so an update whose handling failed can be handled again.
    """
    values = {"channel": channel, "update_id": update_id, "claimed_at": utc_now()}
    if uow.dialect == "sqlite":
        return bool(_CLAIM_ON_DRIVER.execute(uow, values).fetchall())
    claimed = uow.session.connection().execute(_statements(uow.dialect)[0], values).first()
    return claimed is not None


@cache
def _claim_and_load_statement() -> Any:
    """PostgreSQL: the claim and the load in one statement (a data-modifying CTE claims the
    update id; the conversation, if any, comes on the one row returned)."""
    claim = (
        dialect_insert("postgresql")(_PROCESSED)
        .values(
            channel=bindparam("channel"),
            update_id=bindparam("update_id"),
            claimed_at=bindparam("claimed_at", type_=_PROCESSED.c.claimed_at.type),
        )
        .on_conflict_do_nothing(index_elements=[_PROCESSED.c.channel, _PROCESSED.c.update_id])
        .returning(_PROCESSED.c.update_id)
        .cte("claim")
    )
    one = core_select(literal_column("1").label("one")).subquery("one")
    found = and_(
        _CONVERSATION.c.channel == bindparam("channel"),
        _CONVERSATION.c.chat_id == bindparam("chat_id"),
    )
    return core_select(
        core_select(func.count()).select_from(claim).scalar_subquery().label("claimed"),
        _CONVERSATION.c.state,
        _CONVERSATION.c.data,
    ).select_from(one.outerjoin(_CONVERSATION, found))


def claim_and_load(
    uow: UnitOfWork, channel: str, chat_id: str, update_id: str | None
) -> tuple[bool, tuple[str, dict[str, object]] | None]:
    """:func:`claim_update` (when there is an update id) and, if claimed,
    :func:`load_conversation`: whether the update is this turn's, and the stored state. On
    PostgreSQL one round trip (issue 12: both are on every update's way); elsewhere the two
    functions one after the other."""
    if uow.dialect != "postgresql" or update_id is None:
        if update_id is not None and not claim_update(uow, channel, update_id):
            return False, None
        return True, load_conversation(uow, channel, chat_id)
    row = (
        uow.session.connection()
        .execute(
            _claim_and_load_statement(),
            {
                "channel": channel,
                "update_id": update_id,
                "claimed_at": utc_now(),
                "chat_id": chat_id,
            },
        )
        .one()
    )
    if not row.claimed:
        return False, None
    return True, None if row.state is None else (row.state, dict(row.data or {}))


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
