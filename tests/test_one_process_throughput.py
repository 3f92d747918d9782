"""Throughput on one process (issue 12): the turns on one database thread, in order, the event
loop free meanwhile; an account's person remembered only once committed, forgotten on erasure;
an update claimed by one statement (X4)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import select

from bot.runner import handler_for
from handlers.channel import Button, Incoming, Outgoing
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.residents import ACCOUNTS, erase_personal_data, person_for_account
from storage.conversation_store import claim_update
from storage.tables import ChannelAccount, OrgUnit, Person
from storage.unit_of_work import UnitOfWork
from tests.fake_telegram import FakeTelegram, RecordedRequest, UploadedFile


class Recorder:
    """Stands in for Conversations.handle: notes the thread and the order, takes a while."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, str | None]] = []

    def handle(self, incoming: Incoming) -> list[Outgoing]:
        time.sleep(0.005)
        self.seen.append((threading.get_ident(), incoming.update_id))
        return [Outgoing(text="ok")]


async def test_x4_turns_run_on_one_database_thread_in_order_and_the_loop_stays_free() -> None:
    recorder = Recorder()
    handle = handler_for(recorder)  # type: ignore[arg-type]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    ticking = asyncio.create_task(ticker())
    updates = [Incoming(channel="t", user_id="1", chat_id="1", update_id=str(n)) for n in range(30)]
    answers = await asyncio.gather(*(handle(incoming) for incoming in updates))
    ticking.cancel()
    assert all(answer == [Outgoing(text="ok")] for answer in answers)
    assert len({thread for thread, _ in recorder.seen}) == 1
    assert recorder.seen[0][0] != threading.get_ident()
    assert [update for _, update in recorder.seen] == [str(n) for n in range(30)]
    assert ticks >= 10  # 30 turns of 5 ms: the loop ran meanwhile


async def test_c8_the_database_thread_gives_back_errors_and_skips_turns_whose_caller_left() -> None:
    from bot.runner import database_thread

    thread = database_thread()
    ran: list[int] = []

    def slow(number: int) -> int:
        time.sleep(0.05)
        ran.append(number)
        return number

    def failing(_: int) -> int:
        raise ValueError("boom")

    first = asyncio.create_task(thread.run(slow, 1))
    left = asyncio.create_task(thread.run(slow, 2))
    await asyncio.sleep(0.01)  # the first is running, the second waits its turn
    left.cancel()
    assert await first == 1
    with contextlib.suppress(asyncio.CancelledError):
        await left
    try:
        await thread.run(failing, 3)
    except ValueError as error:
        assert str(error) == "boom"
    else:
        raise AssertionError("the error was not given back")
    # run_in_executor, as the benchmark uses it, goes through the same thread, in order.
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(thread, slow, 4) == 4
    assert ran == [1, 4]
    results = await asyncio.gather(*(thread.run(slow, n) for n in range(5, 10)))
    assert results == list(range(5, 10)) and ran == [1, 4, 5, 6, 7, 8, 9]


def _count(engine: Engine, table: type) -> int:
    with UnitOfWork(engine) as uow:
        return int(uow.session.exec(select(func.count()).select_from(table)).one())


def test_x4_a_claim_is_one_insert_that_ignores_a_repeated_update(engine: Engine) -> None:
    with UnitOfWork(engine, write=True) as uow:
        assert claim_update(uow, "telegram", "7")
        assert not claim_update(uow, "telegram", "7")  # the same update in the same turn
        uow.commit()
    with UnitOfWork(engine, write=True) as uow:
        assert not claim_update(uow, "telegram", "7")
        assert claim_update(uow, "zalo", "7")
        uow.rollback()
    with UnitOfWork(engine, write=True) as uow:
        assert claim_update(uow, "zalo", "7")  # the rolled-back claim was not kept


