"""X4, C8: an event claimed from the inbox stays its worker's while that worker lives, however
long its turn, and a worker that died lets it go within a lease (LEASE_SECONDS, 9 s): the
worker renews the claims of the events it holds every third of the lease
(bot/channels/inbox.py ``Inbox._renew``). Before, the lease was 30 s and never renewed, and a
resident whose message a killed worker held waited all of it. Runs on SQLite and, where
configured, on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.channels.inbox import Inbox
from storage import channel_store
from storage.tables import InboxEvent
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork

LEASE = 0.6  # seconds: renewed every 0.2 s
SLOW_TURN = 6 * LEASE  # chat "a"'s turn: six leases long, renewed meanwhile


def stored(engine: Engine) -> list[InboxEvent]:
    with UnitOfWork(engine) as uow:
        return list(uow.session.exec(select(InboxEvent).order_by(col(InboxEvent.id))).all())


def add(engine: Engine, event_id: str, chat: str) -> None:
    with UnitOfWork(engine) as uow:
        assert channel_store.add_inbox_event(uow, "web", event_id, {"chat": chat}, utc_now(), chat)


def worker(engine: Engine, handled: list[tuple[str, object]], name: str) -> Inbox:
    async def process(payload: dict[str, object]) -> None:
        if payload["chat"] == "a":
            await asyncio.sleep(SLOW_TURN)
        handled.append((name, payload["chat"]))

    return Inbox(
        engine,
        "web",
        process,
        lambda payload: str(payload["chat"]),
        lease_seconds=LEASE,
        idle_seconds=0.05,
    )


def test_x4_c8_a_renewal_extends_a_held_claim_and_never_shortens_one(engine: Engine) -> None:
    add(engine, "1", "a")
    add(engine, "2", "b")
    now = utc_now()
    with UnitOfWork(engine) as uow:
        first, second = channel_store.claim_inbox_events(
            uow, "web", now=now, lease=timedelta(seconds=5), limit=10
        )
    with UnitOfWork(engine) as uow:
        channel_store.finish_inbox_event(uow, second.id, now=now)
    later = now + timedelta(seconds=60)
    with UnitOfWork(engine) as uow:
        assert channel_store.renew_inbox_claims(uow, [first.id, second.id], until=later) == 1
    with UnitOfWork(engine) as uow:  # an earlier end than the claim's: left as it is
        assert channel_store.renew_inbox_claims(uow, [first.id], until=now) == 0
    held, finished = stored(engine)
    assert held.claimed_until == later
    assert finished.claimed_until is None and finished.handled_at is not None
    with UnitOfWork(engine) as uow:
        assert channel_store.renew_inbox_claims(uow, [], until=later) == 0


async def test_x4_c8_a_slow_turn_keeps_its_event_and_a_dead_workers_event_is_taken_in_a_lease(
    engine: Engine,
) -> None:
    handled: list[tuple[str, object]] = []
    slow = worker(engine, handled, "slow")
    other = worker(engine, handled, "other")
    await slow.start()
    await other.start()
    try:
        assert await slow.put("1", {"chat": "a"})  # claimed by the worker that stored it
        await asyncio.sleep(0.1)
        # A worker that claimed an event and died: its claim is never renewed nor finished.
        add(engine, "2", "b")
        with UnitOfWork(engine) as uow:
            (dead,) = channel_store.claim_inbox_events(
                uow, "web", now=utc_now(), lease=timedelta(seconds=LEASE), limit=1
            )
        assert dead.event_id == "2"
        died = time.monotonic()
        async with asyncio.timeout(15):  # either live worker takes it once its claim lapses
            while not any(chat == "b" for _, chat in handled):
                await asyncio.sleep(0.02)
        taken_after = time.monotonic() - died
        async with asyncio.timeout(15):
            while ("slow", "a") not in handled:
                await asyncio.sleep(0.02)
    finally:
        await slow.stop()
        await other.stop()
    # The slow turn's event was never taken by the other worker, and each was handled once.
    assert sorted(chat for _, chat in handled) == ["a", "b"]
    assert ("other", "a") not in handled
    assert LEASE <= taken_after < LEASE + 1.5
    assert all(event.handled_at is not None for event in stored(engine))
    assert [event.attempts for event in stored(engine)] == [1, 2]
