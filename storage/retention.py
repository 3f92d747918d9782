"""What is kept of handled updates, and for how long.

Every update leaves two rows: its claim (``processed_update``, which makes a redelivered update a
no-op) and, where it came through a webhook inbox, the event as received (``inbox_event``, with
the resident's own words in its payload). Neither is needed once the platform can no longer
deliver the update again: Telegram keeps an unconfirmed update for 24 hours, Zalo retries a
webhook within minutes. Kept a week, then forgotten, a few thousand rows at a time, by the
scheduler (bot/scheduler.py): the tables stay the size of a week of traffic, and a resident's
words are not kept there beyond it (their petition keeps what they asked, in its own table).

Events not handled (failed, or still waiting) are kept whatever their age (an operator looks at
them), and so are their claims. The scheduler's record of the periods its jobs ran goes after a
week too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, tuple_

from storage.tables import InboxEvent, ProcessedUpdate, ScheduledRun
from storage.unit_of_work import UnitOfWork

#: How long a handled update's rows are kept (well past any platform's redelivery).
KEPT = timedelta(days=7)
#: Rows deleted by one call, per table: one run's transaction stays short.
BATCH = 5000

_INBOX = InboxEvent.__table__  # type: ignore[attr-defined]
_PROCESSED = ProcessedUpdate.__table__  # type: ignore[attr-defined]
_RUNS = ScheduledRun.__table__  # type: ignore[attr-defined]


def forget_handled(uow: UnitOfWork, now: datetime, *, batch: int = BATCH) -> int:
    """Delete up to ``batch`` inbox events handled before ``now - KEPT``, as many update claims
    made before it (not those of an event still unhandled), and the scheduler's runs before it;
    how many rows in all. Not committed (the caller's transaction)."""
    before = now - KEPT
    connection = uow.session.connection()
    events = select(_INBOX.c.id).where(_INBOX.c.handled_at < before).limit(batch)
    removed = connection.execute(delete(_INBOX).where(_INBOX.c.id.in_(events))).rowcount
    # A claim stays while its inbox event is not marked handled (a worker that died between a
    # turn's commit and the event's finish, its channel then stopped for a week): handled
    # again, the event finds its claim and is not answered twice.
    pending = (
        select(_INBOX.c.id)
        .where(
            _INBOX.c.channel == _PROCESSED.c.channel,
            _INBOX.c.event_id == _PROCESSED.c.update_id,
            _INBOX.c.handled_at.is_(None),
        )
        .exists()
    )
    claims = (
        select(_PROCESSED.c.channel, _PROCESSED.c.update_id)
        .where(_PROCESSED.c.claimed_at < before, ~pending)
        .limit(batch)
    )
    key = tuple_(_PROCESSED.c.channel, _PROCESSED.c.update_id)
    removed += connection.execute(delete(_PROCESSED).where(key.in_(claims))).rowcount
    # The scheduler's own record of the periods its jobs ran (one row a job every few minutes).
    runs = delete(_RUNS).where(_RUNS.c.run_at < before)
    removed += connection.execute(runs).rowcount
    return int(removed or 0)
