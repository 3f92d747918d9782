"""A platform out of reach when its channel starts stops nothing.

Telegram blocked by Vietnam's operators (since June 2025), a network down, a Bot API answering
5xx or 429, a token refused: a channel whose start must speak to its platform (Telegram's
menus, webhook or long polling; Zalo Bot's webhook) tries once, and on failure returns all the
same, so that the other channels of the same ``doithoai run`` serve; its start is tried again in
the background after RETRY_SECONDS, with a warning each time, until it succeeds or the channel
stops (it cancels the task)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# Seconds before each new attempt (the last one repeated).
RETRY_SECONDS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0)


def retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (0: the first)."""
    return RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]


def describe(failure: BaseException) -> str:
    """A failure to reach a platform in a log line: its kind and message (a network error, the
    platform's answer), never a traceback."""
    message = str(getattr(failure, "message", "") or failure)
    return f"{type(failure).__name__}: {message}" if message else type(failure).__name__


async def start_or_retry(
    platform: str, connect: Callable[[], Awaitable[None]]
) -> asyncio.Task[None] | None:
    """``connect()``; None when it succeeded, else the task that tries it again."""
    try:
        await connect()
    except Exception as failure:
        log.warning(
            "%s could not be reached at start (%s); the other channels run, trying again in %.0f s",
            platform,
            describe(failure),
            retry_delay(0),
        )
        return asyncio.create_task(_again(platform, connect), name=f"connect {platform}")
    return None


async def _again(platform: str, connect: Callable[[], Awaitable[None]]) -> None:
    for attempt in itertools.count(1):
        await asyncio.sleep(retry_delay(attempt - 1))
        try:
            await connect()
        except Exception as failure:
            log.warning(
                "%s still out of reach (attempt %s: %s); trying again in %.0f s",
                platform,
                attempt + 1,
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
