"""Issue 12 (X4, C8): with several workers a conversation's replies are queued in the outbox in
the turn's own transaction and sent by the one elected outbox sender.

* A worker killed after its commit and before any send loses no reply: another process's
  sender delivers them, once each and in order, buttons, pictures and documents included.
* A message of several pieces records each piece sent: a sender taking it over starts after
  them (a piece already sent is not sent again).
* Replies and a large broadcast, whichever worker handled the update, stay within Telegram's
  one global limit (the fake Bot API answers 429 beyond 30 a second or 1 a second per chat),
  and replies do not wait behind the broadcast (the sender is woken by NOTIFY).

The "processes" are engines of their own (their own connections), as in
tests/test_several_workers.py; PostgreSQL cannot tell the difference.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import select

from bot.app import web_application
from bot.channels.base import TransientFailure
from bot.channels.plain_text import plain
from bot.channels.telegram.updates import incoming_from_update
from bot.outbox_sender import OutboxSender
from bot.rate_limit import RateLimiter
from bot.transports import TelegramAiogramTransport
from handlers.channel import Button, Outgoing, Photo
from handlers.conversations import Conversations
from handlers.reply_queue import (
    TURN_FIRST_BUTTON,
    QueuedReplies,
    from_data,
    queue_replies,
    to_data,
)
from procedure.use_cases.context import ProcedureContext
from storage import outbox_store
from storage.engine import make_engine
from storage.tables import OutboxMessage, Person
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork
from tests.chat_world import ChatWorld
from tests.fake_telegram import FakeTelegram
from tests.procedure_world import Clock
from tests.test_outbox_sender import queue_messages, received

postgresql_only = pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)
SECRET = "replies-through-the-outbox"
# A 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def other_engine(engine: Engine) -> Iterator[Engine]:
    """The same database through connections of another process."""
    second = make_engine(engine.url.render_as_string(hide_password=False))
    yield second
    second.dispose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.rate_limit()  # Telegram's 30 a second, 1 a second per chat: 429 beyond
        yield server


def rich_replies(photo_ref: str = "file-1") -> list[Outgoing]:
    """Buttons, a reply keyboard, a picture, a document, photos kept by Telegram, extras."""
    return [
        Outgoing(
            text="<b>Một</b> &amp; hai",
            buttons=((Button("Có", "yes:1"), Button("Không", "no:1")), (Button("Thôi", "x"),)),
            extra={"menu": "refresh"},
        ),
        Outgoing(text="Số điện thoại?", ask_contact="Gửi số", ask_location="Gửi vị trí"),
        Outgoing(text="Mã", image=PNG, remove_keyboard=True),
        Outgoing(text="Biên nhận", document=("bien-nhan.pdf", b"%PDF-1.4 \x00\xff fake")),
        Outgoing(text="Ảnh", photos=(Photo("telegram", photo_ref, "chú thích"),)),
    ]


def test_x4_a_reply_survives_the_trip_through_the_outbox_whole(engine: Engine) -> None:
    """Every field of a reply, bytes included, comes back equal from an outbox row."""
    from handlers.channel import Incoming

    replies = rich_replies()
    with UnitOfWork(engine) as uow:
        person = Person()
        uow.session.add(person)
        uow.flush()
        assert person.id is not None
        incoming = Incoming(channel="telegram", user_id="5", chat_id="5", update_id="77")
        queued = queue_replies(uow, incoming, person.id, replies)
        uow.commit()
    assert isinstance(queued, QueuedReplies) and list(queued) == replies
    with UnitOfWork(engine) as uow:
        claimed = outbox_store.claim_due(
            uow, sender_id="t", now=utc_now(), lease=timedelta(seconds=60), limit=10
        )
    assert [row.kind for row in claimed] == ["reply"] * len(replies)
    assert [(row.channel, row.chat_id, row.urgent) for row in claimed] == [
        ("telegram", "5", True)
    ] * len(replies)
    # The first reply's buttons say where they stand in the turn (Zalo numbers them from 1).
    marked = replace(replies[0], extra={**replies[0].extra, TURN_FIRST_BUTTON: "1"})
    assert [from_data(row.data) for row in claimed] == [marked, *replies[1:]]
    assert from_data(to_data(Outgoing(text="x"))) == Outgoing(text="x")


@postgresql_only
def test_x4_replies_are_queued_by_a_statement_compiled_once(engine: Engine) -> None:
    """A turn's replies go in by one statement SQLAlchemy compiles once per number of replies
    and then takes from its cache (a multi-row INSERT built as Core has no cache key, and was
    compiled again at every turn: issue 12); the rows keep the turn's order."""
    from sqlalchemy import event
    from sqlalchemy.engine import default

    from handlers.channel import Incoming

    hits: list[object] = []

    def seen(*args: Any) -> None:
        statement, context = args[2], args[4]
        if "INSERT INTO outbox_message" in statement:
            hits.append(context.cache_hit)

    with UnitOfWork(engine) as uow:
        person = Person()
        uow.session.add(person)
        uow.flush()
        assert person.id is not None
        uow.commit()
    event.listen(engine, "after_cursor_execute", seen)
    try:
        for turn in ("1", "2", "3"):
            with UnitOfWork(engine) as uow:
                incoming = Incoming(channel="telegram", user_id="5", chat_id="5", update_id=turn)
                queue_replies(
                    uow, incoming, person.id, [Outgoing(text=f"{turn}a"), Outgoing(text=f"{turn}b")]
                )
                uow.commit()
    finally:
        event.remove(engine, "after_cursor_execute", seen)
    assert hits == [default.CACHE_MISS, default.CACHE_HIT, default.CACHE_HIT]
    with UnitOfWork(engine) as uow:
        rows = uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # type: ignore[arg-type]
        assert [from_data(row.data).text for row in rows] == ["1a", "1b", "2a", "2b", "3a", "3b"]


