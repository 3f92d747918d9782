"""Routes for operators on the one aiohttp application (bot/app.py), beside the channels':

- ``/metrics``: Prometheus' text format — this process's counters (bot/metrics.py) and, read
  from the database at each scrape with a few cheap counts, the outbox's backlog and the age of
  its oldest pending row, and the deadlines due today and overdue.
- ``/healthz``: for the load balancer, 200 when the database answers ``SELECT 1`` within a
  short timeout, 503 otherwise; the body says nothing more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select, text

from bot.metrics import REGISTRY
from storage.outbox_store import waiting_to_be_sent
from storage.tables import Assignment, OutboxMessage
from texts import LOCAL_TIMEZONE

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 2.0
# The classic text format every Prometheus version reads (our names need no escaping).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def database_figures(engine: Engine, now: datetime) -> dict[str, float]:
    """The outbox's pending rows (neither sent nor failed) and the age in seconds of the oldest,
    and the open assignments due today and overdue (P8, P9), in three counts."""
    today: date = now.astimezone(LOCAL_TIMEZONE).date()
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    assignment = Assignment.__table__  # type: ignore[attr-defined]
    pending = waiting_to_be_sent(outbox)  # along the indexes of the rows waiting, on PostgreSQL
    # Along ix_assignment_awaiting (migration 0020): no join to the petitions, and a reopened
    # petition's result is owed again like a forwarded or extended one's.
    open_deadlines = select(
        func.count().filter(assignment.c.due_date == today),
        func.count().filter(assignment.c.due_date < today),
    ).where(assignment.c.awaiting_result.is_(True), assignment.c.due_date <= today)
    with engine.connect() as connection:
        outbox_row = connection.execute(
            select(func.count(), func.min(outbox.c.created_at)).where(pending)
        ).one()
        deadline_row = connection.execute(open_deadlines).one()
        connection.commit()  # not a ROLLBACK (see storage/unit_of_work.py)
    backlog, due, overdue = int(outbox_row[0]), int(deadline_row[0] or 0), int(deadline_row[1] or 0)
    oldest: datetime | None = outbox_row[1]
    if oldest is not None and oldest.tzinfo is None:  # SQLite: stored UTC, read back naive
        oldest = oldest.replace(tzinfo=UTC)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return {
        "backlog": float(backlog),
        "oldest_age": age,
        "due": float(due),
        "overdue": float(overdue),
    }


class DatabaseCollector(Collector):
    """The figures read from the shared database, at each scrape."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _utc_now) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = database_figures(self.engine, self.clock())
        yield GaugeMetricFamily(
            "doithoai_outbox_pending", "Outbox rows neither sent nor failed.", figures["backlog"]
        )
        yield GaugeMetricFamily(
            "doithoai_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox row (0 when none is pending).",
            figures["oldest_age"],
        )
        yield GaugeMetricFamily(
            "doithoai_deadlines_due",
            "Open assignments due today (Asia/Ho_Chi_Minh).",
            figures["due"],
        )
        yield GaugeMetricFamily(
            "doithoai_deadlines_overdue",
            "Open assignments whose due date has passed.",
            figures["overdue"],
        )


class OpsRoutes:
    """``/metrics`` and ``/healthz`` for one process's database."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = _utc_now,
        health_timeout: float = HEALTH_TIMEOUT_SECONDS,
    ) -> None:
        self.engine = engine
        self.health_timeout = health_timeout
        self.database = CollectorRegistry(auto_describe=False)
        self.database.register(DatabaseCollector(engine, clock))

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.get("/metrics", self.metrics), web.get("/healthz", self.healthz)]

    def exposition(self) -> bytes:
        return generate_latest(REGISTRY) + generate_latest(self.database)

    async def metrics(self, request: web.Request) -> web.Response:
        body = await asyncio.to_thread(self.exposition)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    def _select_one(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
            # Not a ROLLBACK: on PostgreSQL it would make psycopg forget the statements the
            # connection prepared (see storage/unit_of_work.py), at every load balancer's look.
            connection.commit()

    async def healthz(self, request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(asyncio.to_thread(self._select_one), self.health_timeout)
        except Exception as error:  # any failure, a timeout included: not healthy
            log.warning("healthz: the database did not answer (%s)", type(error).__name__)
            return web.Response(status=503, text="unavailable\n")
        return web.Response(text="ok\n")
