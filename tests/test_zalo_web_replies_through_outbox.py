"""Issue 12 (X4, C8) for the first-class channels: Zalo OA, Zalo Bot and the web chat.

* Zalo: with several workers on PostgreSQL a conversation's replies are queued in the outbox in
  the turn's own transaction; a worker killed after its commit loses none: the elected outbox
  sender of another process sends each once, in order, buttons (numbered from 1 per turn on
  the Zalo Bot), pictures and documents included; a piece already sent is not sent again.
* The web chat: a turn's replies are stored, numbered, in the turn's own transaction; a worker
  killed after its commit (its sockets die with it) loses none: the page reconnects to another
  worker and is shown them once, in order, with a push stored meanwhile by a third process.

The "processes" are engines of their own (their own connections), as in
tests/test_replies_through_outbox.py; PostgreSQL cannot tell the difference.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import select

from bot.channels.plain_text import plain
from bot.outbox_sender import OutboxSender
from bot.rate_limit import RateLimiter
from handlers.channel import Button, Incoming, Outgoing
from handlers.conversations import Conversations
from handlers.reply_queue import QueuedReplies, queue_replies
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.residents import person_for_account
from storage import channel_store
from storage.engine import make_engine
from storage.tables import OutboxMessage
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork
from tests.chat_world import ChatWorld
from tests.fake_zalo import FakeZaloBot, FakeZaloOA
from tests.procedure_world import Clock
from tests.test_replies_through_outbox import PNG, DiesAfter

postgresql_only = pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)
PDF = b"%PDF-1.4 \x00\xff bien nhan"


@pytest.fixture
def other_engine(engine: Engine) -> Iterator[Engine]:
    """The same database through connections of another process."""
    second = make_engine(engine.url.render_as_string(hide_password=False))
    yield second
    second.dispose()


def another_process(engine: Engine) -> Engine:
    return make_engine(engine.url.render_as_string(hide_password=False))


# -- Zalo ------------------------------------------------------------------------------------------


@pytest.fixture
async def fake_oa() -> AsyncIterator[FakeZaloOA]:
    fake = FakeZaloOA()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def fake_bot() -> AsyncIterator[FakeZaloBot]:
    fake = FakeZaloBot()
    await fake.start()
    yield fake
    await fake.stop()


def oa_channel(engine: Engine, fake: FakeZaloOA) -> Any:
    from bot.channels.zalo_oa import ZaloOAChannel

    with UnitOfWork(engine) as uow:
        if channel_store.load_tokens(uow, fake.app_id) is None:
            access, refresh, seconds = fake.issue_tokens()
            expires = utc_now() + timedelta(seconds=seconds)
            channel_store.save_tokens(uow, fake.app_id, access, refresh, expires, utc_now())
    return ZaloOAChannel(
        engine,
        app_id=fake.app_id,
        app_secret=fake.app_secret,
        oa_secret_key=fake.oa_secret_key,
        api_url=fake.base_url,
        oauth_url=fake.base_url,
    )


def bot_channel(engine: Engine, fake: FakeZaloBot) -> Any:
    from bot.channels.zalo_bot import ZaloBotChannel

    return ZaloBotChannel(engine, token=fake.token, api_url=fake.base_url)


def rich_replies() -> list[Outgoing]:
    """Two replies with buttons (the turn numbers them on), a picture and a PDF."""
    return [
        Outgoing(
            text="<b>Một</b> &amp; hai",
            buttons=((Button("Có", "yes:1"), Button("Không", "no:1")),),
        ),
        Outgoing(text="Chọn tiếp", buttons=((Button("Thôi", "x"),),)),
        Outgoing(text="Mã", image=PNG),
        Outgoing(text="Biên nhận", document=("bien-nhan.pdf", PDF)),
    ]


def handled_by_a_dying_worker(
    engine: Engine, clock: Clock, channel_name: str, user: str, lines: list[str]
) -> list[Outgoing]:
    """A worker handles ``lines`` then rich replies of one more turn, each committed with its
    replies, and dies before sending any: the replies it queued, in order."""
    dying = another_process(engine)
    conversations = Conversations(dying, ProcedureContext(clock=clock))
    conversations.queue_replies_for = frozenset({channel_name})
    expected: list[Outgoing] = []
    for number, line in enumerate(lines):
        incoming = Incoming(
            channel=channel_name, user_id=user, chat_id=user, update_id=f"u{number}", text=line
        )
        if line.startswith("/"):
            incoming = Incoming(
                channel=channel_name,
                user_id=user,
                chat_id=user,
                update_id=f"u{number}",
                text=line,
                command=line[1:],
            )
        replies = conversations.handle(incoming)
        assert isinstance(replies, QueuedReplies) and replies
        expected.extend(replies)
    with UnitOfWork(dying) as uow:
        incoming = Incoming(channel=channel_name, user_id=user, chat_id=user, update_id="rich")
        person_id = person_for_account(uow, channel_name, user, user)
        expected.extend(queue_replies(uow, incoming, person_id, rich_replies()))
        uow.commit()
    dying.dispose()  # the worker is gone: nothing of it sends anything
    return expected


async def senders_of_two_processes(
    engines: list[Engine], make_channel: Any, done: Any, timeout: float = 30
) -> list[OutboxSender]:
    """An elected outbox sender in each of two processes, until ``done()``, then 1.5 s more."""
    channels = [make_channel(db) for db in engines]
    senders = [
        OutboxSender(
            db,
            {channel.name: channel},
            sender_id=f"s{n}",
            limiters={"zalo_oa": RateLimiter(30, 5), "zalo_bot": RateLimiter(30, 5)},
            retry_seconds=0.3,
            check_seconds=0.2,
        )
        for n, (db, channel) in enumerate(zip(engines, channels, strict=True))
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.run_forever(stop, idle_seconds=0.2)) for s in senders]
    try:
        for _ in range(int(timeout * 20)):
            if done():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # nothing more comes
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for channel in channels:
            await close_http(channel)
    return senders


async def close_http(channel: Any) -> None:
    inner = getattr(channel, "_inner", channel)
    if inner._http is not None:
        await inner._http.close()


def all_sent(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        rows = uow.session.exec(select(OutboxMessage)).all()
    assert rows and all(row.sent_at is not None for row in rows)


@postgresql_only
async def test_x4_c8_a_zalo_oa_worker_killed_after_its_commit_its_replies_are_sent_once(
    world: ChatWorld,
    clock: Clock,
    engine: Engine,
    other_engine: Engine,
    fake_oa: FakeZaloOA,
) -> None:
    user = "8801"
    expected = handled_by_a_dying_worker(
        engine, clock, "zalo_oa", user, ["/trogiup", "xin chào", "/tracuu"]
    )
    probe = oa_channel(engine, fake_oa)
    pieces = [piece for reply in expected for piece in probe.pieces(reply)]
    assert fake_oa.sent_to(user) == []

    senders = await senders_of_two_processes(
        [engine, other_engine],
        lambda db: oa_channel(db, fake_oa),
        lambda: len(fake_oa.sent_to(user)) >= len(pieces),
    )
    got = fake_oa.sent_to(user)
    assert len(got) == len(pieces)  # each piece once
    for message, piece in zip(got, pieces, strict=True):
        if piece.image is None and piece.document is None and not piece.ask_contact:
            assert message.text.startswith(piece.text.strip()[:20])
    assert got[0].text.startswith(plain(expected[0].text).strip()[:20])
    # The rich turn at the end, in order: its buttons as template buttons, the picture and
    # the PDF uploaded.
    assert [b["title"] for b in got[-6].buttons] == ["Có", "Không"]
    assert [b["title"] for b in got[-5].buttons] == ["Thôi"]
    assert got[-3].image == PNG
    assert got[-1].file == ("bien-nhan.pdf", PDF)
    # The turn's buttons are remembered from 1: "2" typed back is "Không".
    assert await probe.buttons.resolve(user, "2") == "no:1"
    assert await probe.buttons.resolve(user, "3") == "x"
    assert sum(s.sent for s in senders) == len(expected)
    all_sent(engine)


@postgresql_only
async def test_x4_c8_a_zalo_bot_worker_killed_after_its_commit_its_replies_are_sent_once(
    world: ChatWorld,
    clock: Clock,
    engine: Engine,
    other_engine: Engine,
    fake_bot: FakeZaloBot,
) -> None:
    user = "8802"
    expected = handled_by_a_dying_worker(engine, clock, "zalo_bot", user, ["/trogiup", "/phien"])
    probe = bot_channel(engine, fake_bot)
    pieces = [piece for reply in expected for piece in probe.pieces(reply)]

    await senders_of_two_processes(
        [engine, other_engine],
        lambda db: bot_channel(db, fake_bot),
        lambda: len(fake_bot.sent_to(user)) >= len(pieces),
    )
    got = [message.text for message in fake_bot.sent_to(user)]
    assert len(got) == len(pieces)  # each piece once
    for text, piece in zip(got, pieces, strict=True):
        if piece.image is None and piece.document is None:
            assert text.startswith(piece.text.strip()[:20])
    # The rich turn: its buttons numbered from 1 on, across its two replies, as a turn
    # answered directly numbers them; the picture without a link says so; the PDF as text.
    assert "[1] Có" in got[-6] and "[2] Không" in got[-6]
    assert "[3] Thôi" in got[-5]
    assert await probe.buttons.resolve(user, "3") == "x"
    all_sent(engine)


@postgresql_only
async def test_x4_c8_a_zalo_piece_already_sent_is_not_sent_again_by_the_next_sender(
    engine: Engine, other_engine: Engine, fake_bot: FakeZaloBot
) -> None:
    """A reply of three pieces (a long text): the first sender sends one piece and loses its
    network; the next sender, another process, sends the two others only."""
    user = "8803"
    long_text = "\n".join(f"Dòng {n}: " + "chữ " * 40 for n in range(30))  # over 2 × 2,000
    with UnitOfWork(engine) as uow:
        person_id = person_for_account(uow, "zalo_bot", user, user)
        incoming = Incoming(channel="zalo_bot", user_id=user, chat_id=user, update_id="1")
        queue_replies(uow, incoming, person_id, [Outgoing(text=long_text)])
        uow.commit()
    count = len(bot_channel(engine, fake_bot).pieces(Outgoing(text=long_text)))
    assert count >= 3
    first = OutboxSender(
        engine, {"zalo_bot": DiesAfter(bot_channel(engine, fake_bot), 1)}, sender_id="a"
    )
    stop = asyncio.Event()
    task = asyncio.create_task(first.run_forever(stop, idle_seconds=0.2))
    for _ in range(200):
        if fake_bot.sent_to(user):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # retrying the second piece in place
    stop.set()
    await task
    with UnitOfWork(engine) as uow:
        row = uow.session.exec(select(OutboxMessage)).one()
        assert row.pieces_sent == 1 and row.sent_at is None and row.claimed_by is None
    second = OutboxSender(
        other_engine,
        {"zalo_bot": bot_channel(other_engine, fake_bot)},
        sender_id="b",
        limiters={"zalo_bot": RateLimiter(30, 5)},
    )
    stop = asyncio.Event()
    task = asyncio.create_task(second.run_forever(stop, idle_seconds=0.2))
    for _ in range(400):
        if len(fake_bot.sent_to(user)) >= count:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    stop.set()
    await task
    for sender in (first, second):
        for transport in sender._transports.values():
            await close_http(transport)
    texts = [message.text for message in fake_bot.sent_to(user)]
    assert len(texts) == count and len(set(texts)) == count  # each piece once
    assert texts[0].startswith("Dòng 0:")
    assert "".join(texts).count("Dòng 29:") == 1
    assert second.sent == 1


# -- the web chat ----------------------------------------------------------------------------------


class Worker:
    """A ``doithoai run`` serving the web chat on PostgreSQL: replies stored with the turn."""

    def __init__(self, engine: Engine, clock: Clock, *, dies_after_commit: bool = False) -> None:
        from bot.channels.web import WebChannel

        self.channel = WebChannel(engine, stores_replies=True)
        self.conversations = Conversations(engine, ProcedureContext(clock=clock))
        self.conversations.reply_writers = {"web": self.channel.store_replies}
        self.dies_after_commit = dies_after_commit
        self.committed = asyncio.Event()
        self.stored: list[tuple[int, dict[str, object]]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        replies = await asyncio.to_thread(self.conversations.handle, incoming)
        self.stored.extend(getattr(replies, "frames", []))
        self.committed.set()
        if self.dies_after_commit:
            raise asyncio.CancelledError  # killed right after the commit: nothing is pushed
        return replies

    async def start(self) -> Worker:
        from bot.app import web_application

        await self.channel.start(self.handle)
        self.runner = web.AppRunner(web_application([self.channel]))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/web/ws"
        return self

    async def kill(self) -> None:
        assert self.runner is not None
        await self.channel.stop()
        await self.runner.cleanup()


class Page:
    """The page in a browser: its token and the frames it showed, by number."""

    def __init__(self, client: aiohttp.ClientSession) -> None:
        self.client = client
        self.token: str | None = None
        self.shown: list[dict[str, Any]] = []
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.frames = 0

    @property
    def last(self) -> int:
        return max((int(frame["seq"]) for frame in self.shown), default=0)

    async def connect(self, url: str) -> None:
        self.socket = await self.client.ws_connect(url)
        hello: dict[str, object] = {"type": "hello", "after": self.last}
        if self.token:
            hello["token"] = self.token
        await self.socket.send_json(hello)
        session = await self.socket.receive_json(timeout=10)
        assert session["type"] == "session"
        self.token = session["token"]
        await self.read_until(lambda: self.last >= int(session["last"]))

    async def read_until(self, done: Any, timeout: float = 15) -> None:
        assert self.socket is not None
        while not done():
            frame = await self.socket.receive_json(timeout=timeout)
            if frame["type"] == "message":
                self.shown.append(frame)
            elif frame["type"] == "error":
                raise AssertionError(frame)

    async def say(self, text: str) -> None:
        """Type ``text`` and wait for the turn's ``done``."""
        assert self.socket is not None
        self.frames += 1
        frame_id = f"f{self.frames}"
        await self.socket.send_json({"type": "text", "id": frame_id, "text": text})
        finished: list[bool] = []

        async def until_done() -> None:
            assert self.socket is not None
            while True:
                frame = await self.socket.receive_json(timeout=15)
                if frame["type"] == "message":
                    self.shown.append(frame)
                elif frame["type"] == "done" and frame["id"] == frame_id:
                    finished.append(True)
                    return

        await until_done()
        assert finished


