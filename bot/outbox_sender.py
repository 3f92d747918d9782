"""The outbox sender: delivers queued messages (invitations, status pushes, alerts) through the
channel transports, within the platform's flood limits (X4, C6).

How a row goes out:

* The sender claims due rows with a lease (storage/outbox_store.py); several senders can run.
  It keeps about ``batch`` rows claimed, claiming more as they are finished, and extends the
  lease of rows it still holds.
* The recipient is the person's most recent channel account; the message is rendered from the
  row's kind and data (handlers/notifications.render) and handed to that channel's transport.
* Sends are paced by :class:`bot.rate_limit.RateLimiter`: evenly spaced under the global budget,
  one at a time and at most ``per_chat_per_second`` per chat. Each chat has its own worker, so
  a chat waiting for its turn never holds up the others.
* 429: every send pauses for ``retry_after`` and the same message is sent again afterwards.
  A transient failure (network, 5xx) pushes the row back with exponential backoff, up to
  ``max_attempts``; a permanent one (blocked, chat not found, no account) fails the row with
  its reason. A row is marked sent right after its send, in its own short transaction.
* Several processes on one PostgreSQL (issue 12): one of them is the active sender, elected
  with ``pg_try_advisory_lock`` on a connection held for the sender's life
  (:class:`storage.advisory.SessionLock`), so one global budget is kept per bot. The others try
  again every ``retry_seconds``; when the holder dies its connection closes, PostgreSQL releases
  the lock and one of them takes over within seconds. The holder checks its connection every
  ``check_seconds`` and stops sending when it is lost; a new holder waits twice that (at least
  a platform's one-second window, plus a margin) before its first send, so an old holder that
  lost its connection but lives has stopped by then and a dead one's last sends have left the
  platform's window, and takes over the rows other senders still had claimed (their leases
  need not expire). On SQLite (one process) the sender is always active.
* Replies (issue 12: several workers queue a conversation's replies here, in the turn's
  transaction): rows with ``urgent`` set, addressed to the chat that wrote. They are claimed
  before broadcasts, paced as urgent sends (before the broadcast's waiting sends), and in the
  order written per chat; a transient failure or 429s in a row retry the same piece in place
  (never rescheduled behind later replies). The sender LISTENs (storage/notify.py) for the
  ``NOTIFY`` a turn sends when it queues replies, and claims them at once, even mid-broadcast.
* A message of several pieces records each piece sent (``pieces_sent``) before the next: a
  sender that takes it over starts at the first piece not sent, so only the piece in flight at
  a kill can go out twice.
* Stopping (``stop`` of :meth:`OutboxSender.run_forever`, or cancelling the task) lets sends
  already on the wire finish and be recorded, and gives the other claimed rows back at once;
  after a crash they come back when the lease expires. Delivery is at least once: only a
  crash between a send and its record repeats a message.

The database work runs in threads (``asyncio.to_thread``) so the event loop keeps polling
updates. Logs at INFO carry row ids, kinds and counts, never message text or phone numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine

from bot import metrics
from bot.channels.base import OutsideReplyWindow, prepare, send_call
from bot.rate_limit import RateLimiter
from bot.transports import (
    PermanentFailure,
    RateLimited,
    SplitsMessages,
    TransientFailure,
    Transport,
)
from handlers.channel import Outgoing
from handlers.notifications import render
from handlers.reply_queue import from_data
from storage import outbox_store
from storage.advisory import SessionLock
from storage.notify import Listener
from storage.outbox_store import REPLY_KIND, ClaimedMessage
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
ChatKey = tuple[str, str]

NO_ACCOUNT = "no chat account"
# How many of the people without a chat account the summary line names.
NAMED_WITHOUT_ACCOUNT = 10
# After this many 429s in a row for one message, it waits as a transient failure instead.
MAX_RATE_LIMITED_IN_A_ROW = 10
# How long a stopping sender waits for sends already on the wire.
STOP_GRACE_SECONDS = 10.0


#: Added to a new sender's wait before its first send (see ``OutboxSender._lead``).
TAKEOVER_MARGIN_SECONDS = 0.5


class _Step(Enum):
    NEXT_PIECE = "next piece"  # this piece went out; the message has more
    AGAIN = "again"  # rate limited: the same piece after the pause
    RETRY_HERE = "retry here"  # a reply's transient failure: the same piece after a backoff
    FINISHED = "finished"  # sent, failed or rescheduled: the row is done for now


def default_sender_id() -> str:
    """host:pid:random — unique per process, readable in ``claimed_by``."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def _mark_not_delivered(
    uow: UnitOfWork, row_id: int, *, channel: str, reason: str, now: datetime
) -> None:
    """The row failed, and an event says so on the timeline; one transaction."""
    from procedure.use_cases.delivery import record_not_delivered

    record_not_delivered(uow, row_id, channel=channel, reason=reason, at=now)
    outbox_store.mark_failed(uow, row_id, reason=reason, now=now)