def sender(db: Engine, fake: FakeTelegram, name: str) -> tuple[OutboxSender, Any]:
    from bot.channels.telegram.aiogram_shim import make_bot

    bot = make_bot(fake.token, fake.base_url)
    return (
        OutboxSender(
            db,
            {"telegram": TelegramAiogramTransport(bot)},
            sender_id=name,
            retry_seconds=0.3,
            check_seconds=0.2,
        ),
        bot,
    )


@postgresql_only
async def test_x4_c8_replies_of_a_worker_killed_after_its_commit_are_sent_once_in_order(
    world: ChatWorld, clock: Clock, engine: Engine, other_engine: Engine, fake: FakeTelegram
) -> None:
    """A worker handles a resident's updates (each committed with its replies) and dies
    before sending any; two other processes run outbox senders: every reply arrives once, in
    the order written, with its buttons, picture and document."""
    dying = make_engine(engine.url.render_as_string(hide_password=False))
    conversations = Conversations(dying, ProcedureContext(clock=clock))
    conversations.queue_replies_for = frozenset({"telegram"})
    resident = fake.user(901, "Người chờ")
    expected: list[Outgoing] = []
    for line in ["/trogiup", "/phien", "/tracuu"]:
        incoming = incoming_from_update(fake.send_text(resident, line))
        assert incoming is not None
        replies = conversations.handle(incoming)
        assert isinstance(replies, QueuedReplies) and replies
        expected.extend(replies)
    # A turn's rich replies, queued as a conversation queues them.
    with UnitOfWork(dying) as uow:
        update = fake.send_photo(resident, PNG, caption="ảnh")
        incoming = incoming_from_update(update)
        assert incoming is not None
        photo_ref = update["message"]["photo"][-1]["file_id"]
        from procedure.use_cases.residents import person_for_account

        person_id = person_for_account(uow, "telegram", str(resident.id), str(resident.id))
        expected.extend(queue_replies(uow, incoming, person_id, rich_replies(photo_ref)))
        uow.commit()
    dying.dispose()  # the worker is gone: nothing of it sends anything
    assert fake.sent_messages(resident.id) == []

    pairs = [sender(db, fake, name) for db, name in ((engine, "b"), (other_engine, "c"))]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.run_forever(stop, idle_seconds=0.2)) for s, _ in pairs]
    try:
        # The picture and the document are one call each; the photos kept by Telegram too.
        await fake.wait_for(lambda: len(fake.sent_messages(resident.id)) > len(expected), 30)
        await asyncio.sleep(1.5)  # nothing more comes
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for _, bot in pairs:
            await bot.session.close()
    got = fake.sent_messages(resident.id)
    # The last reply is its text, then the photo Telegram keeps: one more call.
    assert len(got) == len(expected) + 1
    for message, reply in zip(got, expected, strict=False):
        assert (message.text or "").strip() == plain(reply.text).strip()
    methods = [message.method for message in got[-6:]]
    assert methods == [
        "sendMessage",
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMessage",
        "sendPhoto",
    ]
    buttons = got[-6].reply_markup or {}
    assert [[b["callback_data"] for b in row] for row in buttons["inline_keyboard"]] == [
        ["yes:1", "no:1"],
        ["x"],
    ]
    assert got[-3].file is not None and got[-3].file.data.startswith(b"%PDF-1.4")
    with UnitOfWork(engine) as uow:
        rows = uow.session.exec(select(OutboxMessage)).all()
        assert rows and all(row.sent_at is not None for row in rows)
    assert fake.too_many_requests_sent == 0


