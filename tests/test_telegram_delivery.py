"""X4: direct replies through the Telegram channel reach each chat exactly once, piece by piece
and in order, under 429 storms and past Telegram's 30 messages a second, through aiogram and
python-telegram-bot against the fake Bot API server (tests/fake_telegram).

The conversation here is a stand-in that answers each message with numbered replies (some long
enough for three pieces), so that what each chat must receive is known exactly; the real
conversations through the same channels are the contract suite's (tests/test_chat_contract.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.channels.base import Channel
from bot.channels.telegram import from_settings
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.text import telegram_pieces
from bot.config import Settings
from bot.metrics import rate_limited_count
from bot.rate_limit import RateLimiter
from handlers.channel import Button, Incoming, Outgoing
from tests.fake_telegram import FakeTelegram, TelegramError

FRAMEWORKS = ["aiogram", "ptb"]
SENDS = ("sendmessage", "sendphoto", "senddocument")
FIRST_CHAT = 7_000_001


class StormFake(FakeTelegram):
    """The fake, answering a share of the sends with 429 and a retry_after drawn from a list."""

    def __init__(self, share: float, retry_afters: list[int], seed: int = 12) -> None:
        super().__init__()
        self.share = share
        self.retry_afters = list(retry_afters)
        self.served: list[int] = []  # the retry_after of each 429, in the order answered
        self._random = random.Random(seed)

    def _take_failure(self, method: str, params: dict[str, Any]) -> TelegramError | None:
        scheduled = super()._take_failure(method, params)
        if scheduled is not None or method not in SENDS or self._random.random() >= self.share:
            return scheduled
        seconds = self.retry_afters.pop(0) if len(self.retry_afters) > 1 else self.retry_afters[0]
        self.served.append(seconds)
        return TelegramError(
            429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
        )


class QuickPauses(RateLimiter):
    """Telegram's pacing (30/s, 1/s a chat), with each 429's pause a tenth of what it asked:
    every refusal still pauses every send (``pause`` is called with the retry_after Telegram
    gave, noted in ``asked``), and a storm of them takes seconds instead of half a minute. That
    a pause really holds the sends for the whole retry_after is checked at full length in
    tests/test_telegram_adapters.py and tests/test_outbox_sender.py."""

    SCALE = 0.1

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[float] = []

    def pause(self, seconds: float) -> None:
        self.asked.append(seconds)
        super().pause(seconds * self.SCALE)


def long_reply(chat: str, turn: str) -> Outgoing:
    """About 10,000 characters, in three pieces of at most 4,096; buttons on the last."""
    text = "\n".join(f"{chat} {turn} dòng {n:03d}: " + "ý kiến cử tri " * 3 for n in range(150))
    reply = Outgoing(text=text, buttons=((Button("Xem", f"view:{turn}"),),))
    assert len(telegram_pieces(reply)) == 3
    return reply


def answers(incoming: Incoming, long_every: int, shorts: int) -> list[Outgoing]:
    """What the stand-in conversation replies to ``incoming``: ``shorts`` short replies; in every
    ``long_every``-th chat a long one after the first (instead of it, for one short reply)."""
    chat, turn = incoming.chat_id, incoming.text or ""
    replies = [Outgoing(text=f"{chat} {turn} trả lời {n}") for n in range(1, shorts + 1)]
    if long_every and int(chat) % long_every == 0:
        replies[1:1] = [long_reply(chat, turn)]
        if shorts == 1:
            replies = replies[1:]
    return replies


def expected_texts(chat: int, turns: list[str], long_every: int, shorts: int) -> list[str]:
    texts: list[str] = []
    for turn in turns:
        incoming = Incoming(channel="telegram", user_id=str(chat), chat_id=str(chat), text=turn)
        for reply in answers(incoming, long_every, shorts):
            texts.extend(piece.text for piece in telegram_pieces(reply))
    return texts


class Chats:
    """Residents who each send ``turns`` messages at once, and the channel that answers them."""

    def __init__(
        self, fake: FakeTelegram, residents: int, turns: int, long_every: int, shorts: int
    ) -> None:
        self.fake = fake
        self.shorts = shorts
        self.chats = [FIRST_CHAT + n for n in range(residents)]
        self.turns = [f"tin {k}" for k in range(turns)]
        self.long_every = long_every
        self.done: list[str] = []
        self._random = random.Random(9)

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        # Turns take a little while, differently, as a database step would.
        await asyncio.sleep(self._random.uniform(0, 0.02))
        return answers(incoming, self.long_every, self.shorts)

    async def on_done(self, update_id: str) -> None:
        self.done.append(update_id)

    def channel(self, framework: str, limiter: RateLimiter) -> TelegramChannel:
        settings = Settings(
            data_dir=Path("."),
            database_url="sqlite://",
            telegram_bot_token=self.fake.token,
            telegram_api_url=self.fake.base_url,
            telegram_framework=framework,
        )
        channel = from_settings(settings, limiter=limiter, on_done=self.on_done)
        assert channel is not None
        return channel

    async def run(self, channel: Channel, timeout: float) -> float:
        """Every resident writes every turn at once; returns the seconds until all answered."""
        await channel.start(self.handle)
        try:
            started = time.monotonic()
            for turn in self.turns:
                for chat in self.chats:
                    self.fake.send_text(self.fake.user(chat, f"Cư dân {chat}"), turn)
            total = len(self.chats) * len(self.turns)
            await self.fake.wait_for(lambda: len(self.done) >= total, timeout=timeout)
            return time.monotonic() - started
        finally:
            await channel.stop()

    def check_exactly_once_in_order(self) -> int:
        """Every chat got every piece of every reply once, in order; returns the pieces."""
        pieces = 0
        for chat in self.chats:
            got = [message.raw_text for message in self.fake.sent_messages(chat)]
            want = expected_texts(chat, self.turns, self.long_every, self.shorts)
            repeated = [text for text, n in Counter(got).items() if n > 1]
            assert not repeated, f"chat {chat}: {len(repeated)} pieces sent twice"
            assert got == want, f"chat {chat}: {len(got)} pieces of {len(want)}, or out of order"
            pieces += len(want)
        return pieces


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_x4_a_429_storm_delivers_every_reply_and_piece_exactly_once(framework):
    """30 residents write at once; 30 % of sends are answered 429 (retry_after 3 s, 2 s, then
    1 s: every 429 pauses every send, for a tenth of it here, QuickPauses): every reply and every
    piece of the long ones (three replies of three pieces) arrives once, in order, with
    Telegram's pacing."""
    async with StormFake(share=0.3, retry_afters=[3, 2, 1]) as fake:
        chats = Chats(fake, residents=30, turns=1, long_every=10, shorts=1)
        limiter = QuickPauses()
        channel = chats.channel(framework, limiter)
        counted = rate_limited_count("telegram")
        seconds = await chats.run(channel, timeout=60)
        pieces = chats.check_exactly_once_in_order()
        refused = fake.too_many_requests_sent
        attempts = len([c for c in fake.requests if c.method.lower() in SENDS])
        print(f"{framework}: {pieces} pieces, {attempts} sends, {refused} refused, {seconds:.1f} s")
        assert pieces == 27 + 3 * 3
        assert attempts == pieces + refused
        assert 0.2 <= refused / attempts <= 0.4  # the storm happened, about 30 % of sends
        assert channel.replies.rate_limited == refused
        assert rate_limited_count("telegram") == counted + refused  # /metrics
        assert channel.replies.dropped == 0
        # Each 429 paused every send for the retry_after it carried.
        assert Counter(limiter.asked) == Counter(fake.served)
        assert set(fake.served) == {3, 2, 1}


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_x4_twenty_chats_past_30_messages_a_second_none_lost_none_doubled(framework):
    """20 residents send three messages each at once (120 replies wanted at once), with
    Telegram's flood control on (30/s, 1/s in a chat) and no injected 429."""
    async with FakeTelegram() as fake:
        fake.rate_limit()
        chats = Chats(fake, residents=20, turns=3, long_every=0, shorts=2)
        channel = chats.channel(framework, RateLimiter())
        seconds = await chats.run(channel, timeout=60)
        pieces = chats.check_exactly_once_in_order()
        sends = [c for c in fake.requests if c.method.lower() in SENDS]
        print(
            f"{framework}: {pieces} replies in {seconds:.1f} s, "
            f"{fake.too_many_requests_sent} answered 429 by flood control"
        )
        assert pieces == 20 * 3 * 2
        assert len(sends) == pieces + fake.too_many_requests_sent
        # Paced under the budget: flood control (almost) never has to refuse; event-loop jitter
        # under a loaded machine may squeeze 30 sends into one second now and then.
        assert fake.too_many_requests_sent <= len(sends) // 20
        # Each chat one message a second: six replies take five seconds at least; the chats
        # are answered at once, not one after the other (60 turns of a second or more).
        assert 5 <= seconds < 30


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_x4_a_transient_failure_retries_only_the_failed_piece(framework):
    """A piece answered 502 twice is sent again after a backoff; the pieces before it are not."""
    async with FakeTelegram() as fake:
        chats = Chats(fake, residents=1, turns=1, long_every=1, shorts=2)
        channel = chats.channel(framework, RateLimiter(1000, 1000))
        # The first reply goes out, then the long one's first piece fails twice.
        original = fake._take_failure
        sends = 0

        def fail_second_and_third(method: str, params: dict[str, Any]) -> TelegramError | None:
            nonlocal sends
            if method in SENDS:
                sends += 1
                if sends in (2, 3):
                    return TelegramError(502, "Bad Gateway")
            return original(method, params)

        fake._take_failure = fail_second_and_third  # type: ignore[method-assign]
        await chats.run(channel, timeout=30)
        assert chats.check_exactly_once_in_order() == 5
        assert [c.status for c in fake.requests if c.method.lower() in SENDS] == [
            200,
            502,
            502,
            200,
            200,
            200,
            200,
        ]
        assert channel.replies.retried == 2


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_c7_doithoai_run_polls_through_the_telegram_channel(framework, chat_engine, tmp_path):
    """``run_telegram`` (``doithoai run`` with a token and no webhook): the channel chosen by
    TELEGRAM_FRAMEWORK polls, the conversation answers, stopping ends the polling."""
    from bot.runner import run_telegram
    from handlers.conversations import Conversations
    from handlers.turn import ChatSettings
    from procedure.use_cases.context import ProcedureContext
    from tests.chat_world import seed_chat_world
    from tests.procedure_world import Clock

    clock = Clock()
    clock.set("2026-03-02")
    seed_chat_world(chat_engine, clock)
    async with FakeTelegram() as fake:
        settings = Settings(
            data_dir=tmp_path,
            database_url=str(chat_engine.url),
            telegram_bot_token=fake.token,
            telegram_api_url=fake.base_url,
            telegram_framework=framework,
        )
        conversations = Conversations(
            chat_engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )
        task = asyncio.create_task(run_telegram(settings, conversations))
        try:
            await fake.wait_for_calls("deleteWebhook", timeout=15)
            fake.send_command(fake.user(FIRST_CHAT, "Lan"), "trogiup")
            (reply,) = await fake.wait_for_messages(FIRST_CHAT, 1, timeout=15)
            assert "/tracuu" in (reply.text or "")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        polls = len(fake.calls("getUpdates"))
        await asyncio.sleep(0.3)
        assert len(fake.calls("getUpdates")) == polls  # no polling left behind


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_x4_webhook_replies_under_429s_are_sent_once_and_updates_not_redelivered(
    framework,
):
    """Through the webhook route: the update is answered once the conversation has answered,
    the replies follow through the storm, each piece once; Telegram never redelivers."""
    from aiohttp import web

    from tests.test_telegram_adapters import free_port

    port = free_port()
    async with StormFake(share=0.3, retry_afters=[1]) as fake:
        chats = Chats(fake, residents=10, turns=1, long_every=5, shorts=1)
        limiter = QuickPauses()
        settings = Settings(
            data_dir=Path("."),
            database_url="sqlite://",
            telegram_bot_token=fake.token,
            telegram_api_url=fake.base_url,
            telegram_framework=framework,
            webhook_url=f"http://127.0.0.1:{port}",
        )
        channel = from_settings(settings, limiter=limiter, on_done=chats.on_done)
        assert channel is not None
        app = web.Application()
        app.add_routes(channel.routes())
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await channel.start(chats.handle)
        try:
            assert fake.webhook is not None and fake.webhook.secret_token
            for chat in chats.chats:
                fake.send_text(fake.user(chat, f"Cư dân {chat}"), chats.turns[0])
            await fake.wait_for(lambda: len(chats.done) >= len(chats.chats), timeout=60)
        finally:
            await channel.stop()
            await runner.cleanup()
        assert chats.check_exactly_once_in_order() == 8 + 2 * 3
        assert fake.too_many_requests_sent > 0
        assert Counter(limiter.asked) == Counter(fake.served)
        assert set(fake.delivery_counts.values()) == {1}
        assert all(attempt.get("status") == 200 for attempt in fake.webhook_attempts)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_x4_a_blocked_chat_loses_its_replies_and_holds_no_one_up(framework):
    """403 (the resident blocked the bot) cannot succeed: that chat's replies are dropped after
    one try, the update is done, and the other chats get theirs."""
    async with FakeTelegram() as fake:
        chats = Chats(fake, residents=3, turns=2, long_every=0, shorts=2)
        blocked = chats.chats[1]
        fake.block(fake.user(blocked, "Cư dân"))
        channel = chats.channel(framework, RateLimiter(1000, 1000))
        await chats.run(channel, timeout=30)
        assert len(chats.done) == 6
        for chat in (chats.chats[0], chats.chats[2]):
            texts = [message.raw_text for message in fake.sent_messages(chat)]
            assert texts == expected_texts(chat, chats.turns, 0, 2)
        refused = [c for c in fake.requests if c.params.get("chat_id") in (blocked, str(blocked))]
        assert [c.status for c in refused] == [403, 403]  # one try per turn, no retries
        assert channel.replies.dropped == 4


async def test_x4_a_reply_goes_before_a_queued_broadcast():
    """The limiter's urgent sends (replies) pass the non-urgent ones already waiting (an
    invitation broadcast's), and still keep to the global pace."""
    limiter = RateLimiter(global_per_second=20, per_chat_per_second=1)
    order: list[str] = []
    started: list[float] = []

    async def send(chat: str, urgent: bool) -> None:
        async with limiter.slot(chat, urgent=urgent):
            order.append(chat)
            started.append(time.monotonic())

    broadcast = [asyncio.create_task(send(f"b{n}", False)) for n in range(30)]
    await asyncio.sleep(0.12)  # the broadcast is under way: two or three sent
    sent_before = len(order)
    await send("reply", True)
    await asyncio.gather(*broadcast)
    assert order.index("reply") <= sent_before + 1
    gaps = [later - earlier for earlier, later in itertools.pairwise(started)]
    assert min(gaps) >= 1 / 20 * 0.96 - 0.003
