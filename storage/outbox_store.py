"""Claiming outbox rows for delivery and recording how each delivery ended (X4).

Several senders may drain the same outbox. A sender *claims* due rows for a while (a lease:
``claimed_by``, ``claimed_until``); another sender skips rows under a live lease, and takes over
the rows of a sender that died once its lease has expired. On PostgreSQL the claiming
transaction selects with ``FOR UPDATE SKIP LOCKED``, so concurrent claims never wait for each
other; on SQLite (one writer at a time) the claim is an ``UPDATE … WHERE`` the lease is free,
whose winner reads its rows back.

Replies (issue 12, several workers) are rows too: :func:`queue_replies` writes them in the
turn's transaction (it does not commit) and, on PostgreSQL, sends a ``NOTIFY`` on
:data:`WAKE_CHANNEL` that PostgreSQL delivers at commit, so the elected sender (which listens,
storage/notify.py) sends them at once instead of at its next look. They are claimed before any
broadcast (``urgent``), and go to the chat that wrote (``channel``, ``chat_id``).

Each other function is one short transaction and commits it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    TextClause,
    and_,
    any_,
    bindparam,
    insert,
    or_,
    text,
    update,
)
from sqlmodel import col, func, select

from storage.tables import ChannelAccount, OutboxMessage
from storage.unit_of_work import UnitOfWork

# Bound parameters per statement stay well under SQLite's limit.
_CHUNK = 500
# The kind of a queued reply; its data is the serialized message (handlers/reply_queue.py).
REPLY_KIND = "reply"
# What the outbox sender LISTENs on (PostgreSQL): a reply was queued.
WAKE_CHANNEL = "doithoai_outbox"


@dataclass(frozen=True)
class ClaimedMessage:
    """A claimed row with its recipient: the person's most recent channel account, if any."""

    id: int
    person_id: int
    kind: str
    data: dict[str, object]
    attempts: int
    channel: str | None
    chat_id: str | None
    urgent: bool = False
    pieces_sent: int = 0


def _pending() -> ColumnElement[bool]:
    """Neither sent nor failed: for rows found otherwise (by id, by holder) and SQLite's claim;
    a read of the rows waiting as such uses :func:`waiting_to_be_sent`."""
    return and_(col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.failed_at).is_(None))


def waiting_to_be_sent(table: Any) -> ColumnElement[bool]:
    """The rows waiting to be sent (neither sent nor failed), written as the two partial indexes
    of PostgreSQL hold them (migrations 0027 and 0028): the replies, and the others. (A reply is
    always to a chat: :func:`queue_replies` is the one writer of ``urgent`` rows.)"""
    pending = and_(table.c.sent_at.is_(None), table.c.failed_at.is_(None))
    return or_(
        and_(pending, table.c.urgent.is_(True), table.c.chat_id.is_not(None)),
        and_(pending, table.c.urgent.is_(False)),
    )


def _lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _newest_accounts() -> Any:
    """Each person's most recent channel account id, as a subquery."""
    return (
        select(
            col(ChannelAccount.person_id).label("person_id"),
            func.max(ChannelAccount.id).label("account_id"),
        )
        .group_by(col(ChannelAccount.person_id))
        .subquery()
    )


def _for_channels(channels: Collection[str], without_account: bool = True) -> Any:
    """Rows whose recipient is reached now on one of ``channels`` — or, with
    ``without_account``, on none at all (those fail at once as "no chat account"). Rows for
    other channels are left for the process that runs them: they wait, unclaimed."""
    newest = _newest_accounts()
    reachable = (
        select(newest.c.person_id)
        .join(ChannelAccount, col(ChannelAccount.id) == newest.c.account_id)
        .where(col(ChannelAccount.channel).in_(list(channels)))
    )
    to_a_chat = and_(
        col(OutboxMessage.chat_id).is_not(None), col(OutboxMessage.channel).in_(list(channels))
    )
    to_a_person = col(OutboxMessage.chat_id).is_(None)
    if not without_account:
        return or_(to_a_chat, and_(to_a_person, col(OutboxMessage.person_id).in_(reachable)))
    with_account = select(ChannelAccount.person_id)
    return or_(
        to_a_chat,
        and_(
            to_a_person,
            or_(
                col(OutboxMessage.person_id).in_(reachable),
                col(OutboxMessage.person_id).not_in(with_account),
            ),
        ),
    )


