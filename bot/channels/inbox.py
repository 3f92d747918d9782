"""The inbox of a webhook channel: acknowledge fast, handle from the database.

The webhook stores each event (UNIQUE (channel, event id): a redelivery is a no-op) and answers
at once; a background task claims stored events and handles them, the events of one chat in
order and different chats side by side: each claimed event runs in a task of its own, and a
chat's next event is claimed as soon as the previous one is done (not when a whole batch is).
With several workers on one PostgreSQL every worker runs this task; claims skip each other's
rows (``FOR UPDATE SKIP LOCKED``) and only the oldest unhandled event of a chat is claimable, so
a chat's events are handled one after the other whichever worker takes them.

One round trip and one statement an event besides its turn (issue 12: each is CPU in every
worker and in PostgreSQL): the webhook stores the event and, when its chat has nothing before
it, claims it in the same statement (on PostgreSQL one call of ``inbox_store`` in autocommit,
storage/channel_store.py), so the worker that got it handles it, after the chat's spacing if its
previous event was handled less than that ago. Where replies go through the outbox, the event is
marked handled, and its chat's next one taken, in the turn's own transaction
(:meth:`Inbox.finish_in_turn`); otherwise, or when the turn rolled back, in a short transaction
of its own. The ``idle_seconds`` look-again only picks up claims of workers that died and events
left while this worker had no room.

An event is marked handled only once its replies are sent or committed to the outbox, so a
crash after the acknowledgement loses nothing: on start, and when a claim expires, unhandled
events are handled.
The conversation's own claim of the update id (handlers/state.py) keeps a half-handled event
from being answered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.channels.plain_text import in_store
from handlers.channel import Incoming
from storage import channel_store
from storage.channel_store import ClaimedEvent
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# How long stopping waits for the events under way.
STOP_GRACE_SECONDS = 10.0
Process = Callable[[dict[str, object]], Awaitable[None]]
ChatOf = Callable[[dict[str, object]], str]
Done = Callable[[str], Awaitable[None]]


#: How long an event taken from the inbox is its worker's without a renewal. The worker renews
#: the claims of the events it holds every third of it (:meth:`Inbox._renew`), so a slow turn
#: keeps its event; past it, another worker takes the events of a worker that died, so a
#: resident whose message a killed worker held waits about this long (the conversation's claim
#: of the update id keeps it answered once). Every channel's inbox uses it; it was 30 s without
#: renewals, and the load test's Zalo residents waited all of it after a kill.
LEASE_SECONDS = 9.0


class Inbox:
    def __init__(
        self,
        engine: Engine,
        channel: str,
        process: Process,
        chat_of: ChatOf,
        *,
        on_done: Done | None = None,
        lease_seconds: float = LEASE_SECONDS,
        batch: int = 50,
        idle_seconds: float = 1.0,
        chat_spacing_seconds: float = 0.0,
    ) -> None:
        self._engine = engine
        self.channel = channel
        self._process = process
        self._chat_of = chat_of
        self._on_done = on_done
        self._lease = timedelta(seconds=lease_seconds)
        self._batch = batch
        self._idle = idle_seconds
        self._spacing = timedelta(seconds=chat_spacing_seconds) if chat_spacing_seconds else None
        self._spacing_seconds = chat_spacing_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._draining = asyncio.Lock()
        self._in_flight: set[asyncio.Task[None]] = set()
        # Those of them still waiting for their chat's spacing: claimed, but nothing under way
        # yet; they leave room for others (with Telegram's second a chat, a worker at a peak
        # has an event of most of its chats waiting).
        self._spaced: set[asyncio.Task[None]] = set()
        # Events being handled here, by event id, and those marked handled in their turn's
        # transaction (:meth:`finish_in_turn`), with what that transaction claimed next.
        self._under_way: dict[str, ClaimedEvent] = {}
        # The row ids of every event claimed here and not yet finished (waiting for its chat's
        # spacing, or being handled): their claims are renewed while the inbox runs.
        self._held: set[int] = set()
        self._renewer: asyncio.Task[None] | None = None
        self._finished_in_turn: dict[str, channel_store.Finished] = {}
        self.handled = 0

    async def put(self, event_id: str, payload: dict[str, object]) -> bool:
        """Store a received event; False for a redelivery. While the inbox runs, the event is
        claimed in the same statement when its chat has nothing before it, and handed out at
        once (after the chat's spacing if its previous event was handled less than that ago)."""
        chat = self._chat_of(payload)[:64]
        room = self._room() if self._task is not None else 0
        done = await asyncio.to_thread(
            channel_store.store_at_once,
            self._engine,
            self.channel,
            event_id,
            payload,
            utc_now(),
            chat,
            lease=self._lease,
            limit=room,
            chat_spacing=self._spacing,
        )
        self._start(done.claimed, done.delay.total_seconds())
        if done.look_again:
            self._wake.set()
        return done.stored

    def _room(self) -> int:
        """How many more events may be handed out: the batch, less the events under way (not
        those waiting for their chat's spacing)."""
        return self._batch - (len(self._in_flight) - len(self._spaced))

    def _look_again_later(self) -> None:
        asyncio.get_running_loop().call_later(self._spacing_seconds, self._wake.set)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"inbox-{self.channel}")
            self._renewer = asyncio.create_task(self._renew(), name=f"inbox-{self.channel}-leases")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._in_flight:  # events under way finish (their replies too), for a while
            _, late = await asyncio.wait(set(self._in_flight), timeout=STOP_GRACE_SECONDS)
            for task in late:  # their claims expire and another worker handles them
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None

    async def _renew(self) -> None:
        """Every third of the lease, the claims of the events held here are extended by a
        lease from now (one statement, only when something is held)."""
        period = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(period)
            held = sorted(self._held)
            if not held:
                continue
            try:
                await asyncio.to_thread(_renew_claims, self._engine, held, utc_now() + self._lease)
            except Exception:
                log.exception("inbox %s: renewing the claims failed", self.channel)

    async def _run(self) -> None:
        """Claim what is due whenever there is room and something happened (an event stored
        here, an event finished here, a chat's spacing passed, or ``idle_seconds`` passed): a
        chat's next event is handed out as soon as its previous one is done, without waiting
        for the other chats of a batch."""
        while True:
            found = 0
            room = self._room()
            if room > 0:
                try:
                    found = len(self._start(await self._claim(room)))
                except Exception:
                    log.exception("inbox %s: claiming failed", self.channel)
            # A claim that filled the room it asked for may have left due events behind, and
            # an event that finished while it ran saw a batch not yet full and woke no one:
            # room freed meanwhile is used at once, not at the next idle look.
            if not found or found < room or self._room() <= 0:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for may swallow a
                # cancellation that comes as the event is set (stop() would wait forever).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle):
                        await self._wake.wait()
                self._wake.clear()

    def _claim(self, limit: int) -> asyncio.Future[list[ClaimedEvent]]:
        """Claim up to ``limit`` due events (the oldest of each chat, so one per chat)."""
        self._wake.clear()
        now, engine = utc_now(), self._engine

        def claim() -> list[ClaimedEvent]:
            # One statement: in autocommit on PostgreSQL (no BEGIN and COMMIT round trips for
            # the look of every idle second, in every worker).
            with UnitOfWork(engine, autocommit=True) as uow:
                return channel_store.claim_inbox_events(
                    uow,
                    self.channel,
                    now=now,
                    lease=self._lease,
                    limit=limit,
                    chat_spacing=self._spacing,
                )

        return asyncio.ensure_future(asyncio.to_thread(claim))

    def _start(self, claimed: list[ClaimedEvent], delay: float = 0.0) -> list[asyncio.Task[None]]:
        """Each claimed event in a task of its own (they are of different chats), after
        ``delay`` seconds."""
        tasks = []
        for event in claimed:
            self._held.add(event.id)
            task = asyncio.create_task(self._chat(event, delay), name=f"inbox-{self.channel}-event")
            self._in_flight.add(task)
            if delay:
                self._spaced.add(task)
            task.add_done_callback(self._finished)
            tasks.append(task)
        return tasks

    def _finished(self, task: asyncio.Task[None]) -> None:
        """An event is done (its chat's next one was looked for by :meth:`_chat`): with no
        room before, there is now."""
        full = self._room() <= 0
        self._in_flight.discard(task)
        self._spaced.discard(task)
        if full:
            self._wake.set()

    async def drain_once(self) -> int:
        """Handle the stored events that are due (the oldest of each chat); how many."""
        async with self._draining:
            tasks = self._start(await self._claim(self._batch))
            await asyncio.gather(*tasks)
            return len(tasks)

    def finish_in_turn(self, uow: UnitOfWork, incoming: Incoming) -> Callable[[], None] | None:
        """In the turn's own transaction (handlers/conversations.py calls it before the commit,
        in the turn's thread): when the update is an event this worker claimed, mark it handled
        and take its chat's next event in that commit, instead of in a transaction of its own
        afterwards. Only for a channel whose replies are queued in the outbox in that same
        commit (bot/app.py): the turn's commit is then the event's end. Returns what to call
        once the commit succeeded (None: not an event of this inbox)."""
        event = self._under_way.get(incoming.update_id or "")
        if event is None or incoming.channel != self.channel:
            return None
        room = self._room() + 1 if self._task is not None else 0
        finished = channel_store.finish_in_turn(
            uow,
            event,
            self.channel,
            now=utc_now(),
            lease=self._lease,
            limit=room,
            chat_spacing=self._spacing,
            # The turn holds its conversation's lock, which is the chat's.
            locked=incoming.chat_id == event.chat_id,
        )

        def committed() -> None:
            self._finished_in_turn[event.event_id] = finished

        return committed

    async def _chat(self, event: ClaimedEvent, delay: float = 0.0) -> None:
        """Handle one event (after ``delay``: its chat's spacing), then, in the transaction
        that marks it handled (the turn's own, or one of its own), take the chat's next event
        (and, with no spacing, what else is due)."""
        try:
            await self._handle(event, delay)
        finally:
            self._held.discard(event.id)

    async def _handle(self, event: ClaimedEvent, delay: float) -> None:
        if delay:
            try:
                await asyncio.sleep(delay)
            finally:
                task = asyncio.current_task()
                if task is not None:
                    self._spaced.discard(task)  # under way from now
        failure: str | None = None
        self._under_way[event.event_id] = event
        try:
            await self._process(event.payload)
        except Exception as error:
            log.exception("inbox %s: event %s failed", self.channel, event.id)
            failure = f"{type(error).__name__}"
        finally:
            self._under_way.pop(event.event_id, None)
        done = self._finished_in_turn.pop(event.event_id, None)
        if done is None:  # not finished in its turn (no turn, a rolled back one, no outbox)
            # This event still counts in flight: room for one more than the others leave.
            room = self._room() + 1 if self._task is not None else 0
            done = await in_store(
                self._engine,
                channel_store.finish_and_claim,
                event,
                self.channel,
                now=utc_now(),
                failure=failure,
                lease=self._lease,
                limit=room,
                chat_spacing=self._spacing,
            )
        elif failure is not None:  # after its turn committed (a menu, a reply): it stays handled
            failure = None
        if done.next_of_chat is not None:
            self._start([done.next_of_chat], self._spacing_seconds)
        self._start(done.claimed)
        if failure is not None:  # tried again (below the attempt limit) after the spacing
            if self._spacing_seconds:
                self._look_again_later()
            else:
                self._wake.set()
        if failure is None:
            self.handled += 1
        if self._on_done is not None:
            await self._on_done(event.event_id)


def _renew_claims(engine: Engine, held: list[int], until: datetime) -> int:
    with UnitOfWork(engine, autocommit=True) as uow:
        return channel_store.renew_inbox_claims(uow, held, until=until)
