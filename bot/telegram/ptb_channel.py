"""Telegram through python-telegram-bot 22 (TELEGRAM_FRAMEWORK=ptb): the same handlers.

PTB's ConversationHandler is not used: conversation state lives in our store (DESIGN.md)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

# Opt in to PTB 22's coming behaviour now: RetryAfter.retry_after as a timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.telegram.menu import menu_commands
from bot.telegram.text import as_plain, telegram_pieces
from bot.telegram.updates import incoming_from_update
from handlers.channel import Incoming, Outgoing

log = logging.getLogger(__name__)
Handle = Callable[[Incoming], Awaitable[list[Outgoing]]]
# Called once an update is fully handled and answered (metrics, tests).
Done = Callable[[str], Awaitable[None]]
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def markup(message: Outgoing) -> Markup:
    if message.buttons:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
                for row in message.buttons
            ]
        )
    if message.ask_contact:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(message.ask_contact, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if message.remove_keyboard:
        return ReplyKeyboardRemove()
    return None


async def deliver(
    bot: Bot, chat_id: str, message: Outgoing, *, retry_rate_limit: bool = True
) -> None:
    """Send one reply, as the aiogram adapter's ``deliver`` does; a 429 waits ``retry_after``
    once, unless ``retry_rate_limit`` is false (the outbox sender paces and waits itself)."""
    for attempt in range(2):
        try:
            await _send(bot, chat_id, message, ParseMode.HTML)
            return
        except RetryAfter as limit:
            if attempt or not retry_rate_limit:
                raise
            wait = limit.retry_after
            await asyncio.sleep(wait.total_seconds() if hasattr(wait, "total_seconds") else wait)
        except BadRequest as bad:
            if "can't parse entities" not in bad.message.lower() or attempt:
                raise
            log.warning("resending without markup after: %s", bad.message)
            plain = replace(message, text=as_plain(message.text))
            await _send(bot, chat_id, plain, None)
            return


async def _send(bot: Bot, chat_id: str, message: Outgoing, parse_mode: Any) -> None:
    for piece in telegram_pieces(message):
        reply_markup = markup(piece)
        if piece.image is not None:
            await bot.send_photo(
                chat_id,
                InputFile(piece.image, filename="anh.png"),
                caption=piece.text or None,
                reply_markup=reply_markup,
                parse_mode=parse_mode,
            )
        elif piece.document is not None:
            name, content = piece.document
            await bot.send_document(
                chat_id,
                InputFile(content, filename=name),
                caption=piece.text or None,
                reply_markup=reply_markup,
                parse_mode=parse_mode,
            )
        else:
            await bot.send_message(
                chat_id, piece.text, reply_markup=reply_markup, parse_mode=parse_mode
            )


def make_application(token: str, api_url: str) -> Application:  # type: ignore[type-arg]
    base = api_url.rstrip("/")
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .updater(None)
        .build()
    )


class PtbChannel:
    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        handle: Handle,
        on_done: Done | None = None,
    ) -> None:
        self.application = application
        self._handle = handle
        self._on_done = on_done
        application.add_handler(TypeHandler(Update, self._on_update))
        self._polling: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def bot(self) -> Bot:
        return self.application.bot

    async def _on_update(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            incoming = incoming_from_update(update.to_dict())
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
        await self.bot.set_my_commands([BotCommand(name, text) for name, text in menu_commands()])

    async def run_polling(self) -> None:
        """Long polling by hand (getUpdates with offsets), so polling and webhooks share one
        path into ``process_update`` and start-up needs no PTB Updater."""
        await self.application.initialize()
        await self.application.start()
        await self.register_commands()
        await self.bot.delete_webhook()
        offset = 0
        try:
            while not self._stopping.is_set():
                try:
                    updates = await self.bot.get_updates(
                        offset=offset, timeout=25, allowed_updates=ALLOWED_UPDATES
                    )
                except RetryAfter as limit:
                    wait = limit.retry_after
                    await asyncio.sleep(
                        wait.total_seconds() if hasattr(wait, "total_seconds") else wait
                    )
                    continue
                for update in updates:
                    offset = update.update_id + 1
                    await self.application.process_update(update)
        finally:
            await self.application.stop()
            await self.application.shutdown()

    async def stop(self) -> None:
        self._stopping.set()

    async def feed(self, update: dict[str, Any]) -> None:
        await self.application.process_update(Update.de_json(update, self.bot))