class DiesAfter:
    """A transport that sends ``pieces`` pieces, then fails every send (as a sender whose
    network died mid-message)."""

    def __init__(self, inner: Any, pieces: int) -> None:
        self._inner = inner
        self._left = pieces

    def pieces(self, message: Outgoing) -> list[Outgoing]:
        return list(self._inner.pieces(message))

    async def send(self, chat_id: str, message: Outgoing) -> None:
        if self._left <= 0:
            raise TransientFailure("the network is gone")
        self._left -= 1
        await self._inner.send(chat_id, message)


@postgresql_only
async def test_x4_c8_a_piece_already_sent_is_not_sent_again_by_the_next_sender(
    engine: Engine, other_engine: Engine, fake: FakeTelegram
) -> None:
    """A reply of three pieces (a long text): the first sender sends one piece and loses its
    network; the next sender sends the two others, and the first piece is not sent again."""
    from bot.channels.telegram.aiogram_shim import make_bot
    from handlers.channel import Incoming

    long_text = "\n".join(f"Dòng {n}: " + "chữ " * 60 for n in range(50))  # over 3 × 4096
    with UnitOfWork(engine) as uow:
        person = Person()
        uow.session.add(person)
        uow.flush()
        assert person.id is not None
        incoming = Incoming(channel="telegram", user_id="950", chat_id="950", update_id="1")
        queue_replies(uow, incoming, person.id, [Outgoing(text=long_text)])
        uow.commit()
    bots = [make_bot(fake.token, fake.base_url) for _ in range(2)]
    try:
        first_transport = TelegramAiogramTransport(bots[0])
        count = len(first_transport.pieces(Outgoing(text=long_text)))
        assert count >= 3
        first = OutboxSender(engine, {"telegram": DiesAfter(first_transport, 1)}, sender_id="a")
        stop = asyncio.Event()
        task = asyncio.create_task(first.run_forever(stop, idle_seconds=0.2))
        await fake.wait_for(lambda: len(fake.sent_messages(950)) >= 1, 10)
        await asyncio.sleep(0.3)  # retrying the second piece in place
        stop.set()
        await task
        with UnitOfWork(engine) as uow:
            row = uow.session.exec(select(OutboxMessage)).one()
            assert row.pieces_sent == 1 and row.sent_at is None and row.claimed_by is None
        second = OutboxSender(
            other_engine, {"telegram": TelegramAiogramTransport(bots[1])}, sender_id="b"
        )
        stop = asyncio.Event()
        task = asyncio.create_task(second.run_forever(stop, idle_seconds=0.2))
        await fake.wait_for(lambda: len(fake.sent_messages(950)) >= count, 20)
        await asyncio.sleep(1.2)
        stop.set()
        await task
    finally:
        for bot in bots:
            await bot.session.close()
    texts = [message.text or "" for message in fake.sent_messages(950)]
    assert len(texts) == count  # each piece once
    assert texts[0].startswith("Dòng 0:") and len(set(texts)) == count
    assert "".join(texts).count("Dòng 49:") == 1
    assert second.sent == 1 and fake.too_many_requests_sent == 0


async def start_worker(
    db: Engine, fake: FakeTelegram, clock: Clock, stop: asyncio.Event, name: str
) -> tuple[Any, web.AppRunner, str, asyncio.Task[None]]:
    """A ``doithoai run`` as serve() builds it with several workers: the webhook through the
    inbox, replies queued by the conversation, the outbox sender at the whole budget."""
    from bot.channels.telegram.aiogram_shim import AiogramChannel, make_bot
    from bot.runner import handler_for
    from storage.unit_of_work import shared_between_processes

    shared_between_processes(db)
    channel = AiogramChannel(
        make_bot(fake.token, fake.base_url),
        webhook_url="http://127.0.0.1/",
        webhook_secret=SECRET,
        limiter=RateLimiter(30),
        inbox=db,
        chat_spacing_seconds=1.0,
    )
    channel.queues_replies = True
    runner = web.AppRunner(web_application([channel]))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    channel.webhook_url = url
    conversations = Conversations(db, ProcedureContext(clock=clock))
    conversations.queue_replies_for = frozenset({"telegram"})
    await channel.start(handler_for(conversations))
    outbox = OutboxSender(
        db,
        {"telegram": channel},
        sender_id=name,
        limiters={"telegram": channel.limiter},
        retry_seconds=0.3,
        check_seconds=0.2,
    )
    return channel, runner, url, asyncio.create_task(outbox.run_forever(stop, idle_seconds=1.0))


