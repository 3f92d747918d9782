"""Pacing of outgoing messages under a platform's flood limits (Telegram: about 30 messages a
second overall, about one a second in a chat).

:class:`RateLimiter` spaces sends evenly instead of letting them out in bursts: a budget of
``global_per_second`` becomes one send every ``1 / (global_per_second * headroom)`` seconds, so
the platform's sliding window never sees more than its budget even with some network jitter.
The spacing is measured from when each send really started: sends delayed by a busy event loop
go out one by one afterwards, never in a burst that would overflow the platform's window.
A chat gets its next message no sooner than ``1 / per_chat_per_second`` seconds after its
previous send *finished*, and never two at once. :meth:`RateLimiter.pause` stops every send for
the ``retry_after`` a 429 asked for. Chats ready to send take their turn first come first served,
except that an ``urgent`` send (a reply to someone who is writing, bot/reply_sender.py) goes
before the others waiting (an invitation broadcast's), so a broadcast does not slow a chat down.

Time is ``time.monotonic`` unless a clock is given; the waits are ``asyncio.sleep``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager

# Sends go out under the published budget: 30/s becomes one send every 37 ms (27 a second).
# Evenly spaced sends do not arrive evenly spaced: a stalled event loop or a slow request lets
# a few bunch at the platform, and 0.96 (28.8 a second) left too little room for that: a test
# broadcast drew one 429 in a few whole-suite runs, and so did the load test.
DEFAULT_HEADROOM = 0.9
# A pause lasts a little longer than asked: the platform's clock and ours are not the same.
PAUSE_MARGIN = 0.05
# Ready times of chats are forgotten once past, when this many are kept.
_PRUNE_AT = 4096


class _Gate:
    """A lock taken by urgent waiters first, then first come first served."""

    def __init__(self) -> None:
        self._locked = False
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, urgent: bool) -> None:
        if not self._locked and not self._waiters:
            self._locked = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (0 if urgent else 1, next(self._order), waiter))
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # handed the gate, then cancelled
                self.release()
            raise

    def release(self) -> None:
        """Hand the gate to the next waiter still waiting, or leave it open."""
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._locked = False


class RateLimiter:
    """A global budget of evenly spaced sends, one send at a time per chat, and pauses."""

    def __init__(
        self,
        global_per_second: float = 30,
        per_chat_per_second: float = 1,
        *,
        headroom: float = DEFAULT_HEADROOM,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if global_per_second <= 0 or per_chat_per_second <= 0:
            raise ValueError("rates must be positive")
        if not 0 < headroom <= 1:
            raise ValueError("headroom must be in (0, 1]")
        self.global_per_second = global_per_second
        self.per_chat_per_second = per_chat_per_second
        self._interval = 1.0 / (global_per_second * headroom)
        self._chat_interval = 1.0 / per_chat_per_second
        self._clock = clock
        # A send that starts up to this late does not delay the next: sleeps overshoot a little.
        self._tolerance = min(0.002, self._interval / 10)
        self._next_start = -math.inf  # the earliest moment the next send may start
        self._gate = _Gate()  # chats ready to send queue here: urgent first, then in order
        self._paused_until = -math.inf
        self._chat_ready: dict[Hashable, float] = {}
        # One lock per chat with a send waiting or under way, and how many hold or await it.
        self._chat_locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @property
    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (a 429's ``retry_after``); a longer pause wins."""
        until = self._clock() + max(0.0, seconds) + PAUSE_MARGIN
        self._paused_until = max(self._paused_until, until)

    @asynccontextmanager
    async def slot(self, chat: Hashable, *, urgent: bool = False) -> AsyncIterator[None]:
        """``async with limiter.slot(chat): await send()`` — wait for a turn, then send."""
        await self.acquire(chat, urgent=urgent)
        try:
            yield
        finally:
            self.release(chat)

    async def acquire(self, chat: Hashable, *, urgent: bool = False) -> None:
        """Wait until one message may go to ``chat``; :meth:`release` must follow the send.
        ``urgent``: before the non-urgent sends of other chats that are waiting."""
        lock, users = self._chat_locks.get(chat, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._chat_locks[chat] = (lock, users + 1)
        try:
            await lock.acquire()
        except BaseException:
            self._leave(chat)
            raise
        try:
            await self._wait_for_turn(chat, urgent)
        except BaseException:
            lock.release()
            self._leave(chat)
            raise

    def release(self, chat: Hashable) -> None:
        """The send to ``chat`` is over: its next message waits a per-chat interval from now."""
        self._chat_ready[chat] = self._clock() + self._chat_interval
        entry = self._chat_locks.get(chat)
        if entry is not None and entry[0].locked():
            entry[0].release()
            self._leave(chat)
        if len(self._chat_ready) > _PRUNE_AT:
            now = self._clock()
            self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now}

    async def _wait_for_turn(self, chat: Hashable, urgent: bool) -> None:
        ready = self._chat_ready.get(chat, -math.inf)
        while (wait := ready - self._clock()) > 0:
            await asyncio.sleep(wait)
        await self._gate.acquire(urgent)
        try:
            while (wait := max(self._next_start, self._paused_until) - self._clock()) > 0:
                await asyncio.sleep(wait)
            started = self._clock()
            self._next_start = max(
                self._next_start + self._interval, started + self._interval - self._tolerance
            )
        finally:
            self._gate.release()

    def _leave(self, chat: Hashable) -> None:
        lock, users = self._chat_locks[chat]
        if users <= 1:
            del self._chat_locks[chat]
        else:
            self._chat_locks[chat] = (lock, users - 1)