NO_CHANNEL = ""  # the key of rows whose recipient has no chat account yet


def waiting_for_other_channels(
    uow: UnitOfWork, channels: Collection[str], include_without_account: bool = False
) -> dict[str, int]:
    """How many pending rows wait for each channel not in ``channels`` (not configured in this
    process), and with ``include_without_account`` for recipients with no chat account yet
    (under ``NO_CHANNEL``): one summary for the log instead of a warning per row."""
    newest = _newest_accounts()
    rows = uow.session.exec(
        select(ChannelAccount.channel, func.count(col(OutboxMessage.id)))
        .select_from(OutboxMessage)
        .join(newest, newest.c.person_id == col(OutboxMessage.person_id))
        .join(ChannelAccount, col(ChannelAccount.id) == newest.c.account_id)
        .where(waiting_to_be_sent(_OUTBOX))
        .where(col(OutboxMessage.chat_id).is_(None))
        .where(col(ChannelAccount.channel).not_in(list(channels)))
        .group_by(col(ChannelAccount.channel))
    ).all()
    waiting = {channel: count for channel, count in rows}
    if not include_without_account:
        uow.session.rollback()
        return waiting
    without = uow.session.exec(
        select(func.count(col(OutboxMessage.id)))
        .where(waiting_to_be_sent(_OUTBOX))
        .where(col(OutboxMessage.chat_id).is_(None))
        .where(col(OutboxMessage.person_id).not_in(select(ChannelAccount.person_id)))
    ).one()
    uow.session.rollback()
    if without:
        waiting[NO_CHANNEL] = without
    return waiting


def claim_due(
    uow: UnitOfWork,
    *,
    sender_id: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    channels: Collection[str] | None = None,
    without_account: bool = True,
    urgent_only: bool = False,
) -> list[ClaimedMessage]:
    """Claim up to ``limit`` rows that are due (not sent, not failed, available, lease free),
    urgent ones (replies) first, then oldest first, for ``sender_id`` until ``now + lease``;
    commits. With ``channels``, only the rows this process can deliver (see
    :func:`_for_channels`); with ``urgent_only``, only replies."""
    if limit <= 0:
        return []
    until = now + lease
    if uow.dialect == "postgresql":
        # One transaction: if the claim of the others fails, the replies' claim is undone too
        # (not left leased to this sender, which never held them, until the lease ends).
        claimed = _claim_replies(uow, sender_id, now, until, limit, channels)
        if urgent_only or len(claimed) == limit:
            uow.commit()
            return claimed
        return claimed + _claim_others(
            uow, sender_id, now, until, limit - len(claimed), channels, without_account
        )
    candidates: list[int] = []
    won = 0
    # On SQLite another sender may claim a selected row before our UPDATE takes the write lock;
    # the guarded UPDATE then skips it and a second round, under that lock, selects others.
    for _ in range(3):
        wanted = limit - won
        query = (
            select(OutboxMessage.id)
            .where(_pending())
            .where(col(OutboxMessage.available_at) <= now)
            .where(_lease_free(now))
            .order_by(
                col(OutboxMessage.urgent).desc(),
                col(OutboxMessage.available_at),
                col(OutboxMessage.id),
            )
            .limit(wanted)
        )
        if urgent_only:  # replies: to a chat, no lookup of accounts
            query = query.where(col(OutboxMessage.urgent).is_(True))
            query = query.where(col(OutboxMessage.chat_id).is_not(None))
            if channels is not None:
                query = query.where(col(OutboxMessage.channel).in_(list(channels)))
        elif channels is not None:
            query = query.where(_for_channels(channels, without_account))
        if uow.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        selected = [row_id for row_id in uow.session.exec(query).all() if row_id is not None]
        if not selected:
            break
        result = uow.session.exec(
            update(OutboxMessage)
            .execution_options(synchronize_session=False)
            .where(col(OutboxMessage.id).in_(selected))
            .where(_pending())
            .where(_lease_free(now))
            .values(claimed_by=sender_id, claimed_until=until)
        )
        won += result.rowcount
        candidates.extend(selected)
        if result.rowcount == len(selected) or len(selected) < wanted:
            break
    if not candidates:
        # Nothing was claimed: a commit ends the transaction as a rollback would, and psycopg
        # keeps the connection's prepared statements (it forgets them all at a ROLLBACK).
        uow.commit()
        return []
    rows = uow.session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(candidates))
        .where(OutboxMessage.claimed_by == sender_id)
        .where(OutboxMessage.claimed_until == until)
        .order_by(
            col(OutboxMessage.urgent).desc(), col(OutboxMessage.available_at), col(OutboxMessage.id)
        )
    ).all()
    return _addressed(uow, rows)