def backoff_delay(attempts: int, base_seconds: float, cap_seconds: float) -> timedelta:
    """The wait after the ``attempts``-th transient failure: base, 2×base, 4×base… up to cap."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1)))


class OutboxSender:
    """Drains the outbox through ``transports`` (channel name → transport)."""

    def __init__(
        self,
        engine: Engine,
        transports: Mapping[str, Transport],
        *,
        sender_id: str | None = None,
        global_per_second: float = 30,
        per_chat_per_second: float = 1,
        batch: int = 100,
        lease_seconds: float = 60,
        max_attempts: int = 8,
        backoff_seconds: float = 5.0,
        max_backoff_seconds: float = 3600.0,
        clock: Callable[[], datetime] = utc_now,
        limiter: RateLimiter | None = None,
        limiters: Mapping[str, RateLimiter] | None = None,
        wait_without_account: bool = False,
        elect: bool = True,
        retry_seconds: float = 1.5,
        check_seconds: float = 0.5,
    ) -> None:
        if batch < 1 or lease_seconds <= 0 or max_attempts < 1:
            raise ValueError("batch, lease_seconds and max_attempts must be positive")
        self._engine = engine
        self._transports = dict(transports)
        self.sender_id = (sender_id or default_sender_id())[:64]
        self.limiter = limiter or RateLimiter(global_per_second, per_chat_per_second)
        # A channel with limits of its own (Telegram's 30 a second) paces on its own limiter,
        # shared with its direct replies; the others on ``limiter``.
        self._limiters = dict(limiters or {})
        self._batch = batch
        self._lease = timedelta(seconds=lease_seconds)
        self._max_attempts = max_attempts
        self._backoff = (backoff_seconds, max_backoff_seconds)
        self._clock = clock
        # The console: a message for someone with no chat account yet waits for one (quietly)
        # instead of failing; a deployed bot fails it with the reason.
        self._wait_without_account = wait_without_account
        # One active sender per database (PostgreSQL); None: always active.
        self.election = SessionLock(engine, "outbox-sender") if elect else None
        self._retry_seconds = retry_seconds
        self._check_seconds = check_seconds
        self._elected = self.election is not None and engine.dialect.name == "postgresql"
        self.leading = not self._elected
        self.takeovers = 0  # how many times this sender became the active one
        # Totals over the sender's life, for logs and benchmarks.
        self.sent = 0
        self.failed = 0
        self.retried = 0
        self.rate_limited = 0
        # State of the drain under way.
        self._draining = False
        self._held: dict[int, ClaimedMessage] = {}
        self._lost: set[int] = set()
        self._abandoned: set[int] = set()
        self._queues: dict[ChatKey, deque[ClaimedMessage]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._on_wire: set[asyncio.Task[_Step]] = set()
        self._progress = asyncio.Event()
        # Rows failed for want of a chat account during the drain under way: one summary line
        # at its end instead of one warning a row (the demo's officials have none).
        self._without_account: list[ClaimedMessage] = []
        # Set when a reply was queued (a NOTIFY, or :meth:`wake`): claim replies now.
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._checked_at = -math.inf  # when the election's connection last answered
        self._listener: Listener | None = None  # for queued replies, while the active sender
        # In-place retries of a reply: 0.5 s, 1 s, 2 s… up to 30 s, as long as this is the sender.
        self._reply_backoff = (0.5, 30.0)

    def wake(self) -> None:
        """A reply was queued: claim it now rather than at the next look."""
        self._wake.set()
        self._progress.set()

    def _wake_from_thread(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self.wake)

    async def _pause(self, stop: asyncio.Event, seconds: float) -> bool:
        """Wait ``seconds``, or less if stopped or woken by a queued reply; True if woken."""
        if self._wake.is_set():
            return not stop.is_set()
        waits = [
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._wake.wait()),
        ]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        return self._wake.is_set() and not stop.is_set()

    # -- the loop ---------------------------------------------------------------------------------

    async def report_waiting(self) -> dict[str, int]:
        """One summary line for the rows that wait for channels this process does not run (the
        demo's Telegram residents in a console session): they stay queued, untouched."""
        waiting = await self._db(
            outbox_store.waiting_for_other_channels,
            set(self._transports),
            include_without_account=self._wait_without_account,
        )
        if waiting:
            log.info(
                "outbox: %s messages wait for channels not configured here (%s)",
                sum(waiting.values()),
                ", ".join(f"{channel}: {count}" for channel, count in sorted(waiting.items())),
            )
        return waiting

    async def run_forever(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> None:
        """Drain, then look again every ``idle_seconds`` when nothing was due, until ``stop``;
        with several processes, only while this one is the elected sender. Woken by a queued
        reply, it claims replies only (a cheap query), and looks for everything else at most
        every ``idle_seconds``."""
        log.info("outbox sender %s started", self.sender_id)
        await self.report_waiting()
        self._loop = asyncio.get_running_loop()
        listener = Listener(self._engine, outbox_store.WAKE_CHANNEL, self._wake_from_thread)
        # Only the active sender listens (issue 12: every NOTIFY of a queued reply wakes each
        # listening connection and its worker); :meth:`_lead` starts and stops it.
        self._listener = listener
        if not self._elected:
            listener.start()
        loop = asyncio.get_running_loop()
        woken, last_full = False, -math.inf
        try:
            while not stop.is_set():
                if not await self._lead(stop):
                    continue
                full = not woken or loop.time() - last_full >= idle_seconds
                if full:
                    last_full = loop.time()
                drain = asyncio.create_task(
                    self.drain_once(urgent_only=not full), name="outbox-drain"
                )
                stopping = asyncio.create_task(stop.wait(), name="outbox-stop")
                watch = asyncio.create_task(self._watch_lock(), name="outbox-lock")
                try:
                    await asyncio.wait(
                        {drain, stopping, watch}, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    stopping.cancel()
                    watch.cancel()
                    if not drain.done():
                        drain.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await drain
                if drain.cancelled():
                    if stop.is_set():
                        break
                    # The lock was lost (its connection died): another process sends now; try
                    # again after the others had their chance.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self._retry_seconds)
                    continue
                error = drain.exception()
                if error is not None:
                    log.error("outbox drain failed", exc_info=error)
                if error is not None or drain.result() == 0 or not full:
                    woken = await self._pause(stop, idle_seconds)
                else:
                    woken = False
        finally:
            await asyncio.to_thread(listener.stop)
            if self.election is not None and self.election.held:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.election.release)
            self.leading = not self._elected
            log.info("outbox sender %s stopped: %s sent", self.sender_id, self.sent)

    async def _lead(self, stop: asyncio.Event) -> bool:
        """Whether this process is the active sender (and still is); waits ``retry_seconds``
        before saying no."""
        election = self.election
        if election is None or not self._elected:
            return True  # SQLite: one process, always the sender
        if election.held and time.monotonic() - self._checked_at < self._check_seconds:
            return not stop.is_set()  # checked a moment ago (a reply wakes this often)
        try:
            if election.held:
                leading = await asyncio.to_thread(election.still_held)
                if leading:
                    self._checked_at = time.monotonic()
                became = False
            else:
                leading = await asyncio.to_thread(election.try_acquire)
                became = leading
        except Exception as error:
            log.warning("outbox sender election failed: %s", type(error).__name__)
            leading, became = False, False
        if self.leading and not leading:
            log.warning("outbox sender %s is no longer the active sender", self.sender_id)
        self.leading = leading
        listener = self._listener
        if listener is not None and leading != listener.running:
            if leading:  # it looks once when LISTEN is in effect: nothing queued is missed
                listener.start()
            else:
                await asyncio.to_thread(listener.stop)
        if became and self._elected:
            self.takeovers += 1
            log.info("outbox sender %s is the active sender", self.sender_id)
            # An old holder that lost its connection but lives stops within check_seconds;
            # then the rows it (or a dead holder) had claimed are taken over at once. The wait
            # is at least a platform's one-second window and a margin: the last sends of a
            # holder killed just now are still counted there (the load test drew 429s at 1 s).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), max(2 * self._check_seconds, 1.0) + TAKEOVER_MARGIN_SECONDS
                )
            try:
                taken = await self._db(outbox_store.take_over_claims, sender_id=self.sender_id)
                if taken:
                    log.info("outbox: %s rows claimed by an earlier sender taken over", taken)
            except Exception:
                log.exception("outbox: could not take over earlier claims")
        if not leading:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._retry_seconds)
        return leading and not stop.is_set()

    async def _watch_lock(self) -> None:
        """Return when the election's connection is lost (never on SQLite)."""
        election = self.election
        if election is None or not self._elected:
            await asyncio.Event().wait()
            return
        while True:
            await asyncio.sleep(self._check_seconds)
            try:
                alive = await asyncio.to_thread(election.still_held)
            except Exception:
                alive = False
            if alive:
                self._checked_at = time.monotonic()
            if not alive:
                log.warning("outbox sender %s lost the election lock; stops", self.sender_id)
                self.leading = False
                return

    async def drain_once(self, *, urgent_only: bool = False) -> int:
        """Send everything due now (with ``urgent_only``, the replies); returns how many
        messages were sent.

        Cancelling it stops cleanly: sends on the wire finish and are recorded, the other
        claimed rows are given back."""
        if self._draining:
            raise RuntimeError("this sender is already draining")
        self._draining = True
        sent_before = self.sent
        renewer = asyncio.create_task(self._renew_leases(), name="outbox-leases")
        try:
            exhausted = False
            while True:
                woken = self._wake.is_set()
                self._wake.clear()
                room = self._batch - len(self._held)
                if not exhausted and room >= max(1, self._batch // 2):
                    claimed = await self._claim(room, urgent_only=urgent_only)
                    exhausted = len(claimed) < room
                    self._dispatch(claimed)
                elif woken:  # replies were queued: they go before the broadcast held here
                    self._dispatch(await self._claim(self._batch, urgent_only=True))
                if not self._held:
                    if exhausted:
                        break
                    continue
                await self._progress.wait()
                self._progress.clear()
        finally:
            renewer.cancel()
            await self._wind_down()
            self._draining = False
            self._report_without_account()
        sent = self.sent - sent_before
        if sent:
            log.info(
                "outbox: %s sent (%s failed, %s retried in all)", sent, self.failed, self.retried
            )
        return sent

    async def drain_once_if_elected(self) -> int | None:
        """One drain by a process that is not a long-running sender (the console of ``doithoai
        chat``, a benchmark), taking part in the election: on PostgreSQL it drains only while no
        other process is the active sender, holding the election's lock for the drain and
        letting it go after; None, and nothing sent, while another process holds it. On SQLite
        (one process) it is :meth:`drain_once`."""
        election = self.election
        if election is None or not self._elected:
            return await self.drain_once()
        if not await asyncio.to_thread(election.try_acquire):
            log.info("outbox: another process is the active sender; no drain here")
            return None
        try:
            return await self.drain_once()
        finally:
            await asyncio.to_thread(election.release)

    async def _claim(self, limit: int, *, urgent_only: bool = False) -> list[ClaimedMessage]:
        # PostgreSQL's claim of replies is one statement (storage/outbox_store.py).
        run = self._db_one if urgent_only else self._db
        return await run(
            outbox_store.claim_due,
            sender_id=self.sender_id,
            now=self._clock(),
            lease=self._lease,
            limit=limit,
            channels=set(self._transports),
            without_account=not self._wait_without_account,
            urgent_only=urgent_only,
        )

    def _dispatch(self, rows: list[ClaimedMessage]) -> None:
        """Queue each row behind its chat; a chat without a worker gets one."""
        for row in rows:
            self._held[row.id] = row
            key: ChatKey = (row.channel or "", row.chat_id or f"row:{row.id}")
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(row)
                continue
            queue = self._queues[key] = deque([row])
            worker = asyncio.create_task(self._work(key, queue), name=f"outbox-chat-{row.id}")
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)

    async def _work(self, key: ChatKey, queue: deque[ClaimedMessage]) -> None:
        try:
            while queue:
                await self._deliver(key, queue[0])
                queue.popleft()
        except Exception:
            log.exception("outbox worker failed; its rows are given back")
            for row in queue:
                self._abandoned.add(row.id)
                self._let_go(row.id)
        finally:
            if self._queues.get(key) is queue:
                del self._queues[key]

    async def _wind_down(self) -> None:
        """Stop the workers, let sends on the wire finish, give back the rest."""
        for worker in list(self._workers):
            worker.cancel()
        if self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)
        if self._on_wire:
            await asyncio.wait(set(self._on_wire), timeout=STOP_GRACE_SECONDS)
        unfinished = sorted({*self._held, *self._abandoned})
        self._held.clear()
        self._abandoned.clear()
        self._lost.clear()
        self._queues.clear()
        if unfinished:
            with contextlib.suppress(Exception):
                released = await asyncio.shield(
                    self._db(outbox_store.release_claims, unfinished, sender_id=self.sender_id)
                )
                log.info("outbox: %s claimed rows given back", released)

    # -- one row --------------------------------------------------------------------------------

    async def _deliver(self, key: ChatKey, row: ClaimedMessage) -> None:
        if row.id in self._lost:
            self._let_go(row.id)
            return
        prepared = self._prepare(row)
        if isinstance(prepared, str):
            await self._fail(row, prepared)
            return
        transport, pieces = prepared
        # The pieces an earlier sender already sent are not sent again.
        index, limited, failures = min(row.pieces_sent, len(pieces) - 1), 0, 0
        ready: tuple[int, Outgoing] | None = None  # the piece prepared, outside the turn
        while index < len(pieces):
            if row.id in self._lost:
                self._let_go(row.id)
                return
            if ready is None or ready[0] != index:
                assert row.chat_id is not None
                try:
                    ready = index, await prepare(transport, row.chat_id, pieces[index])
                except Exception as error:
                    log.exception("outbox row %s: could not prepare a piece", row.id)
                    await self._retry(row, f"unexpected {type(error).__name__}")
                    return
            async with self._limiter_for(row).slot(key, urgent=row.urgent):
                attempt = asyncio.create_task(
                    self._attempt(row, transport, ready[1], index, len(pieces))
                )
                self._on_wire.add(attempt)
                attempt.add_done_callback(self._on_wire.discard)
                step = await asyncio.shield(attempt)
            if step is _Step.NEXT_PIECE:
                index, limited, failures = index + 1, 0, 0
            elif step is _Step.AGAIN:
                limited += 1
                if limited >= MAX_RATE_LIMITED_IN_A_ROW and not row.urgent:
                    await self._retry(row, "rate limited again and again")
                    return
            elif step is _Step.RETRY_HERE:
                # A reply keeps its place in its chat's order: the same piece after a backoff.
                failures += 1
                self.retried += 1
                await asyncio.sleep(backoff_delay(failures, *self._reply_backoff).total_seconds())
            else:
                return

    def _prepare(self, row: ClaimedMessage) -> tuple[Transport, list[Outgoing]] | str:
        """The transport and the pieces to send, or why the row cannot be sent."""
        if row.channel is None or row.chat_id is None:
            return NO_ACCOUNT
        transport = self._transports.get(row.channel)
        if transport is None:
            return f"no transport for channel {row.channel}"
        try:
            message = from_data(row.data) if row.kind == REPLY_KIND else render(row.kind, row.data)
        except Exception as error:
            log.exception("outbox row %s: cannot render kind %s", row.id, row.kind)
            return f"cannot render {row.kind}: {type(error).__name__}"
        pieces = transport.pieces(message) if isinstance(transport, SplitsMessages) else [message]
        return transport, pieces

    def _limiter_for(self, row: ClaimedMessage) -> RateLimiter:
        return self._limiters.get(row.channel or "", self.limiter)

    async def _attempt(
        self, row: ClaimedMessage, transport: Transport, piece: Outgoing, index: int, count: int
    ) -> _Step:
        """Send piece ``index`` of ``count`` and record the outcome; shielded, so a stopping
        sender still records a send that went out."""
        assert row.chat_id is not None
        try:
            await send_call(transport)(row.chat_id, piece)
        except RateLimited as limit:
            self.rate_limited += 1
            metrics.rate_limited(row.channel or "")
            self._limiter_for(row).pause(limit.retry_after)
            log.warning(
                "outbox: rate limited, pausing all sends %.1f s (row %s)", limit.retry_after, row.id
            )
            return _Step.AGAIN
        except OutsideReplyWindow as refused:
            # Zalo's reply window: failed too, and an event staff and the resident can see.
            self.failed += 1
            log.warning("outbox row %s (%s) not delivered: %s", row.id, row.kind, refused.reason)
            await self._record(
                row,
                _mark_not_delivered,
                row.id,
                channel=row.channel or "",
                reason=refused.reason,
                now=self._clock(),
            )
            return _Step.FINISHED
        except PermanentFailure as failure:
            await self._fail(row, failure.reason)
            return _Step.FINISHED
        except TransientFailure as failure:
            if row.urgent:
                log.warning("outbox row %s: a reply piece retried: %s", row.id, failure.reason)
                return _Step.RETRY_HERE
            await self._retry(row, failure.reason)
            return _Step.FINISHED
        except Exception as error:  # an unmapped error: assume it may pass
            log.exception("outbox row %s: unexpected error while sending", row.id)
            if row.urgent:
                return _Step.RETRY_HERE
            await self._retry(row, f"unexpected {type(error).__name__}")
            return _Step.FINISHED
        if index < count - 1:
            try:  # a sender taking the row over starts after this piece
                await self._db_one(outbox_store.mark_pieces_sent, row.id, pieces=index + 1)
            except Exception:
                log.exception("outbox row %s: could not record a piece sent", row.id)
            return _Step.NEXT_PIECE
        await self._record(row, outbox_store.mark_sent, row.id, now=self._clock(), one=True)
        self.sent += 1
        log.debug("outbox row %s (%s) sent", row.id, row.kind)
        return _Step.FINISHED

    async def _fail(self, row: ClaimedMessage, reason: str) -> None:
        self.failed += 1
        if reason == NO_ACCOUNT:
            self._without_account.append(row)
            log.debug("outbox row %s (%s) failed: %s", row.id, row.kind, reason)
        else:
            log.warning("outbox row %s (%s) failed: %s", row.id, row.kind, reason)
        await self._record(row, outbox_store.mark_failed, row.id, reason=reason, now=self._clock())

    def _report_without_account(self) -> None:
        """One warning for every row of the drain that failed for want of a chat account: how
        many, for whom (person ids, the first few) and of which kinds."""
        rows, self._without_account = self._without_account, []
        if not rows:
            return
        people = sorted({row.person_id for row in rows})
        kinds = Counter(row.kind for row in rows)
        shown = ", ".join(str(person) for person in people[:NAMED_WITHOUT_ACCOUNT])
        if len(people) > NAMED_WITHOUT_ACCOUNT:
            shown += f" and {len(people) - NAMED_WITHOUT_ACCOUNT} more"
        log.warning(
            "outbox: %s messages failed: %s (%s people: %s; %s)",
            len(rows),
            NO_ACCOUNT,
            len(people),
            shown,
            ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())),
        )

    async def _retry(self, row: ClaimedMessage, reason: str) -> None:
        attempts = row.attempts + 1
        now = self._clock()
        if attempts >= self._max_attempts:
            self.failed += 1
            reason = f"{reason} (gave up after {attempts} attempts)"
            log.warning("outbox row %s (%s) failed: %s", row.id, row.kind, reason)
            await self._record(
                row, outbox_store.mark_failed, row.id, reason=reason, now=now, attempts=attempts
            )
            return
        self.retried += 1
        delay = backoff_delay(attempts, *self._backoff)
        log.info(
            "outbox row %s (%s) retried in %s s: %s",
            row.id,
            row.kind,
            delay.total_seconds(),
            reason,
        )
        await self._record(
            row,
            outbox_store.schedule_retry,
            row.id,
            reason=reason,
            attempts=attempts,
            available_at=now + delay,
        )

    async def _record(
        self,
        row: ClaimedMessage,
        work: Callable[..., object],
        *args: object,
        one: bool = False,
        **kwargs: object,
    ) -> None:
        """Write how a row ended; the row is no longer held either way (if the database is
        down, the lease expires and the row comes back). ``one``: ``work`` is one statement
        (:meth:`_db_one`)."""
        try:
            await (self._db_one if one else self._db)(work, *args, **kwargs)
        except Exception:
            log.exception("outbox row %s: could not record the outcome", row.id)
        finally:
            self._let_go(row.id)

    def _let_go(self, row_id: int) -> None:
        self._held.pop(row_id, None)
        self._progress.set()

    # -- leases and the database ------------------------------------------------------------------

    async def _renew_leases(self) -> None:
        """Extend the lease of held rows every third of it; rows taken over are dropped."""
        period = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(period)
            ids = sorted(self._held)
            if not ids:
                continue
            try:
                kept = await self._db(
                    outbox_store.extend_claims,
                    ids,
                    sender_id=self.sender_id,
                    until=self._clock() + self._lease,
                )
            except Exception:
                log.exception("outbox: could not extend leases")
                continue
            for row_id in set(ids) - kept:
                if row_id in self._held:
                    log.warning("outbox row %s: lease lost to another sender", row_id)
                    self._lost.add(row_id)

    async def _db(
        self,
        work: Callable[Concatenate[UnitOfWork, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``work(uow, …)`` in a thread, in a unit of work of its own."""

        def run() -> T:
            with UnitOfWork(self._engine) as uow:
                return work(uow, *args, **kwargs)

        return await asyncio.to_thread(run)

    async def _db_one(
        self,
        work: Callable[Concatenate[UnitOfWork, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """:meth:`_db` for a ``work`` of ONE statement: in autocommit on PostgreSQL (issue 12:
        no BEGIN and COMMIT round trips for the sender's claim and record of each reply)."""

        def run() -> T:
            with UnitOfWork(self._engine, autocommit=True) as uow:
                return work(uow, *args, **kwargs)

        return await asyncio.to_thread(run)