def numbers(page: Page) -> list[int]:
    return [int(frame["seq"]) for frame in page.shown]


@postgresql_only
async def test_x4_c8_a_web_turn_whose_worker_dies_is_shown_once_in_order_on_reconnecting(
    world: ChatWorld, clock: Clock, engine: Engine, other_engine: Engine
) -> None:
    """The page's worker stores a turn's replies with the turn and is killed before pushing
    them; meanwhile a third process's outbox sender stores a push for the chat. The page
    reconnects to another worker: it is shown the replies, then the push, once each, in
    order; the next turn's replies follow them, numbered on."""
    from bot.channels.web import WebChannel
    from bot.channels.web.channel import chat_id_for

    dying_engine = another_process(engine)
    third = another_process(engine)
    async with aiohttp.ClientSession() as client:
        page = Page(client)
        first = await Worker(engine, clock).start()
        await page.connect(first.url)
        await page.say("/trogiup")
        before = numbers(page)
        assert before == list(range(1, len(before) + 1))
        await first.kill()

        dying = await Worker(dying_engine, clock, dies_after_commit=True).start()
        await page.connect(dying.url)
        assert page.socket is not None
        await page.socket.send_json({"type": "text", "id": "k1", "text": "/tracuu"})
        await asyncio.wait_for(dying.committed.wait(), 15)
        await dying.kill()  # its sockets die with it
        dying_engine.dispose()
        assert numbers(page) == before  # nothing was pushed
        lost = dying.stored
        assert lost and [seq for seq, _ in lost] == list(
            range(before[-1] + 1, before[-1] + 1 + len(lost))
        )

        # A push from the outbox sender of a third process, stored for the chat meanwhile.
        assert page.token is not None
        pusher = WebChannel(third, stores_replies=True)
        await pusher.send(chat_id_for(page.token), Outgoing(text="Ý kiến đã được chuyển."))

        second = await Worker(other_engine, clock).start()
        await page.connect(second.url)
        await page.say("/phien")
        await second.kill()
    third.dispose()
    shown = numbers(page)
    assert shown == list(range(1, len(shown) + 1))  # each number once, in order
    replayed = page.shown[len(before) : len(before) + len(lost)]
    assert [frame["text"] for frame in replayed] == [frame["text"] for _, frame in lost]
    assert page.shown[len(before) + len(lost)]["text"] == "Ý kiến đã được chuyển."
    assert len(page.shown) > len(before) + len(lost) + 1  # the next turn's replies


