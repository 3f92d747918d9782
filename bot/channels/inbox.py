"""The inbox of a webhook channel: acknowledge fast, handle from the database.

The webhook stores each event (UNIQUE (channel, event id): a redelivery is a no-op) and answers
at once; a background task claims stored events and handles them, the events of one chat in
order and different chats side by side. An event is marked handled only after its replies went
out, so a crash after the acknowledgement loses nothing: on start, and when a claim expires,
unhandled events are handled. The conversation's own claim of the update id (handlers/state.py)
keeps a half-handled event from being answered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import Engine

from bot.channels.plain_text import in_store
from storage import channel_store
from storage.channel_store import ClaimedEvent
from storage.types import utc_now

log = logging.getLogger(__name__)

Process = Callable[[dict[str, object]], Awaitable[None]]
ChatOf = Callable[[dict[str, object]], str]
Done = Callable[[str], Awaitable[None]]


class Inbox:
    def __init__(
        self,
        engine: Engine,
        channel: str,
        process: Process,
        chat_of: ChatOf,
        *,
        on_done: Done | None = None,
        lease_seconds: float = 120,
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
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._draining = asyncio.Lock()
        self.handled = 0

    async def put(self, event_id: str, payload: dict[str, object]) -> bool:
        """Store a received event; False for a redelivery. Wakes the drainer."""
        stored = await in_store(
            self._engine,
            channel_store.add_inbox_event,
            self.channel,
            event_id,
            payload,
            utc_now(),
            self._chat_of(payload)[:64],
        )
        self._wake.set()
        return stored

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"inbox-{self.channel}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                found = await self.drain_once()
            except Exception:
                log.exception("inbox %s: drain failed", self.channel)
                found = 0
            if not found:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle)
                self._wake.clear()

    async def drain_once(self) -> int:
        """Handle the stored events that are due (the oldest of each chat); how many."""
        async with self._draining:
            return await self._drain()

    async def _drain(self) -> int:
        self._wake.clear()
        claimed = await in_store(
            self._engine,
            channel_store.claim_inbox_events,
            self.channel,
            now=utc_now(),
            lease=self._lease,
            limit=self._batch,
            chat_spacing=self._spacing,
        )
        by_chat: dict[str, list[ClaimedEvent]] = {}
        for event in claimed:
            by_chat.setdefault(self._chat_of(event.payload), []).append(event)
        await asyncio.gather(*(self._chat(events) for events in by_chat.values()))
        return len(claimed)

    async def _chat(self, events: list[ClaimedEvent]) -> None:
        for event in events:
            failure: str | None = None
            try:
                await self._process(event.payload)
            except Exception as error:
                log.exception("inbox %s: event %s failed", self.channel, event.id)
                failure = f"{type(error).__name__}"
            await in_store(
                self._engine,
                channel_store.finish_inbox_event,
                event.id,
                now=utc_now(),
                failure=failure,
            )
            if failure is None:
                self.handled += 1
            if self._on_done is not None:
                await self._on_done(event.event_id)
