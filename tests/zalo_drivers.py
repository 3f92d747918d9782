"""The contract suite's drivers for the Zalo channels: the real Zalo OA and Zalo Bot adapters
in an aiohttp application on 127.0.0.1, against the fake Zalo servers (tests/fake_zalo).

On PostgreSQL the replies go through the outbox, as ``doithoai run`` sends them there (issue 12,
X4): the conversation queues them in the turn's transaction and an outbox sender sends them
through the channel (:class:`RepliesThroughOutbox`); a turn is over once its replies are sent.

What a resident sees is read back from what the fake server received: plain text (shown here
HTML-escaped, the form ``Reply.html`` holds), template buttons, and numbered lines
(``[3] Gửi``) as buttons whose data is the number to type.
"""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.files import PublicFiles
from handlers.channel import Incoming, Outgoing
from handlers.conversations import Conversations
from storage import channel_store
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import Reply
from tests.fake_zalo import FakeZaloBot, FakeZaloOA
from texts import t

TIMEOUT = 15
NUMBERED = re.compile(r"^\s*\[(\d+)\] (.+)$", re.MULTILINE)
PHOTO_URL = "https://photo-stal.zadn.vn/anh-ngap.jpg"
FILE_LINK = re.compile(r"https?://[^\s]+/tep/[^\s]+")
FILE_NAME = re.compile(r'filename="([^"]+)"')


async def linked_file(text: str) -> tuple[str, bytes] | None:
    """The file a message links to (bot/files.py), downloaded as a resident's phone would:
    its name from Content-Disposition, its bytes."""
    match = FILE_LINK.search(text)
    if match is None:
        return None
    async with aiohttp.ClientSession() as session, session.get(match.group(0)) as response:
        assert response.status == 200, f"file link answered {response.status}"
        name = FILE_NAME.search(response.headers.get("Content-Disposition", ""))
        assert name is not None
        return name.group(1), await response.read()


class FileLinks:
    """The deployment's file links (PUBLIC_URL/tep/…) served on 127.0.0.1 for a driver."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="zalo-files-"))
        self.files = PublicFiles(self.folder, b"test-secret", None)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner, base = await serve(list(self.files.routes()))
        self.files.public_url = base

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)


def numbered_buttons(text: str) -> list[tuple[str, str]]:
    return [(label, number) for number, label in NUMBERED.findall(text)]


async def serve(routes: list[web.AbstractRouteDef]) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


class RepliesThroughOutbox:
    """On PostgreSQL: the channel's replies queued by the conversation and sent by an outbox
    sender with the channel as its transport (bot/app.py's wiring); on SQLite, nothing."""

    def __init__(self, conversations: Conversations, channel: Any) -> None:
        self.engine = conversations.engine
        self.channel_name = str(channel.name)
        self.on = self.engine.dialect.name == "postgresql"
        self.sender: Any = None
        if self.on:
            from bot.outbox_sender import OutboxSender
            from bot.rate_limit import RateLimiter

            conversations.queue_replies_for = frozenset({self.channel_name})
            channel.queues_replies = True
            self.sender = OutboxSender(
                self.engine,
                {self.channel_name: channel},
                limiters={self.channel_name: RateLimiter(1000, 1000)},
                elect=False,
            )

    def handle(self, conversations: Conversations) -> Callable[[Incoming], Any]:
        async def handle(incoming: Incoming) -> list[Outgoing]:
            return await asyncio.to_thread(conversations.handle, incoming)

        return handle

    async def sent(self, chat_id: str) -> None:
        """Send the queued replies (only them: the other outbox rows wait for the sender of the
        test that wants them) until none to ``chat_id`` waits."""
        if not self.on:
            return
        from sqlmodel import col, func, select

        from storage.tables import OutboxMessage

        def waiting() -> int:
            with UnitOfWork(self.engine) as uow:
                return int(
                    uow.session.exec(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.channel == self.channel_name)
                        .where(OutboxMessage.chat_id == chat_id)
                        .where(col(OutboxMessage.urgent))
                        .where(col(OutboxMessage.sent_at).is_(None))
                        .where(col(OutboxMessage.failed_at).is_(None))
                    ).one()
                )

        for _ in range(TIMEOUT * 50):
            await self.sender.drain_once(urgent_only=True)
            if not await asyncio.to_thread(waiting):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"replies to {chat_id} still wait in the outbox")