def _addressed(uow: UnitOfWork, rows: Sequence[Any]) -> list[ClaimedMessage]:
    """The claimed ``rows`` (in the order given) with their recipients: a reply's chat, or the
    person's most recent channel account; commits the claim."""
    accounts = latest_accounts(uow, {row.person_id for row in rows if row.chat_id is None})
    uow.commit()
    claimed = []
    for row in rows:
        channel: str | None = row.channel
        chat_id: str | None = row.chat_id
        if chat_id is None:  # to the person: their most recent account
            account = accounts.get(row.person_id)
            channel = account.channel if account else None
            chat_id = account.chat_id if account else None
        claimed.append(
            ClaimedMessage(
                id=row.id,
                person_id=row.person_id,
                kind=row.kind,
                data=dict(row.data),
                attempts=row.attempts,
                channel=channel,
                chat_id=chat_id,
                urgent=row.urgent,
                pieces_sent=row.pieces_sent,
            )
        )
    return claimed


def _claim_replies(
    uow: UnitOfWork,
    sender_id: str,
    now: datetime,
    until: datetime,
    limit: int,
    channels: Collection[str] | None,
) -> list[ClaimedMessage]:
    """PostgreSQL, replies only (the sender woken by a turn's NOTIFY, once per reply): one
    ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``. The caller commits."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    due = (
        select(table.c.id)
        .where(table.c.sent_at.is_(None), table.c.failed_at.is_(None))
        .where(table.c.urgent.is_(True), table.c.chat_id.is_not(None))
        .where(table.c.available_at <= now)
        .where(or_(table.c.claimed_until.is_(None), table.c.claimed_until < now))
        # In the order written: a chat's turns commit one after the other (its lock), so by id,
        # whatever the clocks of the workers that wrote them.
        .order_by(table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if channels is not None:
        due = due.where(table.c.channel.in_(list(channels)))
    rows = uow.session.execute(
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(claimed_by=sender_id, claimed_until=until)
        .returning(*_claimed_columns(table))
    ).all()
    return [
        ClaimedMessage(
            id=row.id,
            person_id=row.person_id,
            kind=row.kind,
            data=dict(row.data),
            attempts=row.attempts,
            channel=row.channel,
            chat_id=row.chat_id,
            urgent=True,
            pieces_sent=row.pieces_sent,
        )
        for row in sorted(rows, key=lambda row: row.id)
    ]


def _claimed_columns(table: Any) -> tuple[Any, ...]:
    """What a claim returns of each row it claimed."""
    names = ("id", "person_id", "kind", "data", "attempts", "channel", "chat_id", "pieces_sent")
    return tuple(table.c[name] for name in names)


def _claim_others(
    uow: UnitOfWork,
    sender_id: str,
    now: datetime,
    until: datetime,
    limit: int,
    channels: Collection[str] | None,
    without_account: bool,
) -> list[ClaimedMessage]:
    """PostgreSQL, everything but replies (invitations, digests, results), oldest first: one
    ``UPDATE … WHERE id = ANY(ARRAY(SELECT … FOR UPDATE SKIP LOCKED)) RETURNING``, along the
    index of the rows waiting (migration 0028), with each candidate's newest chat account looked
    up for that candidate (:func:`_reached_on`): the claim reads its batch, not every account
    and every waiting row (issue 12: 43-77 ms a claim of 30 with 50,000 followers). Commits."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    due = (
        select(table.c.id)
        .where(table.c.sent_at.is_(None), table.c.failed_at.is_(None))
        .where(table.c.urgent.is_(False))
        .where(table.c.available_at <= now)
        .where(or_(table.c.claimed_until.is_(None), table.c.claimed_until < now))
        .order_by(table.c.available_at, table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if channels is not None:
        due = due.where(_reached_on(table, channels, without_account))
    # PostgreSQL cannot tell how many candidates the look-up of accounts keeps, and then at
    # times preferred to read every waiting row through the index of ``sent_at``, look each
    # one's account up and sort them all (6,000 rows read for a claim of 30 in a test). Without
    # sorts (nor incremental ones, by id within a time) for the rest of this transaction, it
    # walks the waiting rows in their index's order and stops at its batch.
    uow.session.execute(
        text(
            "SELECT set_config('enable_sort', 'off', true), "
            "set_config('enable_incremental_sort', 'off', true)"
        )
    )
    rows = uow.session.execute(
        update(table)
        .where(table.c.id == any_(func.array(due.scalar_subquery())))
        .values(claimed_by=sender_id, claimed_until=until)
        .returning(*_claimed_columns(table), table.c.available_at, table.c.urgent)
    ).all()
    return _addressed(uow, sorted(rows, key=lambda row: (row.available_at, row.id)))


def _reached_on(table: Any, channels: Collection[str], without_account: bool) -> Any:
    """:func:`_for_channels` for one row at a time (PostgreSQL's claim of others): the channel
    of the row's person's newest account, looked up for that person alone; ``''`` for a person
    without any (with ``without_account``, claimed to fail at once as "no chat account")."""
    newest = (
        select(ChannelAccount.channel)
        .where(col(ChannelAccount.person_id) == table.c.person_id)
        .order_by(col(ChannelAccount.id).desc())
        .limit(1)
        .correlate(table)
        .scalar_subquery()
    )
    wanted = list(channels)
    reached = (
        func.coalesce(newest, NO_CHANNEL).in_([*wanted, NO_CHANNEL])
        if without_account
        else newest.in_(wanted)
    )
    return or_(
        and_(table.c.chat_id.is_not(None), table.c.channel.in_(wanted)),
        and_(table.c.chat_id.is_(None), reached),
    )


def latest_accounts(uow: UnitOfWork, person_ids: Iterable[int]) -> dict[int, ChannelAccount]:
    """Each person's most recent channel account (the highest id): where to reach them now."""
    ids = sorted(set(person_ids))
    found: dict[int, ChannelAccount] = {}
    for chunk in _chunks(ids):
        newest = (
            select(func.max(ChannelAccount.id))
            .where(col(ChannelAccount.person_id).in_(chunk))
            .group_by(col(ChannelAccount.person_id))
        )
        for account in uow.session.exec(
            select(ChannelAccount).where(col(ChannelAccount.id).in_(newest))
        ).all():
            found[account.person_id] = account
    return found


def extend_claims(
    uow: UnitOfWork, ids: Sequence[int], *, sender_id: str, until: datetime
) -> set[int]:
    """Extend the lease of rows ``sender_id`` still holds and has not finished; returns their
    ids (a row missing from the answer was finished, or taken over by another sender)."""
    kept: set[int] = set()
    for chunk in _chunks(ids):
        uow.session.exec(
            update(OutboxMessage)
            .execution_options(synchronize_session=False)
            .where(col(OutboxMessage.id).in_(chunk))
            .where(col(OutboxMessage.claimed_by) == sender_id)
            .where(_pending())
            .values(claimed_until=until)
        )
        kept.update(
            row_id
            for row_id in uow.session.exec(
                select(OutboxMessage.id)
                .where(col(OutboxMessage.id).in_(chunk))
                .where(col(OutboxMessage.claimed_by) == sender_id)
                .where(OutboxMessage.claimed_until == until)
                .where(_pending())
            ).all()
            if row_id is not None
        )
    uow.commit()
    return kept


def release_claims(uow: UnitOfWork, ids: Sequence[int], *, sender_id: str) -> int:
    """Give back unfinished rows at once (a sender stopping), rather than at lease expiry."""
    released = 0
    for chunk in _chunks(ids):
        result = uow.session.exec(
            update(OutboxMessage)
            .execution_options(synchronize_session=False)
            .where(col(OutboxMessage.id).in_(chunk))
            .where(col(OutboxMessage.claimed_by) == sender_id)
            .where(_pending())
            .values(claimed_by=None, claimed_until=None)
        )
        released += result.rowcount
    uow.commit()
    return released


def take_over_claims(uow: UnitOfWork, *, sender_id: str) -> int:
    """The elected sender's first act (several processes, issue 12): rows still claimed by
    other senders are given back at once rather than at lease expiry — only the elected sender
    sends, so their holders are dead or have stopped. Commits; how many."""
    result = uow.session.exec(
        update(OutboxMessage)
        .execution_options(synchronize_session=False)
        .where(col(OutboxMessage.claimed_by).is_not(None))
        .where(col(OutboxMessage.claimed_by) != sender_id)
        .where(waiting_to_be_sent(_OUTBOX))
        .values(claimed_by=None, claimed_until=None)
    )
    uow.commit()
    return int(result.rowcount)


def queue_replies(
    uow: UnitOfWork,
    *,
    person_id: int,
    channel: str,
    chat_id: str,
    key: str,
    messages: Sequence[dict[str, object]],
    now: datetime,
) -> None:
    """A turn's replies, in order, as urgent rows for the chat that wrote (``key`` names the
    turn: one row ``reply:<key>:<n>`` each); flushed with the caller's transaction, not
    committed. On PostgreSQL the listening sender is woken when that transaction commits."""
    if not messages:
        return
    rows = [
            {
                "idempotency_key": f"{REPLY_KIND}:{key}:{number}"[:200],
                "person_id": person_id,
                "kind": REPLY_KIND,
                "data": message,
                "transactional": True,
                "created_at": now,
                "available_at": now,
                "attempts": 0,
                "channel": channel,
                "chat_id": chat_id,
                "urgent": True,
                "pieces_sent": 0,
            }
            for number, message in enumerate(messages)
        ]
    if uow.dialect == "postgresql":
        parameters: dict[str, object] = {"wake": WAKE_CHANNEL}
        for number, row in enumerate(rows):
            parameters.update((f"{name}_{number}", row[name]) for name in _QUEUED)
        uow.session.connection().execute(_queue_and_wake(len(rows)), parameters)
        return
    uow.session.execute(insert(OutboxMessage), rows)


# The columns a queued reply sets (the others keep their defaults).
_QUEUED = (
    "idempotency_key",
    "person_id",
    "kind",
    "channel",
    "chat_id",
    "urgent",
    "pieces_sent",
    "data",
    "transactional",
    "created_at",
    "available_at",
    "attempts",
)


@lru_cache(maxsize=16)
def _queue_and_wake(count: int) -> TextClause:
    """PostgreSQL: ``count`` replies inserted and the sender woken in one round trip (issue
    12): a data-modifying CTE runs whatever the statement reads; the notification goes out at
    commit. Written once per number of rows: SQLAlchemy gives a multi-row ``INSERT … VALUES``
    no cache key, so building it as Core compiled it again at every turn (about a twentieth of
    a worker's CPU under load)."""
    values = ", ".join(
        "(" + ", ".join(f":{name}_{number}" for name in _QUEUED) + ")" for number in range(count)
    )
    return text(
        f"WITH queued AS (INSERT INTO {_OUTBOX.name} ({', '.join(_QUEUED)}) VALUES {values} "
        "RETURNING id) SELECT pg_notify(:wake, '')"
    ).bindparams(
        *(
            bindparam(f"{name}_{number}", type_=_OUTBOX.c[name].type)
            for number in range(count)
            for name in _QUEUED
        )
    )


_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
# The sender's records of every message (issue 12: one each per reply, in the elected sender's
# process): SQLAlchemy Core built once, on the unit of work's connection. (The ORM's bulk update
# built and hashed the statement at each call: about a tenth of a worker's CPU under load.)
_MARK_PIECES_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("p_id"))
    .where(_OUTBOX.c.pieces_sent < bindparam("p_pieces"))
    .values(pieces_sent=bindparam("p_pieces"))
)
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("p_id"))
    .where(_OUTBOX.c.sent_at.is_(None))
    .values(
        sent_at=bindparam("p_now", type_=_OUTBOX.c.sent_at.type),
        claimed_by=None,
        claimed_until=None,
    )
)


