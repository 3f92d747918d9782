"""The contract suite's driver for Telegram: the real aiogram or python-telegram-bot adapter,
polling the fake Bot API server on 127.0.0.1 (tests/fake_telegram)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.channels.telegram.menu import ChatMenus
from bot.rate_limit import RateLimiter
from bot.runner import handler_for
from handlers.conversations import Conversations
from tests.chat_drivers import Reply
from tests.fake_telegram import FakeTelegram

TIMEOUT = 15


def reply_of(sent: Any) -> Reply:
    buttons = [(b["text"], b.get("callback_data", "")) for b in sent.inline_buttons]
    return Reply(
        html=sent.raw_text or "",
        buttons=buttons,
        image=sent.method.lower() == "sendphoto",
        ask_contact=sent.requests_contact,
        document=(sent.file.file_name or "", sent.file.data)
        if sent.method.lower() == "senddocument" and sent.file is not None
        else None,
    )


class TelegramDriver:
    def __init__(
        self,
        framework: str,
        fake: FakeTelegram,
        make: Callable[[], Conversations],
        menus: ChatMenus | None = None,
    ) -> None:
        self.name = framework
        self._menus = menus
        self.fake = fake
        self._make = make
        self._users: dict[int, Any] = {}
        self._done: dict[str, asyncio.Event] = {}
        self._last_update: dict[int, int] = {}
        self._started = False
        self.channel: Any = None  # AiogramChannel or PtbChannel

    @classmethod
    async def start(
        cls,
        framework: str,
        make: Callable[[], Conversations],
        menus: ChatMenus | None = None,
    ) -> TelegramDriver:
        fake = FakeTelegram()
        await fake.start()
        driver = cls(framework, fake, make, menus)
        await driver._start_channel()
        return driver

    async def _on_done(self, update_id: str) -> None:
        self._done.setdefault(update_id, asyncio.Event()).set()

    async def _start_channel(self) -> None:
        # The fake has no flood control unless a test turns it on: pace replies fast here.
        limiter = RateLimiter(global_per_second=1000, per_chat_per_second=1000)
        if self.name == "aiogram":
            from bot.channels.telegram.aiogram_shim import AiogramChannel, make_bot

            self.channel = AiogramChannel(
                make_bot(self.fake.token, self.fake.base_url),
                limiter=limiter,
                on_done=self._on_done,
                menus=self._menus,
            )
        else:
            from bot.channels.telegram.ptb_shim import PtbChannel, make_application

            self.channel = PtbChannel(
                make_application(self.fake.token, self.fake.base_url),
                limiter=limiter,
                on_done=self._on_done,
                menus=self._menus,
            )
        # Both channels delete any webhook before they poll; updates sent from then on wait in
        # the fake's queue until the long poll picks them up.
        await self.channel.start(handler_for(self._make()))
        self._started = True

    async def _stop_channel(self) -> None:
        if not self._started:
            return
        await self.channel.stop()
        self._started = False

    def _user(self, user: int) -> Any:
        if user not in self._users:
            self._users[user] = self.fake.user(user, f"Người {len(self._users) + 1}")
        return self._users[user]

    async def _exchange(self, user: int, update: dict[str, Any]) -> list[Reply]:
        update_id = update["update_id"]
        self._last_update[user] = update_id
        return await self._await_replies(user, str(update_id))

    async def _await_replies(self, user: int, update_id: str) -> list[Reply]:
        before = len(self.fake.sent_messages(user))
        event = self._done.setdefault(update_id, asyncio.Event())
        await asyncio.wait_for(event.wait(), TIMEOUT)
        self._done.pop(update_id, None)
        return [reply_of(sent) for sent in self.fake.sent_messages(user)[before:]]

    async def text(self, user: int, text: str) -> list[Reply]:
        return await self._exchange(user, self.fake.send_text(self._user(user), text))

    async def command(self, user: int, name: str, payload: str = "") -> list[Reply]:
        return await self._exchange(
            user, self.fake.send_command(self._user(user), name, payload or None)
        )

    async def press(self, user: int, label: str) -> list[Reply]:
        for sent in reversed(self.fake.sent_messages(user)):
            for button in sent.inline_buttons:
                if label in button["text"]:
                    update = self.fake.press_button(self._user(user), sent, button["callback_data"])
                    return await self._exchange(user, update)
        raise AssertionError(f"no button {label!r} sent to {user}")

    async def forge(self, user: int, data: str) -> list[Reply]:
        """A press of a button with any data, under the last message the bot sent the user."""
        sent = self.fake.sent_messages(user)
        if not sent:
            await self.command(user, "start")
            sent = self.fake.sent_messages(user)
        update = self.fake.press_button(self._user(user), sent[-1], data, check=False)
        return await self._exchange(user, update)

    async def contact(self, user: int, phone: str, owner: int) -> list[Reply]:
        update = self.fake.send_contact(self._user(user), phone, contact_user_id=owner)
        return await self._exchange(user, update)

    async def location(self, user: int, latitude: float, longitude: float) -> list[Reply]:
        """The resident shares a location (the attach menu or a request_location button)."""
        update = self.fake.send_location(self._user(user), latitude, longitude)
        return await self._exchange(user, update)

    async def photo(self, user: int, caption: str | None = None) -> list[Reply]:
        from handlers.verification import render_png

        update = self.fake.send_photo(self._user(user), render_png("23456"), caption)
        return await self._exchange(user, update)

    async def replay_last(self, user: int) -> list[Reply]:
        update_id = self._last_update[user]
        self.fake.replay(update_id)
        return await self._await_replies(user, str(update_id))

    async def restart(self) -> None:
        await self._stop_channel()
        await self._start_channel()

    async def close(self) -> None:
        await self._stop_channel()
        await self.fake.stop()