@postgresql_only
async def test_x4_c8_a_web_turns_buttons_picture_and_document_round_trip_through_the_store(
    engine: Engine, other_engine: Engine
) -> None:
    """Replies stored in a turn's transaction come back to a reconnecting page whole: text,
    buttons, picture and document; a page open meanwhile on this worker is pushed them once,
    and a message another process stored before them first."""
    from bot.channels.web import WebChannel
    from bot.channels.web.channel import StoredReplies, chat_id_for, frame_of

    worker = WebChannel(other_engine, stores_replies=True)
    async with aiohttp.ClientSession() as client:
        from bot.app import web_application

        async def no_turns(incoming: Incoming) -> list[Outgoing]:
            return []

        await worker.start(no_turns)
        runner = web.AppRunner(web_application([worker]))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/web/ws"
        try:
            open_page = Page(client)
            await open_page.connect(url)
            assert open_page.token is not None
            chat = chat_id_for(open_page.token)
            # Another process stores a push the open page has not been shown.
            await WebChannel(engine).send(chat, Outgoing(text="Trước"))
            with UnitOfWork(engine) as uow:
                incoming = Incoming(channel="web", user_id=chat, chat_id=chat, update_id="r")
                stored = worker.store_replies(uow, incoming, rich_replies())
                uow.commit()
            assert isinstance(stored, StoredReplies)
            assert [seq for seq, _ in stored.frames] == [2, 3, 4, 5]
            await worker.push(chat, stored.frames)
            await open_page.read_until(lambda: open_page.last >= 5)
            later = Page(client)
            later.token = open_page.token
            await later.connect(url)
        finally:
            await worker.stop()
            await runner.cleanup()
    expected = [frame_of(reply) for reply in rich_replies()]
    for page in (open_page, later):
        assert numbers(page) == [1, 2, 3, 4, 5]
        assert page.shown[0]["text"] == "Trước"
        for frame, wanted in zip(page.shown[1:], expected, strict=True):
            assert {k: v for k, v in frame.items() if k != "seq"} == wanted
    assert later.shown[1]["buttons"] == [
        [{"label": "Có", "data": "yes:1"}, {"label": "Không", "data": "no:1"}]
    ]
    assert base64.b64decode(later.shown[3]["image"]) == PNG
    assert later.shown[4]["document"]["name"] == "bien-nhan.pdf"
    assert base64.b64decode(later.shown[4]["document"]["data"]) == PDF


