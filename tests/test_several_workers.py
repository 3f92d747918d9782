"""Issue 12: several processes on one PostgreSQL (X4, C6, C8).

Each "process" here is an engine of its own (its own connections, as another process has) and
runs in a thread or a task of this test; PostgreSQL cannot tell the difference. Skipped without
PostgreSQL (``DOITHOAI_TEST_POSTGRES_URL``; CI sets it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine, text

from bot.outbox_sender import OutboxSender
from bot.transports import TelegramAiogramTransport
from storage.advisory import advisory_key
from storage.engine import make_engine
from storage.unit_of_work import UnitOfWork
from tests.fake_telegram import FakeTelegram
from tests.test_outbox_sender import queue_messages, received

postgresql_only = pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)


@pytest.fixture
def other_engine(engine: Engine) -> Iterator[Engine]:
    """The same database through connections of another process."""
    second = make_engine(engine.url.render_as_string(hide_password=False))
    yield second
    second.dispose()


def lock_holder(engine: Engine, *parts: str) -> int | None:
    """The backend holding the session advisory lock named by ``parts``."""
    key = advisory_key(*parts) & 0xFFFFFFFFFFFFFFFF
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :high AND objid = :low AND objsubid = 1"
            ),
            {"high": key >> 32, "low": key & 0xFFFFFFFF},
        ).scalar()


# -- the accounts memo: nothing stale when another process joins or erases -----------------------


def test_x3_c8_an_account_joined_in_another_process_is_not_served_stale(
    engine: Engine, other_engine: Engine
) -> None:
    """A worker remembers an account's person (``uow.memo``); another worker joins that account
    to the person who verified the same phone elsewhere. With ``WORKERS`` > 1 the first worker
    keeps no memo (``shared_between_processes``) and finds the survivor; a memo would still give
    the joined person."""
    from procedure.use_cases.context import ProcedureContext
    from procedure.use_cases.residents import join_by_verified_phone, person_for_account
    from storage.tables import Person
    from storage.unit_of_work import shared_between_processes

    def person_seen_by(db: Engine) -> int:
        with UnitOfWork(db, write=True) as uow:
            person = person_for_account(uow, "telegram", "42", "42")
            uow.commit()
            return person

    stale_engine = make_engine(engine.url.render_as_string(hide_password=False))
    shared_between_processes(engine)
    try:
        joined = person_seen_by(engine)
        assert person_seen_by(engine) == joined
        assert person_seen_by(stale_engine) == person_seen_by(stale_engine) == joined  # memo
        with UnitOfWork(other_engine, write=True) as uow:
            survivor = Person(phone_e164="+84901234567", phone_verified=True)
            uow.session.add(survivor)
            uow.flush()
            assert survivor.id is not None
            kept = join_by_verified_phone(
                uow, joined, "+84901234567", "zalo_oa", ProcedureContext()
            )
            uow.commit()
        assert kept == survivor.id != joined
        assert person_seen_by(engine) == survivor.id
        assert person_seen_by(stale_engine) == joined  # what a memo kept: stale
    finally:
        stale_engine.dispose()


# -- the outbox sender: one active sender, taken over when it dies ------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:  # 30 a second, 1 a second per chat, 429 beyond
        yield server


@postgresql_only
async def test_x4_c8_one_active_sender_and_a_take_over_when_its_connection_dies(
    engine: Engine, other_engine: Engine, fake: FakeTelegram
) -> None:
    from bot.channels.telegram.aiogram_shim import make_bot

    bots = [make_bot(fake.token, fake.base_url) for _ in range(2)]
    senders = [
        OutboxSender(
            db,
            {"telegram": TelegramAiogramTransport(bot)},
            sender_id=name,
            retry_seconds=0.3,
            check_seconds=0.2,
            batch=10,
        )
        for db, bot, name in zip((engine, other_engine), bots, ("a", "b"), strict=True)
    ]
    stop = asyncio.Event()
    both_leading: list[float] = []

    async def watch() -> None:
        while not stop.is_set():
            if all(sender.leading for sender in senders):
                both_leading.append(time.monotonic())
            await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(s.run_forever(stop, idle_seconds=0.05)) for s in senders]
    watcher = asyncio.create_task(watch())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while not any(s.leading for s in senders) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        assert sum(s.leading for s in senders) == 1
        leader = next(s for s in senders if s.leading)
        follower = next(s for s in senders if s is not leader)

        # 90 invitations at Telegram's 30 a second: three seconds of sending; the holder's
        # connection is killed in the middle of it.
        chats = list(queue_messages(engine, 90).values())
        await fake.wait_for(lambda: len(fake.sent_messages()) >= 20, timeout=10)
        pid = lock_holder(engine, "outbox-sender")
        assert pid is not None
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killed_at = loop.time()
        while not follower.leading and loop.time() < killed_at + 10:
            await asyncio.sleep(0.02)
        took_over = loop.time() - killed_at
        assert follower.leading and follower.takeovers == 1
        assert took_over < 3.0
        await fake.wait_for(lambda: len(fake.sent_messages()) >= 90, timeout=20)
        await asyncio.sleep(0.3)
        assert not leader.leading
        assert lock_holder(engine, "outbox-sender") not in (None, pid)
    finally:
        stop.set()
        await asyncio.gather(*tasks, watcher)
        for bot in bots:
            await bot.session.close()
    counts = received(fake)
    # Telegram has no idempotency key: at most the one message on the wire at the kill twice.
    assert sorted(chat for chat in chats if counts[chat] == 0) == []
    assert sum(counts[chat] - 1 for chat in chats) <= 1
    assert leader.sent + follower.sent >= 90 and leader.sent > 0 and follower.sent > 0
    assert leader.rate_limited == follower.rate_limited == 0  # never both over the limit
    assert both_leading == [] or both_leading[-1] - both_leading[0] < 0.5
    print(f"\nsender taken over {took_over:.2f} s after its connection was killed")
