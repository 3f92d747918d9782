"""The scheduler: every few minutes, queue the officials' deadline digests (C6), the residents'
reminders of tomorrow's sessions (P4) and the "is it resolved?" questions some working days after
a written result (issue 13) in the outbox; the outbox sender delivers them. It also forgets the
rows of updates handled over a week ago (storage/retention.py).

Restart-safe by construction: what is due is computed from the deadlines each time, and every
row has an idempotency key (one digest per person per day, one reminder per registration, one
question per written result), so a run after a restart queues exactly what is still missing —
nothing twice, nothing lost. Several schedulers may run against one database (issue 12: several
workers on one PostgreSQL): each periodic run of a job first claims its (job, period) row
(storage/scheduling_store.py, ``INSERT … ON CONFLICT DO NOTHING`` in the job's own transaction),
so each job runs once per period across all processes; the others skip it. Should two still
insert the same idempotency key at once, the loser's transaction fails on the unique key and is
simply run again, finding the rows already there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from procedure.alerts import DEFAULT_END, DEFAULT_START
from procedure.use_cases.alerts import queue_alert_digests, queue_session_reminders
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.resolution import queue_resolution_questions
from storage.retention import forget_handled
from storage.scheduling_store import claim_run
from storage.unit_of_work import UnitOfWork
from texts import LOCAL_TIMEZONE

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 300
#: ``doithoai run``'s scheduler runs first this long after the bot starts: its first run builds
#: the working calendar and writes in its own transaction, and at the start it made the first
#: residents wait for their answers (issue 12: a first answer within 2 s). Its jobs are due
#: for the whole of their period, so a few seconds later loses nothing.
FIRST_RUN_AFTER_SECONDS = 10.0
START_VARIABLE = "ALERT_HOURS_START"
END_VARIABLE = "ALERT_HOURS_END"


def alert_hours_from_environ(environ: Mapping[str, str] | None = None) -> tuple[time, time]:
    """Working hours for alerts, ``ALERT_HOURS_START`` and ``ALERT_HOURS_END`` as ``HH:MM``
    (defaults 07:30 and 17:00, Asia/Ho_Chi_Minh)."""
    env = os.environ if environ is None else environ
    start = time.fromisoformat(env.get(START_VARIABLE) or DEFAULT_START.isoformat("minutes"))
    end = time.fromisoformat(env.get(END_VARIABLE) or DEFAULT_END.isoformat("minutes"))
    if start >= end:
        raise ValueError(f"{START_VARIABLE} must come before {END_VARIABLE}")
    return start, end


class Scheduler:
    """Queues due alerts and reminders; ``run_once`` is synchronous database work (call it with
    ``asyncio.to_thread`` from a loop), ``run_forever`` repeats it until ``stop`` is set."""

    def __init__(
        self,
        engine: Engine,
        context: ProcedureContext,
        *,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        start: time = DEFAULT_START,
        end: time = DEFAULT_END,
        first_run_after: float = 0.0,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        if first_run_after < 0:
            raise ValueError("first_run_after must not be negative")
        if start >= end:
            raise ValueError("working hours must start before they end")
        self.engine = engine
        self.context = context
        self.interval_seconds = interval_seconds
        self.first_run_after = first_run_after
        self.start = start
        self.end = end
        self.run_by = f"{socket.gethostname()[:40]}:{os.getpid()}"

    def period(self) -> str:
        """The period now falls in: the UTC start of its ``interval_seconds`` slot."""
        stamp = self.context.now().timestamp()
        start = stamp - stamp % self.interval_seconds
        return datetime.fromtimestamp(start, UTC).isoformat()

    def run_once(self, period: str | None = None) -> tuple[int, int]:
        """Queue what is due now: (digests queued, messages to residents queued — reminders of
        tomorrow's sessions and "is it resolved?" questions). With a ``period`` (the periodic
        runs of :meth:`run_forever`), a job another process already ran for that period is
        skipped; without one (``doithoai alerts run``, the console) every job runs."""
        digests = self._in_transaction(
            "alert_digests",
            period,
            lambda uow: queue_alert_digests(uow, self.context, start=self.start, end=self.end),
        )
        # Residents are reminded any day of the week, but not before the morning.
        reminders = self._in_transaction(
            "session_reminders",
            period,
            lambda uow: queue_session_reminders(uow, self.context, not_before=self.start),
        )
        # Issue 13: asked once, some working days after a written result; in the daytime.
        questions = self._in_transaction("resolution_questions", period, self._resolution_questions)
        if period is not None:  # a periodic run, not ``doithoai alerts run``
            forgotten = self._in_transaction(
                "forget_handled", period, lambda uow: forget_handled(uow, self.context.now())
            )
            if forgotten:
                log.info("scheduler: %d rows of updates handled over a week ago removed", forgotten)
        return digests, reminders + questions

    def _resolution_questions(self, uow: UnitOfWork) -> int:
        local = self.context.now().astimezone(LOCAL_TIMEZONE).time()
        if not self.start <= local < self.end:
            return 0
        return queue_resolution_questions(uow, self.context)

    def _in_transaction(
        self, job: str, period: str | None, work: Callable[[UnitOfWork], int]
    ) -> int:
        for attempt in range(3):
            try:
                with UnitOfWork(self.engine, write=True) as uow:
                    if period is not None and not claim_run(
                        uow, job, period, run_by=self.run_by, now=self.context.now()
                    ):
                        return 0  # another process ran it for this period
                    done = work(uow)
                    uow.commit()
                    return done
            except IntegrityError:
                # Another scheduler queued the same key in the same moment; run again.
                if attempt == 2:
                    raise
                log.info("scheduler: a concurrent run queued the same rows; retrying")
        return 0  # pragma: no cover

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run every ``interval_seconds`` until ``stop`` is set, the first time
        ``first_run_after`` seconds from now. A failing run is logged and the next one tries
        again: the work is idempotent."""
        if self.first_run_after:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.first_run_after)
        while not stop.is_set():
            try:
                digests, reminders = await asyncio.to_thread(self.run_once, self.period())
                if digests or reminders:
                    log.info(
                        "scheduler: %d digests, %d messages to residents queued", digests, reminders
                    )
            except Exception:
                log.exception("scheduler: run failed; trying again at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval_seconds)