def test_x4_zalo_and_web_replies_go_through_the_outbox_where_telegrams_do(tmp_path: Any) -> None:
    """The registry: on PostgreSQL (or REPLIES_THROUGH_OUTBOX=on) both Zalo channels queue
    their replies, each under a limiter of its own, and the web chat stores them with the
    turn; on SQLite they answer directly."""
    from bot.channels.registry import web_chat, zalo_bot, zalo_oa
    from bot.config import Settings

    base = {
        "DOITHOAI_DATA_DIR": str(tmp_path),
        "ZALO_APP_ID": "1",
        "ZALO_APP_SECRET": "s",
        "ZALO_OA_SECRET_KEY": "k",
        "ZALO_BOT_TOKEN": "1:x",
    }
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        for environ, queued in (
            (base, False),
            ({**base, "REPLIES_THROUGH_OUTBOX": "on"}, True),
        ):
            settings = Settings.from_environ(environ)
            limiters: dict[str, RateLimiter] = {}
            for factory in (zalo_oa, zalo_bot):
                channel = factory(settings, engine, limiters)
                assert channel is not None
                assert channel.queues_replies is queued  # type: ignore[attr-defined]
                assert limiters[channel.name] is not limiters.get("telegram")
            assert limiters["zalo_oa"] is not limiters["zalo_bot"]
            web_channel = web_chat(settings, engine, limiters)
            assert web_channel is not None
            assert web_channel.stores_replies is queued  # type: ignore[attr-defined]
            assert not getattr(web_channel, "queues_replies", False)
    finally:
        engine.dispose()