def test_x4_an_accounts_person_is_remembered_once_committed_and_forgotten_on_erasure(
    engine: Engine,
) -> None:
    # Created in a turn that rolls back: not remembered, and created afresh next time.
    with UnitOfWork(engine, write=True) as uow:
        lost = person_for_account(uow, "telegram", "42", "42")
        assert ("telegram", "42") not in uow.memo(ACCOUNTS)
    with UnitOfWork(engine, write=True) as uow:
        person = person_for_account(uow, "telegram", "42", "42")
        uow.commit()
    assert _count(engine, ChannelAccount) == 1 and person >= lost
    # Read once from the database, then from memory: no statement at all.
    with UnitOfWork(engine, write=True) as uow:
        assert person_for_account(uow, "telegram", "42", "42") == person
    with UnitOfWork(engine, write=True) as uow:
        statements: list[str] = []
        from sqlalchemy import event

        def note(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", note)
        try:
            assert person_for_account(uow, "telegram", "42", "42") == person
        finally:
            event.remove(engine, "before_cursor_execute", note)
        assert not any("channel_account" in sql for sql in statements)
    # A new chat for the same account: read and updated, not taken from memory.
    with UnitOfWork(engine, write=True) as uow:
        assert person_for_account(uow, "telegram", "42", "99") == person
        uow.commit()
    with UnitOfWork(engine) as uow:
        account = uow.session.exec(select(ChannelAccount)).one()
        assert account.chat_id == "99"
    # Erasure forgets what this process remembered of the person's accounts.
    with UnitOfWork(engine, write=True) as uow:
        assert person_for_account(uow, "telegram", "42", "99") == person
        assert ("telegram", "42") in uow.memo(ACCOUNTS)
        erase_personal_data(uow, person, ProcedureContext())
        assert ("telegram", "42") not in uow.memo(ACCOUNTS)
        uow.commit()
    assert _count(engine, Person) >= 1


def test_c8_memory_is_per_database(engine: Engine, tmp_path: Path) -> None:
    from procedure.use_cases.administration import ensure_reference_data
    from storage.engine import make_engine, sqlite_url
    from storage.migrate import upgrade_to_head

    second = make_engine(sqlite_url(tmp_path / "second"))
    upgrade_to_head(second)
    with UnitOfWork(second) as uow:
        ensure_reference_data(uow)
        uow.commit()
    with UnitOfWork(engine, write=True) as uow:
        person_for_account(uow, "telegram", "5", "5")
        uow.commit()
    with UnitOfWork(engine, write=True) as uow:
        person_for_account(uow, "telegram", "5", "5")  # remembered for this database
        assert ("telegram", "5") in uow.memo(ACCOUNTS)
    with UnitOfWork(second, write=True) as uow:
        assert ("telegram", "5") not in uow.memo(ACCOUNTS)
    second.dispose()


class SlowTelegram(FakeTelegram):
    """The fake Bot API, each call taking a while; notes how many were under way at once."""

    def __init__(self) -> None:
        super().__init__()
        self.under_way = 0
        self.most = 0

    async def execute(
        self, method: str, params: dict[str, Any], files: dict[str, UploadedFile] | None = None
    ) -> RecordedRequest:
        self.under_way += 1
        self.most = max(self.most, self.under_way)
        try:
            await asyncio.sleep(0.1)
            return await super().execute(method, params, files)
        finally:
            self.under_way -= 1


async def test_c8_python_telegram_bot_sends_through_a_small_pool_and_none_fail() -> None:
    """PTB's own pool of 256 connections costs CPU quadratic in the connections open; ours has
    SEND_CONNECTIONS, and the calls beyond wait their turn (no pool timeout, none lost)."""
    from bot.channels.telegram.ptb_shim import SEND_CONNECTIONS, PtbDelivery, make_application

    async with SlowTelegram() as fake:
        chats = [fake.user(8_000_000 + n).id for n in range(3 * SEND_CONNECTIONS)]
        application = make_application(fake.token, fake.base_url)
        await application.initialize()
        try:
            delivery = PtbDelivery(application.bot)
            await asyncio.gather(
                *(delivery.send(str(chat), Outgoing(text=f"tin {chat}")) for chat in chats)
            )
        finally:
            await application.shutdown()
        assert fake.most == SEND_CONNECTIONS
        for chat in chats:
            assert [m.text for m in fake.sent_messages(chat)] == [f"tin {chat}"]


async def test_c8_aiogram_posts_a_text_as_json_and_a_file_as_a_form() -> None:
    """The JSON body (cheaper than a url-encoded Vietnamese text) carries what the form did: the
    HTML text, the default parse mode, the keyboard; a document still goes as multipart."""
    from bot.channels.telegram.aiogram_shim import AiogramDelivery, make_bot

    async with FakeTelegram() as fake:
        chat = fake.user(8_100_001).id
        bot = make_bot(fake.token, fake.base_url)
        try:
            delivery = AiogramDelivery(bot)
            buttons = ((Button("Đăng ký", "reg:1"), Button("Xem", "view:2")),)
            await delivery.send(
                str(chat), Outgoing(text="<b>Phiên</b> ngày 02/03", buttons=buttons)
            )
            await delivery.send(
                str(chat), Outgoing(text="Báo cáo", document=("bao-cao.txt", b"noi dung"))
            )
        finally:
            await bot.session.close()
        text, document = fake.sent_messages(chat)
        assert text.text == "Phiên ngày 02/03" and text.parse_mode == "HTML"
        assert [e["type"] for e in text.entities] == ["bold"]
        assert text.reply_markup == {
            "inline_keyboard": [
                [
                    {"text": "Đăng ký", "callback_data": "reg:1"},
                    {"text": "Xem", "callback_data": "view:2"},
                ]
            ]
        }
        assert document.file is not None and document.file.file_name == "bao-cao.txt"
        kinds = [(call.method.lower(), call.content_type) for call in fake.calls()]
        assert ("sendmessage", "application/json") in kinds
        assert ("senddocument", "multipart/form-data") in kinds


async def test_c8_aiogram_closes_a_plain_http_session_without_the_tls_wait(
    monkeypatch: Any,
) -> None:
    """aiogram sleeps 250 ms after closing, for TLS connections to wind down; over plain HTTP
    (a local Bot API server) there are none, so the session closes without it; over HTTPS
    aiogram's own close (with its wait) still runs."""
    from bot.channels.telegram.aiogram_shim import make_bot

    waits: list[float] = []

    async def recorded_sleep(seconds: float) -> None:
        if seconds:  # aiohttp yields with sleep(0) while closing; only waits are counted
            waits.append(seconds)

    monkeypatch.setattr("aiogram.client.session.aiohttp.asyncio.sleep", recorded_sleep)
    async with FakeTelegram() as fake:
        plain = make_bot(fake.token, fake.base_url)
        await plain.get_me()
        await plain.session.close()
        assert plain.session._session is not None and plain.session._session.closed
    assert waits == []
    secure = make_bot("123:abc", "https://api.telegram.org")
    await secure.session.create_session()
    await secure.session.close()
    assert waits == [0.25]


def test_c8_ptb_applications_share_one_tls_context_that_still_verifies() -> None:
    """httpx made a TLS context for each client (about 40 ms of CPU, reading the authorities'
    file; two clients an application): python-telegram-bot's clients share one, made as httpx
    makes it, so certificates and host names are still checked."""
    import ssl

    from bot.channels.telegram.ptb_shim import make_application

    contexts = set()
    for _ in range(2):
        application = make_application("123:abc", "https://api.telegram.org")
        for request in (application.bot.request, application.bot._request[0]):
            contexts.add(request._client._transport._pool._ssl_context)
    (context,) = contexts
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 50


def test_c8_a_persons_ward_is_read_as_one_column_and_sees_this_turns_change(
    engine: Engine,
) -> None:
    from procedure.use_cases.administration import WARD_LEVEL
    from procedure.use_cases.residents import area_of_person, get_person

    with UnitOfWork(engine, write=True) as uow:
        person = person_for_account(uow, "telegram", "77", "77")
        uow.commit()
    with UnitOfWork(engine, write=True) as uow:
        assert area_of_person(uow, person) is None
        ward = OrgUnit(code="vn-79-26734", name="Phường Bến Thành", level_code=WARD_LEVEL)
        uow.session.add(ward)
        uow.flush()
        assert ward.id is not None
        get_person(uow, person).area_org_id = ward.id  # changed, not flushed
        assert area_of_person(uow, person) == ward.id
        uow.commit()
    with UnitOfWork(engine, write=True) as uow:  # read from the database
        assert area_of_person(uow, person) == ward.id
