"""What the process counts for operators (item 7 of issue 12), served at ``/metrics`` by
bot/ops.py in Prometheus' text format.

The counters live in this process (``REGISTRY``); the outbox's backlog and the deadlines are
read from the database when scraped (bot/ops.py), since every process shares one database.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram

from bot.channels.base import Handle
from handlers.channel import Incoming, Outgoing

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES_HANDLED = Counter(
    "doithoai_updates_handled",
    "Updates handled, by channel and outcome (ok: answered; error: the handler raised).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
HANDLING_SECONDS = Histogram(
    "doithoai_update_handling_seconds",
    "Time to handle one update (the conversation's turn, its transaction included).",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "doithoai_rate_limited",
    "429 answers (too many requests) from a channel's API, replies and outbox together.",
    ["channel"],
    registry=REGISTRY,
)

def rate_limited(channel: str) -> None:
    """A channel answered 429."""
    RATE_LIMITED.labels(channel=channel or "unknown").inc()


def rate_limited_count(channel: str) -> float:
    """429s counted so far for ``channel`` in this process."""
    return REGISTRY.get_sample_value("doithoai_rate_limited_total", {"channel": channel}) or 0.0


def observed(handle: Handle) -> Handle:
    """``handle`` counting its updates and timing them."""

    async def counted(incoming: Incoming) -> list[Outgoing]:
        started = time.perf_counter()
        outcome = "error"
        try:
            replies = await handle(incoming)
            outcome = "ok"
            return replies
        finally:
            HANDLING_SECONDS.labels(channel=incoming.channel).observe(
                time.perf_counter() - started
            )
            UPDATES_HANDLED.labels(channel=incoming.channel, outcome=outcome).inc()

    return counted
