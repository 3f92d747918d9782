"""What channel adapters keep in the store: the inbox of received webhook events, the buttons
last shown in a chat, and the Zalo OA tokens with their refresh lock.

Each function is one short transaction and commits it (like storage/outbox_store.py): adapters
call them from the event loop through a thread, outside any conversation turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from storage.tables import ChatButtons, InboxEvent, ZaloToken
from storage.unit_of_work import UnitOfWork

# -- the inbox ----------------------------------------------------------------------------------
# The inbox is on every update's way when several workers share the database (issue 12), so its
# three statements are SQLAlchemy Core on the unit of work's connection, one round trip each:
# an insert that ignores a redelivery, one UPDATE … RETURNING that claims, one UPDATE that
# finishes. (The ORM version took a lookup then an insert, and a select, an update, a refresh
# per claimed row: about a quarter of a worker's CPU under load.)

_INBOX = InboxEvent.__table__  # type: ignore[attr-defined]


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
    insert = postgresql_insert if uow.dialect == "postgresql" else sqlite_insert
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
    uow.commit()
    return stored is not None


@dataclass(frozen=True)
class ClaimedEvent:
    id: int
    event_id: str
    payload: dict[str, object]
    attempts: int


def claim_inbox_events(
    uow: UnitOfWork,
    channel: str,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    max_attempts: int = 5,
    chat_spacing: timedelta | None = None,
) -> list[ClaimedEvent]:
    """Claim unhandled events of ``channel``, oldest first, for ``lease``; commits. Only the
    oldest unhandled event of each chat is claimed, so a chat's events are handled in order
    even by several workers. A claim whose holder died expires, and another worker takes it.
    With ``chat_spacing``, a chat's next event waits until that long after its previous one
    was handled (its replies sent): several workers keep Telegram's one message a second per
    chat between them.

    One statement: ``WITH due AS (SELECT … FOR UPDATE SKIP LOCKED) UPDATE … RETURNING``; on
    PostgreSQL concurrent claimers skip each other's rows, and a row another worker claimed and
    committed meanwhile fails the UPDATE's own conditions (re-checked on the row's newest
    version). SQLite has one writer at a time."""
    table = _INBOX

    def free(row: Any) -> ColumnElement[bool]:
        return or_(row.c.claimed_until.is_(None), row.c.claimed_until < now)

    def pending(row: Any) -> ColumnElement[bool]:
        return and_(
            row.c.channel == channel, row.c.handled_at.is_(None), row.c.attempts < max_attempts
        )

    candidate, earlier = table.alias("candidate"), table.alias("earlier")
    first_of_chat = ~exists().where(
        earlier.c.channel == candidate.c.channel,
        earlier.c.chat_id == candidate.c.chat_id,
        earlier.c.id < candidate.c.id,
        earlier.c.handled_at.is_(None),
        earlier.c.attempts < max_attempts,
    )
    due = core_select(candidate.c.id).where(pending(candidate), free(candidate), first_of_chat)
    if chat_spacing is not None:
        recent = table.alias("recent")
        due = due.where(
            ~exists().where(
                recent.c.channel == candidate.c.channel,
                recent.c.chat_id == candidate.c.chat_id,
                recent.c.handled_at > now - chat_spacing,
            )
        )
    due = due.order_by(candidate.c.received_at, candidate.c.id).limit(limit)
    if uow.dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # A CTE: PostgreSQL runs a locking one exactly once (a sub-select under IN could be run
    # again by the plan, locking more rows than it hands out).
    due_rows = due.cte("due")
    rows = (
        uow.session.connection()
        .execute(
            update(table)
            .where(table.c.id.in_(core_select(due_rows.c.id)), pending(table), free(table))
            .values(claimed_until=now + lease, attempts=table.c.attempts + 1)
            .returning(table.c.id, table.c.event_id, table.c.payload, table.c.attempts)
        )
        .all()
    )
    uow.commit()
    return sorted(
        (ClaimedEvent(row.id, row.event_id, dict(row.payload), row.attempts) for row in rows),
        key=lambda event: event.id,
    )


def finish_inbox_event(
    uow: UnitOfWork, row_id: int, *, now: datetime, failure: str | None = None
) -> None:
    """Handled (``failure`` None), or failed this time: the claim is dropped and, below the
    attempt limit, the event is tried again. Commits."""
    values: dict[str, object] = {"claimed_until": None, "failure": failure}
    if failure is None:
        values["handled_at"] = now
    uow.session.connection().execute(update(_INBOX).where(_INBOX.c.id == row_id).values(**values))
    uow.commit()


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
