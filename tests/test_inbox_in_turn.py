"""Issue 12 (X4, C8): with several workers an update's way through the inbox costs one
transaction besides its turn.

* The webhook's store claims the event it inserts (one statement after the chat's lock) when
  its chat has nothing before it; when the chat's previous event was handled less than the
  chat's spacing ago it is claimed too, and handled once the spacing has passed.
* Where replies go through the outbox, the event is marked handled, and its chat's next event
  taken, in the turn's own transaction (the conversation's commit is the event's end): no
  transaction of its own afterwards.
* A turn that rolls back (the apology) or a redelivered update leaves the event to the inbox's
  own finishing transaction: it is handled once, never lost.

Run on SQLite and, where configured, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func
from sqlmodel import col, select

import handlers.conversations
from bot.channels.inbox import Inbox
from bot.channels.telegram.channel import chat_of_update
from bot.channels.telegram.updates import incoming_from_update
from handlers.conversations import Conversations
from procedure.use_cases.context import ProcedureContext
from storage import channel_store
from storage.tables import InboxEvent, OutboxMessage, ProcessedUpdate
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock


def update(update_id: int, text: str, chat: int = 501) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "An"},
            "text": text,
        },
    }


class Commits:
    """Counts the transactions committed on an engine."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self._engine = engine
        event.listen(engine, "commit", self._commit)

    def _commit(self, connection: object) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self._engine, "commit", self._commit)


@pytest.fixture
def commits(chat_engine: Engine) -> Iterator[Commits]:
    counter = Commits(chat_engine)
    yield counter
    counter.close()


def conversations_with_inbox(
    engine: Engine, clock: Clock, *, spacing: float = 0.0
) -> tuple[Conversations, Inbox]:
    """A worker's conversations and its Telegram inbox, replies queued in the outbox, wired as
    bot/app.py wires them."""
    conversations = Conversations(engine, ProcedureContext(clock=clock))

    async def process(payload: dict[str, object]) -> None:
        incoming = incoming_from_update(payload)
        assert incoming is not None
        await asyncio.to_thread(conversations.handle, incoming)

    inbox = Inbox(
        engine,
        "telegram",
        process,
        chat_of_update,
        idle_seconds=30,  # no look-again during a test: what happens is what the inbox caused
        chat_spacing_seconds=spacing,
        lease_seconds=30,
    )
    conversations.queue_replies_for = frozenset({"telegram"})
    conversations.in_turn["telegram"] = inbox.finish_in_turn
    return conversations, inbox


def events(engine: Engine) -> list[InboxEvent]:
    with UnitOfWork(engine) as uow:
        return list(uow.session.exec(select(InboxEvent).order_by(col(InboxEvent.id))).all())


def count(engine: Engine, table: type) -> int:
    with UnitOfWork(engine) as uow:
        return int(uow.session.exec(select(func.count()).select_from(table)).one())


