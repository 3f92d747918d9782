"""A platform out of reach when its channel starts stops nothing.

Telegram blocked by Vietnam's operators (since June 2025), a network down, a Bot API answering
5xx or 429, a token refused: a channel whose start must speak to its platform (Telegram's
menus, webhook or long polling; Zalo Bot's webhook) tries once, and on failure returns all the
same, so that the other channels of the same ``doithoai run`` serve; its start is tried again in
the background after RETRY_SECONDS until it succeeds or the channel stops (it cancels the task).

Each failed attempt is a warning while the delays grow; then, while the platform stays out of
reach (Telegram blocked for months), one warning an hour and one whenever the failure changes
kind (a network error becoming a refused token), the attempts between them at DEBUG: a day of
a blocked Telegram is 24 lines in the log, not 1,440."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# Seconds before each new attempt (the last one repeated).
RETRY_SECONDS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0)
# Once the delay is the last one, a warning at most this often while the failure stays the same.
REPORT_EVERY_SECONDS = 3600.0


def retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (0: the first)."""
    return RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]


def describe(failure: BaseException) -> str:
    """A failure to reach a platform in a log line: its kind and message (a network error, the
    platform's answer), never a traceback."""
    message = str(getattr(failure, "message", "") or failure)
    return f"{type(failure).__name__}: {message}" if message else type(failure).__name__


class OutOfReach:
    """Which failed attempts to reach a platform are worth a warning: each one while the delays
    grow, then one per REPORT_EVERY_SECONDS, and any whose failure is of another kind than the
    last warned one."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.since = clock()
        self._warned_at = -math.inf
        self._kind: str | None = None

    def level(self, attempt: int, failure: BaseException | str | None) -> int:
        """The log level for failed attempt ``attempt`` (0: the first); ``failure`` None when
        the attempt ended without an error (long polling that stopped by itself), or the name
        of its kind when only that is known."""
        now = self._clock()
        kind = failure if isinstance(failure, str) else type(failure).__name__
        growing = attempt < len(RETRY_SECONDS)  # up to the first "trying again in 60 s"
        if growing or kind != self._kind or now - self._warned_at >= REPORT_EVERY_SECONDS:
            self._warned_at, self._kind = now, kind
            return logging.WARNING
        return logging.DEBUG

    def minutes(self) -> int:
        """Whole minutes since the first failure."""
        return int((self._clock() - self.since) // 60)


class FailedPolls:
    """The failed polls of one platform in a row, reported as :class:`OutOfReach` decides; a
    poll that succeeds ends the outage."""

    def __init__(self) -> None:
        self.failed = 0
        self.reports = OutOfReach()

    def failure(self, failure: BaseException | str) -> tuple[int, float]:
        """This failure counted: the level to log it at, and the seconds to wait before the
        next poll."""
        if not self.failed:  # a new outage
            self.reports = OutOfReach()
        level = self.reports.level(self.failed, failure)
        delay = retry_delay(self.failed)
        self.failed += 1
        return level, delay

    def reached(self) -> int:
        """How many polls had failed before this one succeeded (0: none)."""
        failed, self.failed = self.failed, 0
        return failed


async def start_or_retry(
    platform: str, connect: Callable[[], Awaitable[None]]
) -> asyncio.Task[None] | None:
    """``connect()``; None when it succeeded, else the task that tries it again."""
    reports = OutOfReach()
    try:
        await connect()
    except Exception as failure:
        log.log(
            reports.level(0, failure),
            "%s could not be reached at start (%s); the other channels run, trying again in %.0f s",
            platform,
            describe(failure),
            retry_delay(0),
        )
        return asyncio.create_task(_again(platform, connect, reports), name=f"connect {platform}")
    return None


async def _again(
    platform: str, connect: Callable[[], Awaitable[None]], reports: OutOfReach
) -> None:
    for attempt in itertools.count(1):
        await asyncio.sleep(retry_delay(attempt - 1))
        try:
            await connect()
        except Exception as failure:
            log.log(
                reports.level(attempt, failure),
                "%s still out of reach (attempt %s in %s min: %s); trying again in %.0f s",
                platform,
                attempt + 1,
                reports.minutes(),
                describe(failure),
                retry_delay(attempt),
            )
        else:
            log.info("%s reached after %s attempts: its channel runs", platform, attempt + 1)
            return


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Stop trying (a channel's stop)."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
