"""The ward's web chat (C7) at the protocol level: a real aiohttp server on 127.0.0.1 port 0 and
an aiohttp WebSocket client. Resume after a reload and replay of what the page missed, the
origin check, frame and text size limits, per-connection and per-address rate limits, a typed
phone (Q2) and the verification picture (Q3). The conversation contract suite runs on this
channel too (tests/test_chat_contract.py, driver "web")."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import select

from bot.app import web_application
from bot.channels.web import WebChannel, WebChatOptions
from bot.channels.web.channel import chat_id_for
from bot.outbox_sender import OutboxSender
from bot.runner import handler_for
from handlers.channel import Outgoing
from handlers.conversations import Conversations
from handlers.notifications import renderer
from handlers.turn import ChatSettings
from procedure.notifications import enqueue
from procedure.use_cases.context import ProcedureContext
from storage.tables import ChannelAccount, Person, WebMessage
from storage.unit_of_work import UnitOfWork
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock

Serve = Callable[..., Any]


@renderer("test.web_notice")
def _notice(data: dict[str, object]) -> Outgoing:
    return Outgoing(text="Thông báo khi trang đang đóng")


class Page:
    """What chat.js does, as a test client: hello with the token and the last seq seen."""

    def __init__(self, client: aiohttp.ClientSession, url: str, origin: str | None = None):
        self.client, self.url, self.origin = client, url, origin
        self.token: str | None = None
        self.seen = 0
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.frames = 0

    async def open(self) -> list[dict[str, Any]]:
        """Connect and say hello; returns the replayed messages."""
        headers = {"Origin": self.origin} if self.origin else {}
        self.socket = await self.client.ws_connect(self.url + "web/ws", headers=headers)
        hello: dict[str, Any] = {"type": "hello", "after": self.seen}
        if self.token:
            hello["token"] = self.token
        await self.socket.send_json(hello)
        session = await self.socket.receive_json(timeout=10)
        assert session["type"] == "session"
        self.token = session["token"]
        return await self.pending()

    async def pending(self, wait: float = 0.3) -> list[dict[str, Any]]:
        assert self.socket is not None
        got = []
        while True:
            try:
                frame = await self.socket.receive_json(timeout=wait)
            except TimeoutError:
                return got
            got.append(frame)
            if frame["type"] == "message":
                self.seen = max(self.seen, frame["seq"])

    async def say(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        """Send a frame; the frames up to its ``done`` (or an error)."""
        assert self.socket is not None
        self.frames += 1
        frame = {"id": f"t{self.frames}", **frame}
        await self.socket.send_json(frame)
        got = []
        while True:
            reply = await self.socket.receive_json(timeout=30)
            got.append(reply)
            if reply["type"] == "message":
                self.seen = max(self.seen, reply["seq"])
            if reply["type"] == "error" or (reply["type"] == "done" and reply["id"] == frame["id"]):
                return got

    async def text(self, text: str) -> list[dict[str, Any]]:
        return await self.say({"type": "text", "text": text})

    async def press(self, label: str, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for frame in reversed(frames):
            for row in frame.get("buttons", []):
                for button in row:
                    if label in button["label"]:
                        return await self.say({"type": "button", "data": button["data"]})
        raise AssertionError(f"no button {label!r}")

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


def said(frames: list[dict[str, Any]]) -> str:
    return "\n".join(f.get("text", "") for f in frames if f["type"] == "message")


@pytest.fixture
async def serve(
    chat_engine: Engine, clock: Clock, world: ChatWorld, tmp_path: Path
) -> AsyncIterator[Serve]:
    """``async with serve(options, verify_code_as=…) as (url, _channel, client)``."""
    runners: list[web.AppRunner] = []

    @asynccontextmanager
    async def start(
        options: WebChatOptions | None = None, verify_code_as: str = "text"
    ) -> AsyncIterator[tuple[str, WebChannel, aiohttp.ClientSession]]:
        conversations = Conversations(
            chat_engine,
            ProcedureContext(clock=clock),
            ChatSettings(verify_code_as=verify_code_as, typed_phone_channels=frozenset({"web"})),
        )
        channel = WebChannel(chat_engine, options or WebChatOptions(upload_dir=tmp_path))
        await channel.start(handler_for(conversations))
        runner = web.AppRunner(web_application([channel]))
        runners.append(runner)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        async with aiohttp.ClientSession() as client:
            try:
                yield url, channel, client
            finally:
                await channel.stop()
                await runner.cleanup()

    yield start


async def register_details(page: Page, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for _ in range(6):
        text = said(frames)
        if "Thông báo về dữ liệu cá nhân" in text:
            frames = await page.press("Tôi đồng ý", frames)
        elif "họ và tên" in text and "Xin cho biết" in text:
            frames = await page.text("Nguyễn Văn An")
        elif "số điện thoại cá nhân" in text:
            frames = await page.text("0912 345 678")
        elif "phường, xã" in text and "cư trú" in text and "Xin chọn" not in text:
            frames = await page.text("ben thanh")
        elif "Xin chọn phường, xã" in text:
            frames = await page.press("Phường Bến Thành", frames)
        else:
            return frames
    return frames


async def test_c7_x4_a_reloaded_page_resumes_and_is_shown_what_it_missed(
    serve: Serve, chat_engine: Engine, world: ChatWorld
) -> None:
    async with serve() as (url, channel, client):
        page = Page(client, url)
        assert await page.open() == []
        first = await page.text("/start")
        assert "Đối thoại" in said(first)
        await page.text(f"/start s{world.session_id}")
        asked = await page.press("Đăng ký dự", await page.text(f"/start s{world.session_id}"))
        assert "Thông báo về dữ liệu cá nhân" in said(asked)
        await page.close()

        # The page is closed: a push through the outbox sender (the channel is its transport)
        # is stored for the chat.
        chat_id = chat_id_for(page.token or "")
        with UnitOfWork(chat_engine) as uow:
            account = uow.session.exec(
                select(ChannelAccount).where(ChannelAccount.chat_id == chat_id)
            ).one()
            enqueue(
                uow,
                person_id=account.person_id,
                kind="test.web_notice",
                data={},
                key="test:web:1",
            )
            uow.commit()
        sender = OutboxSender(chat_engine, {"web": channel}, global_per_second=1000)
        assert await sender.drain_once() == 1

        # The reloaded page (same token from localStorage) gets what followed its last seq,
        # and the conversation goes on where it was: the consent step.
        seen = page.seen
        replayed = await page.open()
        assert [f["text"] for f in replayed] == ["Thông báo khi trang đang đóng"]
        assert replayed[0]["seq"] == seen + 1
        consented = await page.press("Tôi đồng ý", asked)
        assert "họ và tên" in said(consented)
        await page.close()

        # A page that lost its place (after=0) is shown the whole stored history, in order.
        fresh = Page(client, url)
        fresh.token = page.token
        history = await fresh.open()
        assert [f["seq"] for f in history] == list(range(1, len(history) + 1))
        assert history[-1]["seq"] == page.seen
        await fresh.close()

        # Another token is another chat; the database never holds the token itself.
        stranger = Page(client, url)
        assert await stranger.open() == []
        assert stranger.token != page.token
        with UnitOfWork(chat_engine) as uow:
            chats = {row.chat_id for row in uow.session.exec(select(WebMessage)).all()}
        assert chats == {chat_id} and page.token not in chat_id
        await stranger.close()


async def test_c7_the_socket_accepts_its_own_origin_and_the_configured_ones_only(
    serve: Serve, tmp_path: Path
) -> None:
    options = WebChatOptions(allowed_origins=("https://phuong.example.vn",), upload_dir=tmp_path)
    async with serve(options) as (url, _channel, client):
        own = url.rstrip("/")
        for origin in (own, "https://phuong.example.vn", None):
            page = Page(client, url, origin)
            await page.open()
            await page.close()
        for origin in ("https://evil.example", "https://phuong.example.vn.evil.example", "null"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect(url + "web/ws", headers={"Origin": origin})
            assert refused.value.status == 403
        # The page may be framed only by the configured sites.
        async with client.get(url) as response:
            policy = response.headers["Content-Security-Policy"]
            assert "frame-ancestors 'self' https://phuong.example.vn" in policy
            assert 'lang="vi"' in await response.text()
        async with client.get(url + "web/widget.js") as response:
            assert response.status == 200 and "iframe" in await response.text()


async def test_c7_the_page_has_an_icon_and_a_browsers_favicon_request_is_answered(
    serve: Serve, tmp_path: Path
) -> None:
    """The tab shows the chat's icon, and /favicon.ico (asked for by browsers whatever the page
    names) is answered with it instead of a 404 in the log at every visit."""
    async with serve(WebChatOptions(upload_dir=tmp_path)) as (url, _channel, client):
        async with client.get(url) as response:
            assert '<link rel="icon" href="web/icon.svg"' in await response.text()
        for path in ("web/icon.svg", "favicon.ico"):
            async with client.get(url + path) as response:
                assert response.status == 200, path
                assert response.content_type == "image/svg+xml"
                assert (await response.text()).startswith("<svg")


async def test_c7_frames_and_texts_over_the_limits_are_refused(
    serve: Serve, tmp_path: Path
) -> None:
    options = WebChatOptions(max_frame_bytes=8 * 1024, max_text=100, upload_dir=tmp_path)
    async with serve(options) as (url, _channel, client):
        page = Page(client, url)
        await page.open()
        too_long = await page.text("chữ " * 40)
        assert too_long[-1]["code"] == "too_long" and "4.096" in too_long[-1]["text"]
        not_json = await page.say({"type": "nonsense"})
        assert not_json[-1]["code"] == "bad_frame"
        assert page.socket is not None
        await page.socket.send_str("x" * (9 * 1024))
        closing = await page.socket.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert page.socket.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


async def test_c7_rate_limits_per_connection_and_per_address(
    serve: Serve, tmp_path: Path
) -> None:
    base = WebChatOptions(
        upload_dir=tmp_path,
        per_connection_per_second=0.01,
        per_connection_burst=3,
        per_address_per_second=0.01,
        per_address_burst=100,
    )
    async with serve(base) as (url, _channel, client):
        page = Page(client, url)
        await page.open()  # the hello is the first frame
        assert (await page.text("/trogiup"))[-1]["type"] == "done"
        assert (await page.text("/trogiup"))[-1]["type"] == "done"
        limited = await page.text("/trogiup")
        assert limited[-1]["code"] == "rate_limited" and "quá nhanh" in limited[-1]["text"]
        await page.close()

    shared = replace(base, per_connection_burst=100, per_address_burst=4)
    async with serve(shared) as (url, _channel, client):
        one, two = Page(client, url), Page(client, url)
        await one.open()
        await two.open()
        assert (await one.text("/trogiup"))[-1]["type"] == "done"
        assert (await two.text("/trogiup"))[-1]["type"] == "done"
        assert (await one.text("/trogiup"))[-1]["code"] == "rate_limited"
        await one.close()
        await two.close()

    crowded = replace(base, max_connections_per_address=2)
    async with serve(crowded) as (url, crowded_channel, client):
        pages = [Page(client, url), Page(client, url)]
        for page in pages:
            await page.open()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(url + "web/ws")
        assert refused.value.status == 429
        await pages[0].close()
        for _ in range(100):  # until the server has seen the close
            if sum(crowded_channel._connections.values()) < 2:
                break
            await asyncio.sleep(0.02)
        again = Page(client, url)
        await again.open()
        await again.close()
        await pages[1].close()


async def test_q2_c7_a_typed_phone_on_the_web_is_unverified_and_joins_no_other_account(
    serve: Serve, chat_engine: Engine, world: ChatWorld
) -> None:
    with UnitOfWork(chat_engine) as uow:
        telegram_person = Person(
            full_name="Nguyễn Văn An", phone_e164="+84912345678", phone_verified=True
        )
        uow.session.add(telegram_person)
        uow.flush()
        assert telegram_person.id is not None
        uow.session.add(
            ChannelAccount(
                person_id=telegram_person.id,
                channel="telegram",
                external_user_id="7000000001",
                chat_id="7000000001",
            )
        )
        uow.commit()
        telegram_id = telegram_person.id
    async with serve() as (url, _channel, client):
        page = Page(client, url)
        await page.open()
        frames = await page.text(f"/start s{world.session_id}")
        frames = await page.press("Đăng ký dự", frames)
        frames = await page.press("Tôi đồng ý", frames)
        asked = await page.text("Nguyễn Văn An")
        assert "số điện thoại cá nhân" in said(asked) and "Chia sẻ" not in said(asked)
        assert all(not f.get("buttons") for f in asked if "số điện thoại" in f.get("text", ""))
        saved = await page.text("0912 345 678")
        assert "Đã ghi số điện thoại: 0912345678" in said(saved)
        assert "chưa được xác minh" in said(saved)
        done = await register_details(page, saved)
        assert "Đăng ký thành công" in said(done)
        await page.close()
    with UnitOfWork(chat_engine) as uow:
        account = uow.session.exec(
            select(ChannelAccount).where(ChannelAccount.channel == "web")
        ).one()
        assert account.person_id != telegram_id
        web_person = uow.session.get(Person, account.person_id)
        assert web_person is not None
        assert web_person.phone_e164 == "+84912345678" and not web_person.phone_verified


async def test_q3_c7_the_verification_picture_has_a_text_alternative_and_a_new_code_button(
    serve: Serve, world: ChatWorld
) -> None:
    async with serve(verify_code_as="image") as (url, _channel, client):
        page = Page(client, url)
        await page.open()
        frames = await page.text("/gopy")
        frames = await page.press("Không gắn với buổi đối thoại", frames)
        frames = await page.press("Kiến nghị", frames)
        frames = await page.press("Giao thông", frames)
        frames = await page.text(
            "Đường Lê Lợi bị ngập sâu mỗi khi mưa lớn, đề nghị phường nạo vét cống thoát nước."
        )
        frames = await register_details(page, frames)
        (picture,) = [f for f in frames if f.get("image")]
        first = re.sub(r"\D", "", picture["alt"].rpartition(":")[2])
        assert len(first) == 5 and "Mã kiểm tra" in picture["alt"]
        renewed = await page.press("Đổi mã khác", frames)
        (again,) = [f for f in renewed if f.get("image")]
        assert "đã được đổi" in again["text"] and again["image"] != picture["image"]
        second = re.sub(r"\D", "", again["alt"].rpartition(":")[2])
        summary = await page.text(second)
        assert "Xin kiểm tra lại trước khi gửi" in said(summary)
        sent = await page.press("Gửi", summary)
        assert re.search(r"KN-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", said(sent))
        await page.close()


async def test_c7_one_process_serves_the_configured_channels_and_delivers_pushes_live(
    chat_engine: Engine, world: ChatWorld, tmp_path: Path
) -> None:
    """bot/app.py: the registry's channels on one application, the outbox sender with the
    channels as transports, and a clean stop."""
    from bot.app import chat_settings, serve
    from bot.channels.registry import configured_channels
    from bot.config import Settings

    settings = replace(
        Settings.from_environ({"DOITHOAI_DATA_DIR": str(tmp_path)}),
        webhook_listen="127.0.0.1:0",
    )
    assert configured_channels(replace(settings, web_chat=False), chat_engine) == []
    channels = configured_channels(settings, chat_engine)
    assert [channel.name for channel in channels] == ["web"]
    assert chat_settings(settings, channels).typed_phone_channels == frozenset({"web"})
    conversations = Conversations(
        chat_engine, ProcedureContext(), chat_settings(settings, channels)
    )
    stop = asyncio.Event()
    ready: asyncio.Queue[str] = asyncio.Queue()
    server = asyncio.create_task(
        serve(settings, conversations, channels, stop, on_ready=lambda r: ready.put_nowait(r.url))
    )
    url = await asyncio.wait_for(ready.get(), 15)
    # PostgreSQL (issue 12): the web chat's replies are stored with the turn.
    postgresql = chat_engine.dialect.name == "postgresql"
    assert ("web" in conversations.reply_writers) is postgresql
    async with aiohttp.ClientSession() as client:
        page = Page(client, url)
        await page.open()
        assert "Đối thoại" in said(await page.text("/start"))
        with UnitOfWork(chat_engine) as uow:
            account = uow.session.exec(
                select(ChannelAccount).where(ChannelAccount.channel == "web")
            ).one()
            enqueue(
                uow,
                person_id=account.person_id,
                kind="test.web_notice",
                data={},
                key="test:web:live",
            )
            uow.commit()
        assert page.socket is not None
        pushed = await page.socket.receive_json(timeout=15)  # the sender runs every second
        assert pushed["type"] == "message" and pushed["seq"] == page.seen + 1
        assert pushed["text"] == "Thông báo khi trang đang đóng"
        stop.set()
        await asyncio.wait_for(server, 30)
        closing = await page.socket.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_x3_c7_erasing_personal_data_deletes_the_stored_web_messages(
    serve: Serve, chat_engine: Engine, world: ChatWorld
) -> None:
    async with serve() as (url, _channel, client):
        page = Page(client, url)
        await page.open()
        frames = await page.text(f"/start s{world.session_id}")
        frames = await register_details(page, await page.press("Đăng ký dự", frames))
        assert "Đăng ký thành công" in said(frames)
        with UnitOfWork(chat_engine) as uow:
            stored = uow.session.exec(select(WebMessage)).all()
            assert any("0912345678" in str(row.frame) for row in stored)
        before = page.seen
        confirm = await page.text("/xoadulieu")
        erased = await page.press("Xóa", confirm)
        assert erased[-1]["type"] == "done"
        await page.close()
        with UnitOfWork(chat_engine) as uow:
            kept = uow.session.exec(select(WebMessage).order_by(WebMessage.seq)).all()
        # What was said before the erasure is emptied (nothing with the phone number is left);
        # the numbering goes on, so the page still gets what follows.
        assert not any("0912345678" in str(row.frame) for row in kept)
        assert all(row.frame == {"type": "erased"} for row in kept if row.seq <= before + 1)
        assert [row.seq for row in kept] == list(range(1, page.seen + 1))
        assert kept[-1].frame["type"] == "message"
        again = Page(client, url)
        again.token, again.seen = page.token, 0
        replayed = await again.open()
        assert [f["type"] for f in replayed][: before + 1] == ["erased"] * (before + 1)
        await again.close()


async def test_c7_a_failed_turn_is_reported_and_the_page_stays_connected(serve: Serve) -> None:
    async with serve() as (url, channel, client):
        working = channel._handle
        page = Page(client, url)
        await page.open()

        async def broken(incoming: Any) -> list[Outgoing]:
            raise RuntimeError("database down")

        await channel.start(broken)
        failed = await page.text("/trogiup")
        assert failed[-1]["code"] == "unavailable" and "khởi động lại" in failed[-1]["text"]
        assert working is not None
        await channel.start(working)
        assert "/tracuu" in said(await page.text("/trogiup"))
        await page.close()


def test_x5_the_web_pages_static_files_hold_no_vietnamese_text() -> None:
    """Every word the page shows comes from the catalogue (texts/vi_web.toml), filled in by the
    server: the static files hold placeholders only."""
    letters = re.compile(
        "[ăâđêôơưàáạảãằắặẳẵầấậẩẫèéẹẻẽềếệểễìíịỉĩòóọỏõồốộổỗờớợởỡùúụủũừứựửữỳýỵỷỹ]", re.IGNORECASE
    )
    static = Path(__file__).resolve().parents[1] / "bot" / "channels" / "web" / "static"
    files = sorted(static.iterdir())
    names = {"chat.css", "chat.js", "icon.svg", "index.html", "widget.js"}
    assert {path.name for path in files} == names
    for path in files:
        assert not letters.search(path.read_text("utf-8")), path.name


async def test_c7_old_web_messages_are_pruned_and_a_page_ahead_of_the_store_starts_again(
    serve: Serve, chat_engine: Engine, tmp_path: Path
) -> None:
    from datetime import timedelta

    from storage import web_store
    from storage.types import utc_now

    async with serve(WebChatOptions(upload_dir=tmp_path, keep_days=30)) as (url, channel, client):
        page = Page(client, url)
        await page.open()
        await page.text("/trogiup")
        await page.close()
        seen = page.seen
        assert seen > 0
        with UnitOfWork(chat_engine) as uow:
            for row in uow.session.exec(select(WebMessage)).all():
                row.created_at = utc_now() - timedelta(days=31)
                uow.session.add(row)
            uow.commit()
        assert await asyncio.to_thread(channel._prune) == seen - 1
        with UnitOfWork(chat_engine) as uow:
            (kept,) = uow.session.exec(select(WebMessage)).all()
            assert kept.seq == seen and kept.frame == {"type": "erased"}
            assert web_store.last_seq(uow, chat_id_for(page.token or "")) == seen
        # The numbering goes on: the page is shown what followed what it saw.
        await channel.send(chat_id_for(page.token or ""), Outgoing(text="Tin mới"))
        replayed = await page.open()
        assert [(f["seq"], f["text"]) for f in replayed] == [(seen + 1, "Tin mới")]
        await page.close()
        # A page ahead of the store (a database restored from a backup) is shown what there is.
        ahead = Page(client, url)
        ahead.token, ahead.seen = page.token, seen + 50
        again = await ahead.open()
        assert [f["seq"] for f in again] == [seen, seen + 1]
        await ahead.close()


def test_c7_x3_web_messages_are_numbered_replayed_pruned_and_erased_on_every_database(
    engine: Engine,
) -> None:
    from datetime import timedelta

    from procedure.use_cases.residents import erase_personal_data
    from storage import web_store
    from storage.types import utc_now

    with UnitOfWork(engine) as uow:
        for n in range(3):
            assert web_store.append(uow, "wA", {"type": "message", "text": f"a{n}"}) == n + 1
        assert web_store.append(uow, "wB", {"type": "message", "text": "b"}) == 1
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert [seq for seq, _ in web_store.since(uow, "wA", 1)] == [2, 3]
        assert web_store.since(uow, "wA", 0, limit=2)[0][0] == 2  # the newest two
        for row in uow.session.exec(select(WebMessage)).all():
            row.created_at = utc_now() - timedelta(days=90)
            uow.session.add(row)
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert web_store.prune(uow, utc_now() - timedelta(days=60)) == 2
        uow.commit()
    with UnitOfWork(engine) as uow:
        rows = uow.session.exec(select(WebMessage)).all()
        kept = sorted((r.chat_id, r.seq, r.frame["type"]) for r in rows)
        assert kept == [("wA", 3, "erased"), ("wB", 1, "erased")]
        assert web_store.append(uow, "wA", {"type": "message", "text": "a3"}) == 4
        person = Person(full_name="Lê Thị Hoa", phone_e164="+84912345678")
        uow.session.add(person)
        uow.flush()
        assert person.id is not None
        uow.session.add(
            ChannelAccount(person_id=person.id, channel="web", external_user_id="wA", chat_id="wA")
        )
        uow.commit()
        person_id = person.id
    with UnitOfWork(engine) as uow:
        erase_personal_data(uow, person_id, ProcedureContext())
        uow.commit()
    with UnitOfWork(engine) as uow:
        frames = {(r.chat_id, r.seq): r.frame for r in uow.session.exec(select(WebMessage))}
        assert frames[("wA", 4)] == {"type": "erased"}
        assert frames[("wB", 1)] == {"type": "erased"}


def test_x3_c8_a_pages_catch_up_read_keeps_the_connections_prepared_statements(
    engine: Engine, tmp_path: Path
) -> None:
    """A web page's catch-up read (at every reply another worker stored for it) ends its
    transaction with a commit, not a ROLLBACK: psycopg forgets every statement it prepared on a
    connection that rolls back, and the read's statements were never prepared, nor were the
    turns' kept."""
    if engine.dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    from storage import web_store

    with UnitOfWork(engine) as uow:
        for n in range(2):
            web_store.append(uow, "wA", {"type": "message", "text": f"a{n}"})
        uow.commit()
    channel = WebChannel(engine, WebChatOptions(upload_dir=tmp_path))
    for _ in range(12):  # psycopg prepares a statement at its sixth execution on a connection
        last, frames = channel._since("wA", 1)
        assert (last, [seq for seq, _ in frames]) == (2, [2])
    # One thread: the pool (LIFO) gives back the connection the reads used.
    with engine.connect() as connection:
        prepared = connection.exec_driver_sql(
            "SELECT statement FROM pg_prepared_statements"
        ).scalars()
        assert any("web_message" in statement for statement in prepared)
