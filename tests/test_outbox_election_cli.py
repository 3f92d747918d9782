"""X4, C8: a process that drains the outbox now and then (the console of ``doithoai chat``, a
benchmark) takes part in the outbox sender's election on PostgreSQL: while another process (a
``doithoai run`` worker) is the active sender it sends nothing and says so once; when none is,
it drains holding the election's lock, and lets the lock go after. On SQLite (one process) it
simply drains."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.config import Settings
from bot.outbox_sender import OutboxSender
from bot.runner import console_delivery
from bot.transports import ConsoleTransport
from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.notifications import enqueue_many
from procedure.use_cases.context import ProcedureContext
from storage.advisory import SessionLock
from storage.engine import make_engine
from storage.tables import ChannelAccount, Person
from storage.unit_of_work import UnitOfWork
from tests.test_outbox_sender import INVITATION, rows

postgresql_only = pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)


@pytest.fixture
def other_engine(engine: Engine) -> Iterator[Engine]:
    """The same database through connections of another process."""
    second = make_engine(engine.url.render_as_string(hide_password=False))
    yield second
    second.dispose()


def queue_for_console(engine: Engine, count: int) -> list[str]:
    """``count`` people on the console channel with one invitation each; their chat ids."""
    with UnitOfWork(engine) as uow:
        people = [Person() for _ in range(count)]
        uow.session.add_all(people)
        uow.flush()
        chats = [f"console-{n}" for n in range(count)]
        uow.session.add_all(
            ChannelAccount(
                person_id=person.id,  # type: ignore[arg-type]
                channel="console",
                external_user_id=chat,
                chat_id=chat,
            )
            for person, chat in zip(people, chats, strict=True)
        )
        enqueue_many(
            uow,
            [(person.id, f"test:console:{person.id}") for person in people],  # type: ignore[misc]
            kind="session.invitation",
            data=INVITATION,
        )
        uow.commit()
    return chats


def console_sender(engine: Engine, printed: list[str]) -> OutboxSender:
    return OutboxSender(
        engine,
        {"console": ConsoleTransport(printed.append)},
        global_per_second=1000,
        per_chat_per_second=1000,
    )


async def test_x4_c8_a_one_off_drain_sends_only_while_no_other_process_is_the_sender(
    engine: Engine, other_engine: Engine, database_kind: str
) -> None:
    queue_for_console(engine, 3)
    printed: list[str] = []
    other = SessionLock(other_engine, "outbox-sender")
    try:
        assert await asyncio.to_thread(other.try_acquire)  # a `doithoai run` is the sender
        sent = await console_sender(engine, printed).drain_once_if_elected()
        if database_kind == "sqlite":
            # One process: the lock is always "held", and the drain is a drain.
            assert sent == 3 and len(printed) == 3
            return
        assert sent is None and printed == []
        assert all(row.sent_at is None and row.claimed_by is None for row in rows(engine))
        await asyncio.to_thread(other.release)  # the worker stopped
        sender = console_sender(engine, printed)
        assert await sender.drain_once_if_elected() == 3
        assert len(printed) == 3 and all(row.sent_at is not None for row in rows(engine))
        # The drain let the lock go: the next worker to start becomes the sender.
        assert sender.election is not None and not sender.election._connection
        assert await asyncio.to_thread(other.try_acquire)
    finally:
        await asyncio.to_thread(other.release)


@postgresql_only
def test_x4_c8_the_console_sends_nothing_while_a_worker_is_the_sender_and_says_so_once(
    engine: Engine, other_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`doithoai chat` on the PostgreSQL of running workers: its outbox drain after each line
    takes part in the election instead of sending beside the elected sender."""
    chats = queue_for_console(engine, 2)
    settings = Settings.from_environ({"DOITHOAI_DATA_DIR": str(tmp_path)})
    conversations = Conversations(engine, ProcedureContext(), ChatSettings(verify_code_as="text"))
    deliver = console_delivery(settings, conversations)
    worker = SessionLock(other_engine, "outbox-sender")
    try:
        assert worker.try_acquire()
        with caplog.at_level(logging.INFO):
            assert deliver() == []
            assert deliver() == []
        said = [r for r in caplog.records if "another process" in r.getMessage()]
        assert [r.levelno for r in said if r.name == "bot.runner"] == [logging.WARNING]
        assert all(row.sent_at is None for row in rows(engine))
        worker.release()
        shown = deliver()
        assert [line.split("]")[0] for line in shown] == [f"[→ {chat}" for chat in chats]
        assert all(row.sent_at is not None for row in rows(engine))
    finally:
        worker.release()
