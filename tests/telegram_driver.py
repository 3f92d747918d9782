"""The contract suite's driver for Telegram: the real aiogram or python-telegram-bot adapter,
polling the fake Bot API server on 127.0.0.1 (tests/fake_telegram)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

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
        self, framework: str, fake: FakeTelegram, make: Callable[[], Conversations]
    ) -> None:
        self.name = framework
        self.fake = fake
        self._make = make
        self._users: dict[int, Any] = {}
        self._done: dict[str, asyncio.Event] = {}
        self._last_update: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.channel: Any = None

    @classmethod
    async def start(cls, framework: str, make: Callable[[], Conversations]) -> TelegramDriver:
        fake = FakeTelegram()
        await fake.start()
        driver = cls(framework, fake, make)
        await driver._start_channel()
        return driver

    async def _on_done(self, update_id: str) -> None:
        self._done.setdefault(update_id, asyncio.Event()).set()

    async def _start_channel(self) -> None:
        handle = handler_for(self._make())
        if self.name == "aiogram":
            from bot.telegram.aiogram_channel import AiogramChannel, make_bot

            self.channel = AiogramChannel(
                make_bot(self.fake.token, self.fake.base_url), handle, on_done=self._on_done
            )
        else:
            from bot.telegram.ptb_channel import PtbChannel, make_application

            self.channel = PtbChannel(
                make_application(self.fake.token, self.fake.base_url), handle, on_done=self._on_done
            )
        # Both adapters delete any webhook before they poll; updates sent from then on wait in
        # the fake's queue until the long poll picks them up.
        calls = len(self.fake.calls("deleteWebhook"))
        self._task = asyncio.create_task(self.channel.run_polling())
        await self.fake.wait_for_calls("deleteWebhook", count=calls + 1, timeout=TIMEOUT)

    async def _stop_channel(self) -> None:
        if self._task is None:
            return
        if self.name == "aiogram":
            await self.channel.dispatcher.stop_polling()
        else:
            await self.channel.stop()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self.name == "aiogram":
            await self.channel.bot.session.close()
        self._task = None

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

    async def contact(self, user: int, phone: str, owner: int) -> list[Reply]:
        update = self.fake.send_contact(self._user(user), phone, contact_user_id=owner)
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
