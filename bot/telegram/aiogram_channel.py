"""Telegram through aiogram 3: long polling or a webhook, over the channel-neutral handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot.telegram.menu import menu_commands
from bot.telegram.text import as_plain, telegram_pieces
from bot.telegram.updates import incoming_from_update
from handlers.channel import Incoming, Outgoing

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
Handle = Callable[[Incoming], Awaitable[list[Outgoing]]]
# Called once an update is fully handled and answered (metrics, tests).
Done = Callable[[str], Awaitable[None]]
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def make_bot(token: str, api_url: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


def markup(message: Outgoing) -> Markup:
    if message.buttons:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=b.label, callback_data=b.data) for b in row]
                for row in message.buttons
            ]
        )
    if message.ask_contact:
        return ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text=message.ask_contact, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if message.remove_keyboard:
        return ReplyKeyboardRemove()
    return None


async def deliver(
    bot: Bot, chat_id: str, message: Outgoing, *, retry_rate_limit: bool = True
) -> None:
    """Send one reply: text split at Telegram's limits, pictures and files as uploads; a text
    Telegram cannot parse is sent again without markup; a 429 waits ``retry_after`` once, unless
    ``retry_rate_limit`` is false (the outbox sender paces and waits itself)."""
    for attempt in range(2):
        try:
            await _send(bot, chat_id, message)
            return
        except TelegramRetryAfter as limit:
            if attempt or not retry_rate_limit:
                raise
            await asyncio.sleep(limit.retry_after)
        except TelegramBadRequest as bad:
            if "can't parse entities" not in bad.message or attempt:
                raise
            log.warning("resending without markup after: %s", bad.message)
            message = replace(message, text=as_plain(message.text))
            return await _send(bot, chat_id, message, parse_mode=None)


async def _send(bot: Bot, chat_id: str, message: Outgoing, parse_mode: Any = "HTML") -> None:
    for piece in telegram_pieces(message):
        reply_markup = markup(piece)
        if piece.image is not None:
            await bot.send_photo(
                chat_id,
                BufferedInputFile(piece.image, "anh.png"),
                caption=piece.text or None,
                reply_markup=reply_markup,
                parse_mode=parse_mode,
            )
        elif piece.document is not None:
            name, content = piece.document
            await bot.send_document(
                chat_id,
                BufferedInputFile(content, name),
                caption=piece.text or None,
                reply_markup=reply_markup,
                parse_mode=parse_mode,
            )
        else:
            await bot.send_message(
                chat_id, piece.text, reply_markup=reply_markup, parse_mode=parse_mode
            )


class AiogramChannel:
    """One bot token, polled or fed by a webhook, answering through ``handle``."""

    def __init__(self, bot: Bot, handle: Handle, on_done: Done | None = None) -> None:
        self.bot = bot
        self._handle = handle
        self._on_done = on_done
        self.dispatcher = Dispatcher()
        # The dispatcher's own update handler routes to these observers; each gets the whole
        # update as ``event_update``, which is what the adapter reads.
        for observer in (
            self.dispatcher.message,
            self.dispatcher.edited_message,
            self.dispatcher.callback_query,
        ):
            observer.register(self._on_event)

    async def _on_event(self, _: object, event_update: Update) -> None:
        await self._on_update(event_update)

    async def _on_update(self, update: Update) -> None:
        raw = update.model_dump(mode="json", exclude_none=True, by_alias=True)
        try:
            incoming = incoming_from_update(raw)
            if incoming is None:
                return
            if update.callback_query is not None:
                await update.callback_query.answer()
            for reply in await self._handle(incoming):
                await deliver(self.bot, incoming.chat_id, reply)
        finally:
            if self._on_done is not None:
                await self._on_done(str(update.update_id))

    async def register_commands(self) -> None:
        await self.bot.set_my_commands(
            [BotCommand(command=name, description=text) for name, text in menu_commands()]
        )

    async def run_polling(self) -> None:
        await self.register_commands()
        await self.bot.delete_webhook()
        await self.dispatcher.start_polling(
            self.bot, handle_signals=False, allowed_updates=ALLOWED_UPDATES, polling_timeout=25
        )

    async def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # not polling: nothing to stop
            await self.dispatcher.stop_polling()
        await self.bot.session.close()

    async def feed(self, update: dict[str, Any]) -> None:
        """Handle one update received by our webhook server."""
        await self.dispatcher.feed_raw_update(self.bot, update)