class _Waits:
    """Events the inbox finished, by event id."""

    def __init__(self) -> None:
        self._done: dict[str, asyncio.Event] = {}

    async def on_done(self, event_id: str) -> None:
        self._done.setdefault(event_id, asyncio.Event()).set()

    async def wait(self, event_id: str) -> None:
        await asyncio.wait_for(self._done.setdefault(event_id, asyncio.Event()).wait(), TIMEOUT)
        self._done.pop(event_id, None)


class ZaloOADriver:
    name = "zalo_oa"
    # Pictures and PDF/Word files are uploaded; other files (the .ics) go as download links.
    sends_documents = True

    def __init__(self, fake: FakeZaloOA, make: Callable[[], Conversations]) -> None:
        self.fake = fake
        self._make = make
        self._waits = _Waits()
        self._last: dict[int, dict[str, Any]] = {}
        self.channel: Any = None
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.links = FileLinks()

    @classmethod
    async def start(cls, make: Callable[[], Conversations]) -> ZaloOADriver:
        fake = FakeZaloOA()
        await fake.start()
        driver = cls(fake, make)
        await driver.links.start()
        await driver._start_channel()
        return driver

    async def _start_channel(self) -> None:
        from bot.channels.zalo_oa import ZaloOAChannel

        conversations = self._make()
        engine = conversations.engine
        with UnitOfWork(engine) as uow:
            if channel_store.load_tokens(uow, self.fake.app_id) is None:
                access, refresh, seconds = self.fake.issue_tokens()
                from datetime import timedelta

                expires = utc_now() + timedelta(seconds=seconds)
                channel_store.save_tokens(
                    uow, self.fake.app_id, access, refresh, expires, utc_now()
                )
        self.channel = ZaloOAChannel(
            engine,
            app_id=self.fake.app_id,
            app_secret=self.fake.app_secret,
            oa_secret_key=self.fake.oa_secret_key,
            api_url=self.fake.base_url,
            oauth_url=self.fake.base_url,
            on_done=self._waits.on_done,
            files=self.links.files,
        )
        self._runner, base = await serve(list(self.channel.routes()))
        self.url = base + self.channel.webhook_path
        self.outbox = RepliesThroughOutbox(conversations, self.channel)
        await self.channel.start(self.outbox.handle(conversations))

    async def _stop_channel(self) -> None:
        if self.channel is not None:
            await self.channel.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _replies(self, user: str, before: int) -> list[Reply]:
        replies = []
        for sent in self.fake.sent_to(user)[before:]:
            buttons = [(b["title"], b["payload"]) for b in sent.buttons]
            buttons += numbered_buttons(sent.text)
            replies.append(
                Reply(
                    html=html.escape(sent.text, quote=False),
                    buttons=buttons,
                    ask_contact=sent.asks_user_info,
                    image=sent.image is not None,
                    document=sent.file or await linked_file(sent.text),
                )
            )
        return replies

    async def _exchange(self, user: int, event: dict[str, Any]) -> list[Reply]:
        self._last[user] = event
        before = len(self.fake.sent_to(str(user)))
        status = await self.fake.post_event(self.url, event)
        assert status == 200
        from bot.channels.zalo_oa.events import event_id

        await self._waits.wait(event_id(event))
        await self.outbox.sent(str(user))
        return await self._replies(str(user), before)

    async def text(self, user: int, text: str) -> list[Reply]:
        return await self._exchange(user, self.fake.text_event(str(user), text))

    async def command(self, user: int, name: str, payload: str = "") -> list[Reply]:
        if name == "start" and not payload:
            return await self._exchange(user, self.fake.follow_event(str(user)))
        return await self.text(user, f"/{name} {payload}".strip())

    async def press(self, user: int, label: str) -> list[Reply]:
        """Tap a template button (its payload comes back as text) or type a button's number."""
        replies = await self._replies(str(user), 0)
        for reply in reversed(replies):
            for title, payload in reversed(reply.buttons):
                if label in title:
                    return await self.text(user, payload)
        raise AssertionError(f"no button {label!r} sent to {user}")

    async def contact(self, user: int, phone: str, owner: int) -> list[Reply]:
        if owner != user:
            pytest.skip("Zalo's user_submit_info only ever carries the sender's own phone")
        return await self._exchange(user, self.fake.submit_info_event(str(user), phone))

    async def photo(self, user: int, caption: str | None = None) -> list[Reply]:
        return await self._exchange(
            user, self.fake.image_event(str(user), PHOTO_URL, caption or "")
        )

    async def location(self, user: int, latitude: float, longitude: float) -> list[Reply]:
        """The resident shares a location from Zalo's attach menu (user_send_location)."""
        return await self._exchange(
            user, self.fake.location_event(str(user), latitude, longitude)
        )

    async def replay_last(self, user: int) -> list[Reply]:
        """Zalo redelivers the same event (same msg_id): acknowledged, handled once."""
        before = len(self.fake.sent_to(str(user)))
        assert await self.fake.post_event(self.url, self._last[user]) == 200
        await self.channel.inbox.drain_once()
        await asyncio.sleep(0.2)
        return await self._replies(str(user), before)

    async def restart(self) -> None:
        await self._stop_channel()
        await self._start_channel()

    async def close(self) -> None:
        await self._stop_channel()
        await self.fake.stop()
        await self.links.close()


