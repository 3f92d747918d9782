"""What channel adapters keep in the store: the inbox of received webhook events, the buttons
last shown in a chat, and the Zalo OA tokens with their refresh lock.

Each function is one short transaction and commits it (like storage/outbox_store.py): adapters
call them from the event loop through a thread, outside any conversation turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Engine,
    Integer,
    Select,
    Update,
    and_,
    any_,
    bindparam,
    case,
    exists,
    func,
    null,
    or_,
    text,
    update,
)
from sqlalchemy import select as core_select
from sqlmodel import col, select

from storage.advisory import advisory_key, lock_for_transaction
from storage.dialects import dialect_insert
from storage.tables import ChatButtons, InboxEvent, ZaloToken
from storage.types import UTCDateTime
from storage.unit_of_work import UnitOfWork

# -- the inbox ----------------------------------------------------------------------------------
# The inbox is on every update's way when several workers share the database (issue 12), so its
# statements are SQLAlchemy Core built once, one round trip each: an insert that ignores a
# redelivery and claims its own row, one UPDATE … RETURNING that claims, one that finishes (and
# takes the chat's next event). (The ORM version took a lookup then an insert, and a select, an
# update, a refresh per claimed row: about a quarter of a worker's CPU under load.)

_INBOX = InboxEvent.__table__  # type: ignore[attr-defined]
# An event that failed this many times is left alone (and no longer holds up its chat).
MAX_ATTEMPTS = 5


def add_inbox_event(
    uow: UnitOfWork,
    channel: str,
    event_id: str,
    payload: dict[str, object],
    now: datetime,
    chat_id: str = "",
) -> bool:
    """Store a received event; False when it was stored before (a redelivery, also one that
    another worker stores at the same moment). Commits."""
    stored = _insert_event(uow, channel, event_id, payload, now, chat_id)
    uow.commit()
    return stored


def _insert_event(
    uow: UnitOfWork,
    channel: str,
    event_id: str,
    payload: dict[str, object],
    now: datetime,
    chat_id: str,
) -> bool:
    insert = dialect_insert(uow.dialect)
    stored = (
        uow.session.connection()
        .execute(
            insert(_INBOX)
            .values(
                channel=channel,
                event_id=event_id,
                chat_id=chat_id,
                payload=payload,
                received_at=now,
                attempts=0,
            )
            .on_conflict_do_nothing(index_elements=["channel", "event_id"])
            .returning(_INBOX.c.id)
        )
        .first()
    )
    return stored is not None


@dataclass(frozen=True)
class ClaimedEvent:
    id: int
    event_id: str
    payload: dict[str, object]
    attempts: int
    chat_id: str = ""


def claim_inbox_events(
    uow: UnitOfWork,
    channel: str,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    max_attempts: int = MAX_ATTEMPTS,
    chat_spacing: timedelta | None = None,
) -> list[ClaimedEvent]:
    """Claim unhandled events of ``channel`` (see :func:`_claim`); commits."""
    claimed = _claim(
        uow,
        channel,
        now=now,
        lease=lease,
        limit=limit,
        max_attempts=max_attempts,
        chat_spacing=chat_spacing,
    )
    uow.commit()
    return claimed


def _claim(
    uow: UnitOfWork,
    channel: str,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    max_attempts: int = MAX_ATTEMPTS,
    chat_spacing: timedelta | None = None,
) -> list[ClaimedEvent]:
    """Claim unhandled events of ``channel``, oldest first, for ``lease``. Only the
    oldest unhandled event of each chat is claimed, so a chat's events are handled in order
    even by several workers. A claim whose holder died expires, and another worker takes it.
    With ``chat_spacing``, a chat's next event waits until that long after its previous one
    was handled (its replies sent): several workers keep Telegram's one message a second per
    chat between them.

    One statement: ``WITH due AS (SELECT … FOR UPDATE SKIP LOCKED) UPDATE … RETURNING``; on
    PostgreSQL concurrent claimers skip each other's rows, and a row another worker claimed and
    committed meanwhile fails the UPDATE's own conditions (re-checked on the row's newest
    version). SQLite has one writer at a time."""
    parameters: dict[str, object] = {
        "p_channel": channel,
        "p_now": now,
        "p_until": now + lease,
        "p_max_attempts": max_attempts,
        "p_limit": limit,
    }
    if chat_spacing is not None:
        parameters["p_recent_after"] = now - chat_spacing
    statement = _claim_statement(uow.dialect, chat_spacing is not None)
    rows = uow.session.connection().execute(statement, parameters).all()
    return sorted((_claimed(row) for row in rows), key=lambda event: event.id)


def _free(row: Any) -> ColumnElement[bool]:
    return or_(row.c.claimed_until.is_(None), row.c.claimed_until < bindparam("p_now"))


def _pending(row: Any) -> ColumnElement[bool]:
    return and_(
        row.c.channel == bindparam("p_channel"),
        row.c.handled_at.is_(None),
        row.c.attempts < bindparam("p_max_attempts"),
    )


_RETURNED = ("id", "event_id", "payload", "attempts", "chat_id")


def _claim_of(due: Select[Any], dialect: str) -> Update:
    """Claim the rows ``due`` selects (their ids), skipping rows another worker has locked on
    PostgreSQL. A CTE: PostgreSQL runs a locking one exactly once (a sub-select under IN could
    be run again by the plan, locking more rows than it hands out)."""
    table = _INBOX
    if dialect == "postgresql":
        due_ids = core_select(due.with_for_update(skip_locked=True).cte("due").c.id)
        # The rows by their ids, read from the CTE once into an array (ARRAY(SELECT …): an
        # init plan) and found by the primary key. Under IN, PostgreSQL may plan a semi join
        # that reads every unhandled event of the channel against each claimed one (a peak's
        # backlog times the batch).
        chosen = table.c.id == any_(func.array(due_ids.scalar_subquery()))
    else:
        chosen = table.c.id.in_(core_select(due.cte("due").c.id))
    return (
        update(table)
        .where(chosen, _pending(table), _free(table))
        .values(claimed_until=bindparam("p_until"), attempts=table.c.attempts + 1)
        .returning(*(table.c[name] for name in _RETURNED))
    )


@cache
def _claim_statement(dialect: str, spaced: bool) -> Update:
    """The claim, built once (its parameters bound at each call: building it took more CPU
    than running it)."""
    table = _INBOX
    candidate, earlier = table.alias("candidate"), table.alias("earlier")
    # Each candidate's chat is looked up in a correlated scalar subquery, which PostgreSQL runs
    # per candidate with the chat in its index condition (ix_inbox_event_pending, and
    # ix_inbox_event_chat_handled). Written as NOT EXISTS, it was planned as an anti join which,
    # with statistics taken while nothing waited (the usual case before a peak), scanned every
    # unhandled event of the channel for each candidate: 1,000 events waiting after a storm made
    # a claim take over 100 ms (issue 12). The candidates are walked in the order they came
    # (ix_inbox_event_due), so the walk stops once the batch is full.
    first_of_chat = (
        core_select(func.min(earlier.c.id))
        .where(
            earlier.c.channel == candidate.c.channel,
            earlier.c.chat_id == candidate.c.chat_id,
            earlier.c.handled_at.is_(None),
            earlier.c.attempts < bindparam("p_max_attempts"),
        )
        .scalar_subquery()
    )
    due = core_select(candidate.c.id).where(
        _pending(candidate), _free(candidate), candidate.c.id == first_of_chat
    )
    if spaced:
        recent = table.alias("recent")
        last_handled = (
            core_select(func.max(recent.c.handled_at))
            .where(recent.c.channel == candidate.c.channel, recent.c.chat_id == candidate.c.chat_id)
            .scalar_subquery()
        )
        # Nothing handled lately (or ever) in the candidate's chat.
        recent_after = bindparam("p_recent_after", type_=UTCDateTime)
        due = due.where(func.coalesce(last_handled, recent_after) <= recent_after)
    due = due.order_by(candidate.c.received_at, candidate.c.id).limit(bindparam("p_limit"))
    return _claim_of(due, dialect)


@cache
def _next_of_chat_statement(dialect: str, finishing: bool = False) -> Update:
    """Claim the oldest unhandled event of one chat other than ``p_id`` (its previous one, just
    handled). ``finishing``: that one is marked handled in the same statement (a
    data-modifying CTE, PostgreSQL: run once whatever the rest of the statement reads; the
    claim does not see its effect, hence ``id <> p_id``)."""
    table = _INBOX
    candidate = table.alias("candidate")
    due = (
        core_select(candidate.c.id)
        .where(_pending(candidate), _free(candidate))
        .where(candidate.c.chat_id == bindparam("p_chat_id"))
        .where(candidate.c.id != bindparam("p_id"))
        .order_by(candidate.c.id)
        .limit(1)
    )
    claim = _claim_of(due, dialect)
    if finishing:
        finish = (
            update(table)
            .where(table.c.id == bindparam("p_id"))
            .values(claimed_until=None, failure=None, handled_at=bindparam("p_now"))
            .returning(table.c.id)
            .cte("finished")
        )
        claim = claim.add_cte(finish)
    return claim


def _claimed(row: Any) -> ClaimedEvent:
    return ClaimedEvent(row.id, row.event_id, dict(row.payload), row.attempts, row.chat_id)


def renew_inbox_claims(uow: UnitOfWork, row_ids: Sequence[int], *, until: datetime) -> int:
    """Extend the claims of events still being handled (``row_ids``) to ``until``, never
    shortening one (a chat's spacing may have set a later end); how many were extended. Commits.
    A worker renews what it holds, so a short lease only lapses when the worker is gone."""
    table = _INBOX
    if not row_ids:
        return 0
    extended = uow.session.connection().execute(
        update(table)
        .where(
            table.c.id.in_(list(row_ids)),
            table.c.handled_at.is_(None),
            table.c.claimed_until.is_not(None),
            table.c.claimed_until < until,
        )
        .values(claimed_until=until)
    )
    uow.commit()
    return int(extended.rowcount or 0)


def finish_inbox_event(
    uow: UnitOfWork, row_id: int, *, now: datetime, failure: str | None = None
) -> None:
    """Handled (``failure`` None), or failed this time: the claim is dropped and, below the
    attempt limit, the event is tried again. Commits."""
    _finish(uow, row_id, now=now, failure=failure)
    uow.commit()


def _finish(uow: UnitOfWork, row_id: int, *, now: datetime, failure: str | None) -> None:
    values: dict[str, object] = {"claimed_until": None, "failure": failure}
    if failure is None:
        values["handled_at"] = now
    uow.session.connection().execute(update(_INBOX).where(_INBOX.c.id == row_id).values(**values))


# A webhook worker stores an event and claims it at once: the chat's lock, then one INSERT that
# claims the row it inserts when its chat has nothing before it (on PostgreSQL both in one call
# of the function inbox_store, in autocommit: :func:`store_at_once`). The event is marked
# handled, and its chat's next one taken, in the turn's own transaction (:func:`finish_in_turn`,
# with the outbox) or in a short one of its own (:func:`finish_and_claim`). Both sides hold the
# chat's lock (PostgreSQL), so for one chat they never overlap: either the store sees the
# previous event handled (and claims its event), or the finish sees the stored event and takes
# it. No event is left for the idle look-again. (Issue 12: each round trip is CPU in the worker
# and in PostgreSQL; an event took four transactions, then two and a claim, now one call
# besides its turn, and one statement in it.)


def lock_chat(uow: UnitOfWork, channel: str, chat_id: str, *, loss_harmless: bool = False) -> None:
    """The chat's lock (PostgreSQL), held until the transaction ends: the conversation's own
    (storage/conversation_store.py), so that a turn, which holds it from its start, finishes
    its event without taking another one."""
    lock_for_transaction(uow, "conversation", channel, chat_id, loss_harmless=loss_harmless)


@dataclass(frozen=True)
class Stored:
    stored: bool  # False: a redelivery
    claimed: list[ClaimedEvent]
    # Not claimed here although its chat has nothing before it (no room in this worker): look
    # again when there is room.
    look_again: bool
    # The claimed event is handled this many seconds from now: its chat's previous event was
    # handled less than the chat's spacing ago.
    delay: timedelta = timedelta()


def store_and_claim(
    uow: UnitOfWork,
    channel: str,
    event_id: str,
    payload: dict[str, object],
    now: datetime,
    chat_id: str,
    *,
    lease: timedelta,
    limit: int,
    chat_spacing: timedelta | None = None,
) -> Stored:
    """:func:`add_inbox_event`, claiming the event in the same statement when ``limit`` > 0
    and its chat has no unhandled event before it; commits.

    With ``chat_spacing``, an event whose chat's previous event was handled less than that
    long ago is claimed too, to be handled ``chat_spacing`` from now (its lease starts then):
    no later claim is needed for it."""
    lock_chat(uow, channel, chat_id)
    if limit <= 0:
        stored = _insert_event(uow, channel, event_id, payload, now, chat_id)
        uow.commit()
        return Stored(stored, [], look_again=stored)
    parameters = _store_parameters(channel, event_id, payload, now, chat_id, lease)
    if chat_spacing is not None:
        parameters["p_recent_after"] = now - chat_spacing
        parameters["p_until_spaced"] = now + chat_spacing + lease
    row = (
        uow.session.connection()
        .execute(_store_statement(uow.dialect, chat_spacing is not None), parameters)
        .first()
    )
    uow.commit()
    return _stored(row, event_id, payload, chat_id, now=now, lease=lease, spacing=chat_spacing)


def _store_parameters(
    channel: str,
    event_id: str,
    payload: dict[str, object],
    now: datetime,
    chat_id: str,
    lease: timedelta,
) -> dict[str, object]:
    """The claiming insert's parameters shared by both ways of storing an event."""
    return {
        "p_channel": channel,
        "p_event_id": event_id,
        "p_chat_id": chat_id,
        "p_payload": payload,
        "p_now": now,
        "p_until": now + lease,
        "p_max_attempts": MAX_ATTEMPTS,
    }


def store_at_once(
    engine: Engine,
    channel: str,
    event_id: str,
    payload: dict[str, object],
    now: datetime,
    chat_id: str,
    *,
    lease: timedelta,
    limit: int,
    chat_spacing: timedelta | None = None,
) -> Stored:
    """:func:`store_and_claim` in one round trip on PostgreSQL: the function ``inbox_store``
    (migration 0022) takes the chat's lock and runs the same insert, called in autocommit (no
    BEGIN, no COMMIT, no session). Elsewhere, or with no room: :func:`store_and_claim`."""
    if engine.dialect.name != "postgresql" or limit <= 0:
        with UnitOfWork(engine) as uow:
            return store_and_claim(
                uow,
                channel,
                event_id,
                payload,
                now,
                chat_id,
                lease=lease,
                limit=limit,
                chat_spacing=chat_spacing,
            )
    spacing = chat_spacing or timedelta()
    parameters = _store_parameters(channel, event_id, payload, now, chat_id, lease)
    parameters["p_key"] = advisory_key("conversation", channel, chat_id)
    parameters["p_until_spaced"] = now + spacing + lease
    parameters["p_recent_after"] = None if chat_spacing is None else now - chat_spacing
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(_STORE_CALL, parameters).first()
    return _stored(row, event_id, payload, chat_id, now=now, lease=lease, spacing=chat_spacing)


_STORE_CALL = (
    text(
        "SELECT id, attempts, claimed_until FROM inbox_store(:p_key, :p_channel, :p_event_id, "
        ":p_chat_id, :p_payload, :p_now, :p_until, :p_until_spaced, :p_recent_after, "
        ":p_max_attempts)"
    )
    .bindparams(
        bindparam("p_payload", type_=JSON),
        *(
            bindparam(name, type_=UTCDateTime)
            for name in ("p_now", "p_until", "p_until_spaced", "p_recent_after")
        ),
    )
    .columns(id=Integer, attempts=Integer, claimed_until=UTCDateTime)
)


def _stored(
    row: Any,
    event_id: str,
    payload: dict[str, object],
    chat_id: str,
    *,
    now: datetime,
    lease: timedelta,
    spacing: timedelta | None,
) -> Stored:
    """What the claiming insert returned (no row: a redelivery)."""
    if row is None:
        return Stored(False, [], look_again=False)
    if row.claimed_until is None:  # an earlier event of its chat is not handled yet
        return Stored(True, [], look_again=False)
    event = ClaimedEvent(row.id, event_id, dict(payload), row.attempts, chat_id)
    spaced = spacing is not None and row.claimed_until > now + lease + spacing / 2
    return Stored(
        True, [event], look_again=False, delay=spacing if spaced and spacing else timedelta()
    )


@cache
def _store_statement(dialect: str, spaced: bool) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING`` that claims the row it inserts (its
    ``claimed_until`` and ``attempts`` set) when no event of its chat is unhandled. Built once.
    The chat's lock, taken by an earlier statement, makes the look at the chat's other events
    see every transaction of the chat that committed before."""
    table = _INBOX
    insert = dialect_insert(dialect)
    earlier = table.alias("earlier")
    first_of_chat = ~exists().where(
        earlier.c.channel == bindparam("p_channel"),
        earlier.c.chat_id == bindparam("p_chat_id"),
        earlier.c.handled_at.is_(None),
        earlier.c.attempts < bindparam("p_max_attempts"),
    )
    until = bindparam("p_until", type_=UTCDateTime)
    if spaced:
        recent = table.alias("recent")
        handled_lately = exists().where(
            recent.c.channel == bindparam("p_channel"),
            recent.c.chat_id == bindparam("p_chat_id"),
            recent.c.handled_at > bindparam("p_recent_after", type_=UTCDateTime),
        )
        claimed_until = case(
            (
                first_of_chat,
                case(
                    (handled_lately, bindparam("p_until_spaced", type_=UTCDateTime)),
                    else_=until,
                ),
            ),
            else_=null(),
        )
    else:
        claimed_until = case((first_of_chat, until), else_=null())
    return (
        insert(table)
        .values(
            channel=bindparam("p_channel", type_=table.c.channel.type),
            event_id=bindparam("p_event_id", type_=table.c.event_id.type),
            chat_id=bindparam("p_chat_id", type_=table.c.chat_id.type),
            payload=bindparam("p_payload", type_=table.c.payload.type),
            received_at=bindparam("p_now", type_=UTCDateTime),
            claimed_until=claimed_until,
            attempts=case((first_of_chat, 1), else_=0),
        )
        .on_conflict_do_nothing(index_elements=["channel", "event_id"])
        .returning(table.c.id, table.c.attempts, table.c.claimed_until)
    )


@dataclass(frozen=True)
class Finished:
    # The chat's next event, taken for this worker, due ``spacing`` after now (none with no
    # spacing); then, with no spacing, other due events.
    claimed: list[ClaimedEvent] = field(default_factory=list)
    next_of_chat: ClaimedEvent | None = None


def finish_and_claim(
    uow: UnitOfWork,
    event: ClaimedEvent,
    channel: str,
    *,
    now: datetime,
    failure: str | None,
    lease: timedelta,
    limit: int,
    chat_spacing: timedelta | None = None,
) -> Finished:
    """:func:`finish_inbox_event`; when it was handled, the chat's next event is taken for this
    worker (to handle once ``chat_spacing`` has passed: the lease starts then), and with no
    spacing up to ``limit`` - 1 other due events; commits.

    Its commit does not wait for the disk (``loss_harmless``): lost at a crash of the database
    server, the event is again unhandled and its claim expires, so it is handled again; its
    turn, committed durably before this with the claim of its update id (processed_update),
    makes that second handling a no-op that sends nothing; the chat's next event, claimed here,
    is claimed again the same way. (The store of an event, acknowledged to Telegram, stays
    durable: Telegram would not deliver it again.)"""
    lock_chat(uow, channel, event.chat_id, loss_harmless=True)
    finished = _finish_and_take_next(
        uow,
        event,
        channel,
        now=now,
        failure=failure,
        lease=lease,
        limit=limit,
        chat_spacing=chat_spacing,
    )
    uow.commit()
    return finished


def finish_in_turn(
    uow: UnitOfWork,
    event: ClaimedEvent,
    channel: str,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    chat_spacing: timedelta | None = None,
    locked: bool = False,
) -> Finished:
    """The event handled, in the transaction of its turn (the caller commits it): the turn's
    commit, with its replies queued in the outbox, is the event's end, and the chat's next event
    is taken in the same commit (as :func:`finish_and_claim` does in a transaction of its
    own). ``locked``: the turn holds the chat's lock already (:func:`lock_chat`, the
    conversation's own). Does not commit."""
    if not locked:
        lock_chat(uow, channel, event.chat_id)
    return _finish_and_take_next(
        uow,
        event,
        channel,
        now=now,
        failure=None,
        lease=lease,
        limit=limit,
        chat_spacing=chat_spacing,
    )


def _finish_and_take_next(
    uow: UnitOfWork,
    event: ClaimedEvent,
    channel: str,
    *,
    now: datetime,
    failure: str | None,
    lease: timedelta,
    limit: int,
    chat_spacing: timedelta | None,
) -> Finished:
    next_of_chat: ClaimedEvent | None = None
    if limit > 0 and failure is None:
        # PostgreSQL: the finish is a data-modifying CTE of the claim, one round trip.
        merged = uow.dialect == "postgresql"
        if not merged:
            _finish(uow, event.id, now=now, failure=failure)
        row = (
            uow.session.connection()
            .execute(
                _next_of_chat_statement(uow.dialect, merged),
                {
                    "p_channel": channel,
                    "p_chat_id": event.chat_id,
                    "p_now": now,
                    "p_until": now + (chat_spacing or timedelta()) + lease,
                    "p_max_attempts": MAX_ATTEMPTS,
                    "p_id": event.id,
                },
            )
            .first()
        )
        next_of_chat = _claimed(row) if row is not None else None
    else:
        _finish(uow, event.id, now=now, failure=failure)
    room = limit - (next_of_chat is not None)
    claimed = (
        _claim(uow, channel, now=now, lease=lease, limit=room)
        if room > 0 and chat_spacing is None
        else []
    )
    return Finished(claimed, next_of_chat)


def unhandled_count(uow: UnitOfWork, channel: str) -> int:
    return len(
        uow.session.exec(
            select(InboxEvent.id)
            .where(InboxEvent.channel == channel)
            .where(col(InboxEvent.handled_at).is_(None))
        ).all()
    )


# -- buttons shown as numbered text ---------------------------------------------------------------


def remember_buttons(
    uow: UnitOfWork,
    channel: str,
    chat_id: str,
    buttons: list[tuple[str, str]],
    *,
    append: bool,
    now: datetime,
) -> int:
    """Keep the buttons shown in a chat ((label, data) pairs); ``append`` adds to those already
    shown (a push in the middle of a conversation). Returns the number of the first one."""
    row = uow.session.get(ChatButtons, (channel, chat_id))
    if row is None:
        row = ChatButtons(channel=channel, chat_id=chat_id)
    kept = [list(pair) for pair in row.buttons] if append else []
    first = len(kept) + 1
    row.buttons = kept + [[label, data] for label, data in buttons]
    row.updated_at = now
    uow.session.add(row)
    uow.commit()
    return first


def buttons_of(uow: UnitOfWork, channel: str, chat_id: str) -> list[tuple[str, str]]:
    row = uow.session.get(ChatButtons, (channel, chat_id))
    return [] if row is None else [(str(pair[0]), str(pair[1])) for pair in row.buttons]


# -- Zalo OA tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    generation: int


def _tokens(row: ZaloToken) -> Tokens:
    return Tokens(row.access_token, row.refresh_token, row.access_expires_at, row.generation)


def save_tokens(
    uow: UnitOfWork, app_id: str, access: str, refresh: str, expires_at: datetime, now: datetime
) -> Tokens:
    """The first tokens (from the CLI), or tokens replaced by hand; commits."""
    row = uow.session.get(ZaloToken, app_id)
    if row is None:
        row = ZaloToken(
            app_id=app_id, access_token=access, refresh_token=refresh, access_expires_at=expires_at
        )
    row.access_token, row.refresh_token, row.access_expires_at = access, refresh, expires_at
    row.generation += 1
    row.refreshing_by = row.refreshing_until = None
    row.updated_at = now
    uow.session.add(row)
    uow.commit()
    return _tokens(row)


def load_tokens(uow: UnitOfWork, app_id: str) -> Tokens | None:
    row = uow.session.get(ZaloToken, app_id)
    if row is None:
        return None
    uow.session.refresh(row)
    return _tokens(row)


def lock_for_refresh(
    uow: UnitOfWork, app_id: str, *, holder: str, generation: int, now: datetime, lease: timedelta
) -> Tokens | None:
    """Take the refresh lock if nobody holds it and the tokens are still ``generation`` (nobody
    refreshed them meanwhile); the tokens to refresh, or None. Commits.

    On PostgreSQL the row is first locked with ``SELECT … FOR UPDATE``, so concurrent callers
    queue on it; on SQLite the guarded UPDATE runs under the database's single write lock."""
    if uow.dialect == "postgresql":
        uow.session.exec(
            select(ZaloToken.app_id).where(col(ZaloToken.app_id) == app_id).with_for_update()
        )
    result = uow.session.exec(
        update(ZaloToken)
        .execution_options(synchronize_session=False)
        .where(col(ZaloToken.app_id) == app_id)
        .where(col(ZaloToken.generation) == generation)
        .where(
            or_(col(ZaloToken.refreshing_until).is_(None), col(ZaloToken.refreshing_until) < now)
        )
        .values(refreshing_by=holder, refreshing_until=now + lease)
    )
    if result.rowcount != 1:
        uow.commit()
        return None
    row = uow.session.get(ZaloToken, app_id)
    assert row is not None
    uow.session.refresh(row)
    uow.commit()
    return _tokens(row)


def store_refreshed(
    uow: UnitOfWork,
    app_id: str,
    *,
    holder: str,
    access: str,
    refresh: str,
    expires_at: datetime,
    now: datetime,
) -> bool:
    """Write the new tokens and drop the lock; False if the lock was no longer ours."""
    result = uow.session.exec(
        update(ZaloToken)
        .execution_options(synchronize_session=False)
        .where(col(ZaloToken.app_id) == app_id)
        .where(col(ZaloToken.refreshing_by) == holder)
        .values(
            access_token=access,
            refresh_token=refresh,
            access_expires_at=expires_at,
            generation=ZaloToken.generation + 1,
            refreshing_by=None,
            refreshing_until=None,
            updated_at=now,
        )
    )
    uow.commit()
    return result.rowcount == 1


def release_refresh_lock(uow: UnitOfWork, app_id: str, *, holder: str) -> None:
    uow.session.exec(
        update(ZaloToken)
        .execution_options(synchronize_session=False)
        .where(col(ZaloToken.app_id) == app_id)
        .where(col(ZaloToken.refreshing_by) == holder)
        .values(refreshing_by=None, refreshing_until=None)
    )
    uow.commit()