@postgresql_only
async def test_x4_c8_replies_and_a_broadcast_from_two_workers_stay_within_the_global_limit(
    world: ChatWorld, clock: Clock, engine: Engine, other_engine: Engine, fake: FakeTelegram
) -> None:
    """150 invitations (five seconds at 30 a second) go out while six residents type to two
    workers: no 429, every invitation once, every resident answered in order, and the answers
    do not wait behind the broadcast."""
    import aiohttp

    stop = asyncio.Event()
    workers = [
        await start_worker(db, fake, clock, stop, name)
        for db, name in ((engine, "a"), (other_engine, "b"))
    ]
    chats = list(queue_messages(engine, 150).values())
    residents = [fake.user(700 + n, f"Người {n}") for n in range(6)]
    script = ["/trogiup", "/phien", "/tracuu"]
    first_waits: list[float] = []  # a resident's first message: no chat pace before it
    waits: list[float] = []  # the next ones: Telegram's one message a second in a chat
    try:
        await fake.wait_for(lambda: len(fake.sent_messages()) >= 10, timeout=15)
        async with aiohttp.ClientSession() as http:

            async def resident_types(number: int) -> None:
                resident = residents[number]
                for step, line in enumerate(script):
                    before = len(fake.sent_messages(resident.id))
                    update = fake.send_text(resident, line)
                    url = workers[(number + step) % 2][2]  # any worker may get any update
                    posted = time.monotonic()
                    async with http.post(
                        url + "telegram/webhook",
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                    ) as response:
                        assert response.status == 200
                    await fake.wait_for(
                        lambda count=before: len(fake.sent_messages(resident.id)) > count,
                        timeout=20,
                    )
                    (first_waits if step == 0 else waits).append(time.monotonic() - posted)
                    await asyncio.sleep(0.2)

            await asyncio.gather(*(resident_types(n) for n in range(len(residents))))
        broadcast_left = sum(1 for chat in chats if received(fake)[chat] == 0)
        await fake.wait_for(lambda: all(received(fake)[chat] >= 1 for chat in chats), 30)
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        for channel, runner, _, task in workers:
            await task
            await channel.stop()
            await runner.cleanup()
    counts = received(fake)
    assert [chat for chat in chats if counts[chat] != 1] == []
    assert fake.too_many_requests_sent == 0
    for resident in residents:
        assert len(fake.sent_messages(resident.id)) >= len(script)
    # The residents were answered while the broadcast was still going out, promptly.
    assert broadcast_left > 0
    assert max(first_waits + waits) < 5.0
    print(
        "\nreply waits during a broadcast: a resident's first message "
        f"median {statistics.median(first_waits) * 1000:.0f} ms, "
        f"max {max(first_waits) * 1000:.0f} ms; the next ones (1 a second per chat) "
        f"median {statistics.median(waits) * 1000:.0f} ms, max {max(waits) * 1000:.0f} ms; "
        f"invitations left when the residents were done: {broadcast_left}"
    )


def test_x4_replies_go_through_the_outbox_on_postgresql_unless_switched_off(
    tmp_path: Path,
) -> None:
    """PostgreSQL (a production deployment, one worker or several): replies are queued with the
    turn's commit; SQLite (one process) keeps its direct replies; REPLIES_THROUGH_OUTBOX decides
    either way. Only the elected sender then sends Telegram messages: it keeps the whole budget."""
    from bot.channels.registry import telegram
    from bot.config import Settings

    base = {"DOITHOAI_DATA_DIR": str(tmp_path), "TELEGRAM_BOT_TOKEN": "1:x", "WORKERS": "1"}
    assert Settings.from_environ(base).queues_replies("postgresql")
    assert not Settings.from_environ(base).queues_replies("sqlite")
    off = Settings.from_environ({**base, "REPLIES_THROUGH_OUTBOX": "off"})
    assert not off.queues_replies("postgresql")
    on = Settings.from_environ({**base, "REPLIES_THROUGH_OUTBOX": "on"})
    assert on.queues_replies("sqlite")
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        for settings, queued in ((Settings.from_environ(base), False), (on, True)):
            limiters: dict[str, RateLimiter] = {}
            channel = telegram(settings, engine, limiters)
            assert channel is not None and channel.queues_replies is queued  # type: ignore[attr-defined]
            assert limiters["telegram"].global_per_second == 30
        several = Settings.from_environ(
            {
                **base,
                "WORKERS": "3",
                "REPLIES_THROUGH_OUTBOX": "off",
                "WEBHOOK_URL": "https://x.example",
                "WEBHOOK_SECRET": "s",
            }
        )
        limiters = {}
        assert telegram(several, engine, limiters) is not None
        assert limiters["telegram"].global_per_second == 10  # each worker its share
    finally:
        engine.dispose()