@postgresql_only
async def test_x4_c8_a_push_stored_by_another_worker_reaches_an_open_page_at_once(
    world: ChatWorld, clock: Clock, engine: Engine, other_engine: Engine
) -> None:
    """The outbox sender of another worker stores a push for a chat whose page is open here:
    the NOTIFY at its commit brings the page up to date at once, in order, once."""
    from bot.channels.web import WebChannel
    from bot.channels.web.channel import chat_id_for

    async with aiohttp.ClientSession() as client:
        page = Page(client)
        worker = await Worker(engine, clock).start()
        try:
            await page.connect(worker.url)
            await page.say("/trogiup")
            before = page.last
            assert page.token is not None
            elsewhere = WebChannel(other_engine)  # the elected sender's process: no socket
            for n in range(3):
                await elsewhere.send(chat_id_for(page.token), Outgoing(text=f"Tin {n}"))
            await page.read_until(lambda: page.last >= before + 3, timeout=10)
            await page.say("/phien")
        finally:
            await worker.kill()
    shown = numbers(page)
    assert shown == list(range(1, len(shown) + 1))
    assert [frame["text"] for frame in page.shown[before : before + 3]] == [
        "Tin 0",
        "Tin 1",
        "Tin 2",
    ]


@postgresql_only
async def test_x4_c8_a_zalo_oa_reply_outside_the_reply_window_fails_with_an_event_once(
    engine: Engine, fake_oa: FakeZaloOA
) -> None:
    """A queued reply Zalo OA refuses (outside the reply window, -230) is not retried: its row
    fails with the reason and a "not delivered" event, like a push."""
    from storage.tables import Event

    user = "8804"
    fake_oa.outside_window.add(user)
    with UnitOfWork(engine) as uow:
        person_id = person_for_account(uow, "zalo_oa", user, user)
        incoming = Incoming(channel="zalo_oa", user_id=user, chat_id=user, update_id="1")
        queue_replies(uow, incoming, person_id, [Outgoing(text="Trả lời muộn")])
        uow.commit()
    channel = oa_channel(engine, fake_oa)
    sender = OutboxSender(engine, {"zalo_oa": channel}, limiters={"zalo_oa": RateLimiter(30, 5)})
    try:
        assert await sender.drain_once() == 0
        assert await sender.drain_once() == 0  # not tried again
    finally:
        await close_http(channel)
    assert fake_oa.sent_to(user) == [] and sender.failed == 1
    with UnitOfWork(engine) as uow:
        row = uow.session.exec(select(OutboxMessage)).one()
        assert row.failed_at is not None and "reply window" in (row.failure or "")
        events = uow.session.exec(select(Event).where(Event.kind == "message.not_delivered"))
        assert len(events.all()) == 1


def test_x4_a_failed_web_turn_stores_its_apology_as_the_chats_next_message(
    engine: Engine, world: ChatWorld, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn that fails is rolled back; its one apology is stored, numbered, in a transaction
    of its own, so the page is shown it like any reply (and after a reconnect)."""
    import handlers.conversations as conversations_module
    from bot.channels.web import WebChannel
    from bot.channels.web.channel import StoredReplies
    from storage import web_store

    channel = WebChannel(engine, stores_replies=True)
    conversations = Conversations(engine, ProcedureContext(clock=clock))
    conversations.reply_writers = {"web": channel.store_replies}
    chat = "w" + "a" * 40

    def broken(turn: object) -> None:
        raise RuntimeError("a step failed")

    monkeypatch.setattr(conversations_module, "route", broken)
    incoming = Incoming(channel="web", user_id=chat, chat_id=chat, update_id="x:1", text="chào")
    replies = conversations.handle(incoming)
    assert isinstance(replies, StoredReplies) and len(replies.frames) == 1
    with UnitOfWork(engine) as uow:
        stored = web_store.since(uow, chat, 0)
    assert stored == replies.frames
    assert stored[0][0] == 1 and stored[0][1]["text"] == replies[0].text
