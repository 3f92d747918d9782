"""What channel adapters keep in the store: the inbox of received webhook events, the buttons
last shown in a chat, and the Zalo OA tokens with their refresh lock.

Each function is one short transaction and commits it (like storage/outbox_store.py): adapters
call them from the event loop through a thread, outside any conversation turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from storage.tables import ChatButtons, InboxEvent, ZaloToken
from storage.unit_of_work import UnitOfWork

# -- the inbox ----------------------------------------------------------------------------------


def add_inbox_event(
    uow: UnitOfWork,
    channel: str,
    event_id: str,
    payload: dict[str, object],
    now: datetime,
    chat_id: str = "",
) -> bool:
    """Store a received event; False when it was stored before (a redelivery)."""
    if (
        uow.session.exec(
            select(InboxEvent.id)
            .where(InboxEvent.channel == channel)
            .where(InboxEvent.event_id == event_id)
        ).first()
        is not None
    ):
        return False
    uow.session.add(
        InboxEvent(
            channel=channel, event_id=event_id, chat_id=chat_id, payload=payload, received_at=now
        )
    )
    try:
        uow.commit()
    except IntegrityError:  # another worker stored it at the same moment
        uow.session.rollback()
        return False
    return True


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
    chat between them."""
    free = or_(col(InboxEvent.claimed_until).is_(None), col(InboxEvent.claimed_until) < now)
    pending = and_(
        col(InboxEvent.channel) == channel,
        col(InboxEvent.handled_at).is_(None),
        col(InboxEvent.attempts) < max_attempts,
    )
    earlier = aliased(InboxEvent)
    first_of_chat = ~(
        select(earlier.id)
        .where(earlier.channel == InboxEvent.channel)
        .where(earlier.chat_id == InboxEvent.chat_id)
        .where(col(earlier.id) < col(InboxEvent.id))
        .where(col(earlier.handled_at).is_(None))
        .where(col(earlier.attempts) < max_attempts)
        .exists()
    )
    query = select(InboxEvent.id).where(pending).where(free).where(first_of_chat)
    if chat_spacing is not None:
        recent = aliased(InboxEvent)
        query = query.where(
            ~select(recent.id)
            .where(recent.channel == InboxEvent.channel)
            .where(recent.chat_id == InboxEvent.chat_id)
            .where(col(recent.handled_at) > now - chat_spacing)
            .exists()
        )
    query = (
        query.order_by(col(InboxEvent.received_at), col(InboxEvent.id))
        .limit(limit)
    )
    if uow.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    won: list[ClaimedEvent] = []
    for row_id in [row_id for row_id in uow.session.exec(query).all() if row_id is not None]:
        result = uow.session.exec(
            update(InboxEvent)
            .execution_options(synchronize_session=False)
            .where(col(InboxEvent.id) == row_id)
            .where(pending)
            .where(free)
            .values(claimed_until=now + lease, attempts=InboxEvent.attempts + 1)
        )
        if result.rowcount != 1:
            continue
        row = uow.session.get(InboxEvent, row_id)
        assert row is not None
        uow.session.refresh(row)
        won.append(ClaimedEvent(row_id, row.event_id, dict(row.payload), row.attempts))
    uow.commit()
    return won


def finish_inbox_event(
    uow: UnitOfWork, row_id: int, *, now: datetime, failure: str | None = None
) -> None:
    """Handled (``failure`` None), or failed this time: the claim is dropped and, below the
    attempt limit, the event is tried again."""
    values: dict[str, object] = {"claimed_until": None, "failure": failure}
    if failure is None:
        values["handled_at"] = now
    uow.session.exec(
        update(InboxEvent)
        .execution_options(synchronize_session=False)
        .where(col(InboxEvent.id) == row_id)
        .values(**values)
    )
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