def mark_pieces_sent(uow: UnitOfWork, message_id: int, *, pieces: int) -> None:
    """The first ``pieces`` pieces of a message went out: a sender taking it over later starts
    after them. Commits."""
    uow.session.connection().execute(_MARK_PIECES_SENT, {"p_id": message_id, "p_pieces": pieces})
    uow.commit()


def mark_sent(uow: UnitOfWork, message_id: int, *, now: datetime) -> bool:
    """The message went out; False if it was already marked sent (by a sender whose lease
    had expired while it was sending). Durable: lost at a crash, the message would be sent
    again."""
    result = uow.session.connection().execute(_MARK_SENT, {"p_id": message_id, "p_now": now})
    uow.commit()
    return result.rowcount == 1


def mark_failed(
    uow: UnitOfWork,
    message_id: int,
    *,
    reason: str,
    now: datetime,
    attempts: int | None = None,
) -> None:
    """Give up on a message: ``failed_at`` and the ``failure`` reason; it is not sent again."""
    values: dict[str, object] = {
        "failed_at": now,
        "failure": reason,
        "claimed_by": None,
        "claimed_until": None,
    }
    if attempts is not None:
        values["attempts"] = attempts
    uow.session.exec(
        update(OutboxMessage)
        .execution_options(synchronize_session=False)
        .where(col(OutboxMessage.id) == message_id)
        .where(col(OutboxMessage.sent_at).is_(None))
        .values(**values)
    )
    uow.commit()


def schedule_retry(
    uow: UnitOfWork, message_id: int, *, reason: str, attempts: int, available_at: datetime
) -> None:
    """A transient failure: try again from ``available_at``; ``failure`` keeps the last reason
    while ``failed_at`` stays empty."""
    uow.session.exec(
        update(OutboxMessage)
        .execution_options(synchronize_session=False)
        .where(col(OutboxMessage.id) == message_id)
        .where(_pending())
        .values(
            attempts=attempts,
            available_at=available_at,
            failure=reason,
            claimed_by=None,
            claimed_until=None,
        )
    )
    uow.commit()


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    sent: int
    failed: int


def outbox_counts(uow: UnitOfWork) -> OutboxCounts:
    """How many rows wait, went out, and were given up on."""
    sent = uow.session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.sent_at).isnot(None))
    ).one()
    failed = uow.session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.failed_at).isnot(None))
    ).one()
    pending = uow.session.exec(
        select(func.count()).select_from(OutboxMessage).where(waiting_to_be_sent(_OUTBOX))
    ).one()
    return OutboxCounts(pending=pending, sent=sent, failed=failed)