async def handled(inbox: Inbox, number: int, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while inbox.handled < number:
            await asyncio.sleep(0.02)


async def test_x4_c8_an_event_is_finished_in_its_turns_transaction(
    chat_engine: Engine, clock: Clock, world: ChatWorld, commits: Commits
) -> None:
    _, inbox = conversations_with_inbox(chat_engine, clock)
    await inbox.start()
    try:
        await asyncio.sleep(0.3)  # its first look at what is stored (nothing) is done
        before = commits.count
        assert await inbox.put("1", update(1, "/start"))
        await handled(inbox, 1)
        # The turn (which queued the replies and finished the event), and the store: on
        # PostgreSQL one call in autocommit (no COMMIT), elsewhere a transaction.
        stores = 0 if chat_engine.dialect.name == "postgresql" else 1
        assert commits.count - before == 1 + stores
    finally:
        await inbox.stop()
    (stored,) = events(chat_engine)
    assert stored.handled_at is not None and stored.claimed_until is None
    assert stored.attempts == 1 and stored.failure is None
    assert count(chat_engine, OutboxMessage) >= 1  # its replies, committed with it


async def test_x4_c8_the_turn_takes_its_chats_next_event_and_hands_it_out_in_order(
    chat_engine: Engine, clock: Clock, world: ChatWorld
) -> None:
    """Two updates of one chat stored while the first is under way: the second is not
    claimed by its store, and the first's turn takes it in its commit."""
    conversations, inbox = conversations_with_inbox(chat_engine, clock)
    order: list[str] = []
    entered = asyncio.Event()
    go_on = asyncio.Event()
    handle = conversations.handle

    def slow(incoming: Any) -> Any:
        order.append(incoming.update_id)
        if incoming.update_id == "1":
            asyncio.run_coroutine_threadsafe(_set(entered), loop)
            asyncio.run_coroutine_threadsafe(go_on.wait(), loop).result(timeout=10)
        return handle(incoming)

    loop = asyncio.get_running_loop()
    conversations.handle = slow  # type: ignore[method-assign]
    await inbox.start()
    try:
        assert await inbox.put("1", update(1, "/start"))
        await asyncio.wait_for(entered.wait(), 10)
        assert await inbox.put("2", update(2, "/help"))
        second = events(chat_engine)[1]
        assert second.claimed_until is None and second.attempts == 0  # waits for the first
        go_on.set()
        await handled(inbox, 2)
    finally:
        await inbox.stop()
    assert order == ["1", "2"]
    assert all(stored.handled_at is not None for stored in events(chat_engine))
    assert [stored.attempts for stored in events(chat_engine)] == [1, 1]


async def _set(flag: asyncio.Event) -> None:
    flag.set()


async def test_x4_c8_a_rolled_back_turn_leaves_the_event_to_the_inbox_which_finishes_it_once(
    chat_engine: Engine,
    clock: Clock,
    world: ChatWorld,
    commits: Commits,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, inbox = conversations_with_inbox(chat_engine, clock)

    def boom(turn: Any) -> None:
        raise RuntimeError("injected")

    monkeypatch.setattr(handlers.conversations, "route", boom)
    await inbox.start()
    try:
        assert await inbox.put("7", update(7, "/start"))
        await handled(inbox, 1)
    finally:
        await inbox.stop()
    (stored,) = events(chat_engine)
    assert stored.handled_at is not None and stored.attempts == 1
    assert count(chat_engine, ProcessedUpdate) == 0  # the turn kept nothing, not its claim
    assert count(chat_engine, OutboxMessage) == 1  # the apology, in a transaction of its own


async def test_x4_c8_a_redelivered_update_is_stored_once_and_handled_once(
    chat_engine: Engine, clock: Clock, world: ChatWorld
) -> None:
    _, inbox = conversations_with_inbox(chat_engine, clock)
    await inbox.start()
    try:
        assert await inbox.put("3", update(3, "/start"))
        assert not await inbox.put("3", update(3, "/start"))
        await handled(inbox, 1)
        await asyncio.sleep(0.1)
    finally:
        await inbox.stop()
    assert inbox.handled == 1
    assert count(chat_engine, ProcessedUpdate) == 1


@pytest.mark.parametrize("way", ["in a unit of work", "at once"])
def test_x4_the_store_claims_its_event_after_the_chats_spacing(
    chat_engine: Engine, way: str
) -> None:
    """The chat's previous event was handled just now: the store claims the new one, to be
    handled a spacing from now (its lease starts then); an event of a chat with an unhandled
    one before it is not claimed. The same through a unit of work and at once (one call of
    the function ``inbox_store`` in autocommit on PostgreSQL, migration 0022)."""
    now = utc_now()
    lease, spacing = timedelta(seconds=30), timedelta(seconds=1)

    def store(event_id: str, payload: dict[str, object], chat: str, limit: int = 5) -> Any:
        if way == "at once":
            return channel_store.store_at_once(
                chat_engine,
                "telegram",
                event_id,
                payload,
                now,
                chat,
                lease=lease,
                limit=limit,
                chat_spacing=spacing,
            )
        with UnitOfWork(chat_engine) as uow:
            return channel_store.store_and_claim(
                uow,
                "telegram",
                event_id,
                payload,
                now,
                chat,
                lease=lease,
                limit=limit,
                chat_spacing=spacing,
            )

    first = store("1", {}, "A")
    assert [event.event_id for event in first.claimed] == ["1"] and first.delay == timedelta()
    waiting = store("2", {}, "A")
    assert waiting.stored and waiting.claimed == [] and not waiting.look_again
    with UnitOfWork(chat_engine) as uow:
        channel_store.finish_inbox_event(uow, first.claimed[0].id, now=now)
        channel_store.finish_inbox_event(uow, first.claimed[0].id + 1, now=now)
    spaced = store("3", {"n": 3}, "A")
    (claimed,) = spaced.claimed
    assert spaced.delay == spacing and claimed.payload == {"n": 3} and claimed.attempts == 1
    assert events(chat_engine)[-1].claimed_until == now + spacing + lease
    other = store("4", {}, "B")  # another chat: at once
    assert len(other.claimed) == 1 and other.delay == timedelta()
    full = store("5", {}, "C", limit=0)  # no room in this worker: stored, looked at later
    assert full.stored and full.claimed == [] and full.look_again
    again = store("4", {}, "B")  # a redelivery
    assert not again.stored and again.claimed == []