class ZaloBotDriver:
    name = "zalo_bot"
    shares_phone = False  # capabilities.share_phone: a phone is typed, never shared
    # Files go as download links and pictures by sendPhoto with a link (bot/files.py).
    sends_documents = True

    def __init__(self, fake: FakeZaloBot, make: Callable[[], Conversations]) -> None:
        self.fake = fake
        self._make = make
        self._waits = _Waits()
        self._last: dict[int, dict[str, Any]] = {}
        self.channel: Any = None
        self.links = FileLinks()

    @classmethod
    async def start(cls, make: Callable[[], Conversations]) -> ZaloBotDriver:
        fake = FakeZaloBot()
        await fake.start()
        driver = cls(fake, make)
        await driver.links.start()
        await driver._start_channel()
        return driver

    async def _start_channel(self) -> None:
        from bot.channels.zalo_bot import ZaloBotChannel

        conversations = self._make()
        self.channel = ZaloBotChannel(
            conversations.engine,
            token=self.fake.token,
            api_url=self.fake.base_url,
            poll_timeout=5,
            on_done=self._waits.on_done,
            files=self.links.files,
        )
        self.outbox = RepliesThroughOutbox(conversations, self.channel)
        await self.channel.start(self.outbox.handle(conversations))

    async def _replies(self, user: str, before: int) -> list[Reply]:
        hint = t("zalo.bot.type_phone")
        return [
            Reply(
                html=html.escape(sent.text, quote=False),
                buttons=numbered_buttons(sent.text),
                ask_contact=hint in sent.text,
                image=sent.photo is not None,
                document=await linked_file(sent.text),
            )
            for sent in self.fake.sent_to(user)[before:]
        ]

    async def _exchange(self, user: int, event: dict[str, Any]) -> list[Reply]:
        from bot.channels.zalo_bot.channel import event_id

        self._last[user] = event
        before = len(self.fake.sent_to(str(user)))
        await self.fake.deliver(event)
        await self._waits.wait(event_id(event))
        await self.outbox.sent(str(user))
        return await self._replies(str(user), before)

    async def text(self, user: int, text: str) -> list[Reply]:
        return await self._exchange(user, self.fake.text_event(str(user), text))

    async def command(self, user: int, name: str, payload: str = "") -> list[Reply]:
        return await self.text(user, f"/{name} {payload}".strip())

    async def press(self, user: int, label: str) -> list[Reply]:
        """Type the number of the button (the platform has no buttons)."""
        for reply in reversed(await self._replies(str(user), 0)):
            for title, number in reversed(reply.buttons):
                if label in title:
                    return await self.text(user, number)
        raise AssertionError(f"no button {label!r} sent to {user}")

    async def contact(self, user: int, phone: str, owner: int) -> list[Reply]:
        pytest.skip("the Zalo Bot platform cannot share a verified phone number")

    async def photo(self, user: int, caption: str | None = None) -> list[Reply]:
        return await self._exchange(user, self.fake.image_event(str(user), PHOTO_URL, caption))

    async def replay_last(self, user: int) -> list[Reply]:
        before = len(self.fake.sent_to(str(user)))
        await self.fake.deliver(self._last[user])
        await asyncio.sleep(0.3)
        await self.channel.inbox.drain_once()
        return await self._replies(str(user), before)

    async def restart(self) -> None:
        await self.channel.stop()
        await self._start_channel()

    async def close(self) -> None:
        await self.channel.stop()
        await self.fake.stop()
        await self.links.close()
