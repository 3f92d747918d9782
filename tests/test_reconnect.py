"""A platform out of reach (bot/channels/reconnect.py): its start is tried again until it
succeeds, and while it stays out of reach (Telegram blocked in Vietnam since June 2025) the log
gets a warning for each attempt while the delays grow, then one an hour or when the failure
changes kind, the attempts between them at DEBUG (C7: the channels; an operator reads the log)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

import pytest

from bot.channels import reconnect
from bot.channels.reconnect import REPORT_EVERY_SECONDS, RETRY_SECONDS, OutOfReach


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_c7_warnings_while_the_delays_grow_then_one_an_hour() -> None:
    clock = Clock()
    reports = OutOfReach(clock)
    levels = []
    for attempt in range(len(RETRY_SECONDS)):
        levels.append(reports.level(attempt, ConnectionError("refused")))
        clock.now += reconnect.retry_delay(attempt)
    assert levels == [logging.WARNING] * len(RETRY_SECONDS)
    # Then each minute: DEBUG until an hour after the last warning.
    attempt = len(RETRY_SECONDS)
    quiet = 0
    while reports.level(attempt, ConnectionError("refused")) == logging.DEBUG:
        quiet += 1
        attempt += 1
        clock.now += RETRY_SECONDS[-1]
    assert quiet == REPORT_EVERY_SECONDS // RETRY_SECONDS[-1] - 1
    assert reports.minutes() == int((clock.now - 1000.0) // 60)


def test_c7_a_failure_of_another_kind_is_warned_at_once() -> None:
    clock = Clock()
    reports = OutOfReach(clock)
    late = len(RETRY_SECONDS) + 3
    assert reports.level(late, ConnectionError("refused")) == logging.WARNING
    clock.now += 60
    assert reports.level(late + 1, ConnectionError("refused")) == logging.DEBUG
    assert reports.level(late + 2, PermissionError("token refused")) == logging.WARNING
    assert reports.level(late + 3, PermissionError("token refused")) == logging.DEBUG
    # Polling that ended without an error is a kind too.
    assert reports.level(late + 4, None) == logging.WARNING


async def test_c7_forty_failed_attempts_are_two_warnings_then_it_connects(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(reconnect, "RETRY_SECONDS", (0.001,))
    attempts = 0
    connected = asyncio.Event()

    async def connect() -> None:
        nonlocal attempts
        attempts += 1
        if attempts <= 20:
            raise ConnectionError("Cannot connect to host api.telegram.org:443")
        if attempts <= 40:
            raise PermissionError("Unauthorized")
        connected.set()

    with caplog.at_level(logging.DEBUG, logger=reconnect.__name__):
        task = await reconnect.start_or_retry("Telegram", connect)
        assert task is not None
        await asyncio.wait_for(connected.wait(), 10)
        await task
    records = [r for r in caplog.records if r.name == reconnect.__name__]
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings
    assert "could not be reached at start (ConnectionError" in warnings[0]
    assert "still out of reach (attempt 21 in 0 min: PermissionError: Unauthorized)" in warnings[1]
    assert sum(r.levelno == logging.DEBUG for r in records) == 38
    assert records[-1].levelno == logging.INFO
    assert "reached after 41 attempts" in records[-1].getMessage()


async def test_c7_polling_that_had_worked_for_a_while_restarts_after_the_first_delay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Long polling stopped three times in a row waits longer each time; once it has polled
    for a while, its next stop is a new outage: polled again after the first delay, not after
    the longest one an earlier outage reached."""
    from bot.channels.telegram import channel as telegram_channel
    from bot.channels.telegram.channel import TelegramChannel

    monkeypatch.setattr(reconnect, "RETRY_SECONDS", (0.01, 0.02, 0.03, 30.0))
    monkeypatch.setattr(telegram_channel, "POLLED_LONG_SECONDS", 0.2)
    polls: list[float] = []
    done = asyncio.Event()

    class Polling(TelegramChannel):
        async def _poll(self) -> None:
            polls.append(asyncio.get_running_loop().time())
            if len(polls) == 4:
                await asyncio.sleep(0.3)  # it polled for a while, then stopped
            if len(polls) == 5:
                done.set()
                await asyncio.Event().wait()  # polls until stopped
            raise ConnectionError("Cannot connect to host api.telegram.org:443")

        async def _stop_polling(self) -> None:
            return None

    for name in sorted(TelegramChannel.__abstractmethods__ - {"_poll"}):
        setattr(Polling, name, None)
    Polling.__abstractmethods__ = frozenset()
    channel = Polling()
    task = asyncio.create_task(channel._keep_polling())
    try:
        await asyncio.wait_for(done.wait(), 5)  # 30 s had it gone on from the fourth delay
    finally:
        channel._stopping = True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    assert gaps[3] - 0.3 < 1.0


def test_c7_aiogram_polling_through_an_outage_is_a_few_log_lines_not_two_every_5_s() -> None:
    """aiogram's dispatcher logs each failed getUpdates twice and tries again every 1-5 s;
    the filter the bot puts on its logger lets the first failures through, then one an hour
    (here: none in the next 100) or when the failure changes kind, and aiogram's "Connection
    established" ends the outage. The records are aiogram's own, as its dispatcher makes them."""
    from bot.channels.telegram.aiogram_shim import QuietFailedPolls

    def record(message: str, *args: object) -> logging.LogRecord:
        return logging.LogRecord(
            "aiogram.dispatcher", logging.ERROR, __file__, 1, message, args, None
        )

    failed = "Failed to fetch updates - %s: %s"
    sleeping = "Sleep for %f seconds and try again... (tryings = %d, bot id = %d)"
    quiet = QuietFailedPolls()

    def outage(kind: str, count: int) -> list[bool]:
        passed = []
        for n in range(count):
            passed.append(quiet.filter(record(failed, kind, "Cannot connect to host")))
            assert quiet.filter(record(sleeping, 5.0, n, 1)) is passed[-1]
        return passed

    first = outage("TelegramNetworkError", 106)
    assert first == [True] * len(RETRY_SECONDS) + [False] * 100
    assert outage("TelegramUnauthorizedError", 2) == [True, False]  # another kind: said
    assert quiet.filter(record("Connection established (tryings = %d, bot id = %d)", 108, 1))
    assert outage("TelegramNetworkError", 2) == [True, True]  # a new outage
    assert quiet.filter(record("Run polling for bot @%s id=%d - %r", "b", 1, "x"))
