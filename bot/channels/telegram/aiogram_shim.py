"""Telegram through aiogram 3 (the default): receiving updates (long polling or the webhook) and
executing the shared delivery module's calls with aiogram's send methods."""

from __future__ import annotations

import contextlib
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    GetMe,
    GetUpdates,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    SetWebhook,
)
from aiogram.methods.base import Response
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from sqlalchemy import Engine

from bot.channels.base import PermanentFailure, RateLimited, TransientFailure
from bot.channels.telegram.channel import ALLOWED_UPDATES, Done, TelegramChannel
from bot.channels.telegram.delivery import (
    CantParseEntities,
    ReplyMarkup,
    TelegramCall,
    TelegramDelivery,
    is_entity_error,
)
from bot.channels.telegram.menu import ChatMenus, Commands, menu_commands
from bot.rate_limit import RateLimiter

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


# aiogram reads every answer as ``Response[<the method's result>]``, a pydantic generic model;
# pydantic keeps such parametrised models only weakly (a WeakValueDictionary), so each garbage
# collection may drop them and the next answer builds the model again (tens of ms of CPU, many
# times a minute under load: the largest cost per update in benchmarks/telegram_throughput.py).
# The ones the channel uses are kept here, built once.
_METHODS = (
    GetUpdates,
    SendMessage,
    SendPhoto,
    SendDocument,
    AnswerCallbackQuery,
    SetMyCommands,
    SetWebhook,
    DeleteWebhook,
    GetMe,
)
_RESPONSE_TYPES: dict[object, object] = {}


def keep_response_types() -> None:
    for method in _METHODS:
        returning = method.__returning__
        if returning not in _RESPONSE_TYPES:
            _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]


def make_bot(token: str, api_url: str) -> Bot:
    keep_response_types()
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


def markup(spec: ReplyMarkup | None) -> Markup:
    if spec is None:
        return None
    if "inline_keyboard" in spec:
        return InlineKeyboardMarkup.model_validate(spec)
    if "keyboard" in spec:
        return ReplyKeyboardMarkup.model_validate(spec)
    return ReplyKeyboardRemove.model_validate(spec)


async def execute(bot: Bot, call: TelegramCall) -> None:
    """Make one call with aiogram; its errors as the shared failures."""
    try:
        await _execute(bot, call)
    except TelegramRetryAfter as limit:
        raise RateLimited(float(limit.retry_after)) from limit
    except TelegramMigrateToChat as moved:
        raise PermanentFailure(f"chat migrated to {moved.migrate_to_chat_id}") from moved
    except TelegramBadRequest as refused:
        if is_entity_error(refused.message):
            raise CantParseEntities(refused.message) from refused
        raise PermanentFailure(refused.message) from refused
    except (TelegramForbiddenError, TelegramEntityTooLarge) as refused:
        raise PermanentFailure(refused.message) from refused
    except (TelegramUnauthorizedError, TelegramNotFound, TelegramConflictError) as setup:
        # The token or the API address is wrong: every message fails until it is fixed.
        raise TransientFailure(f"bot setup: {setup.message}") from setup
    except (TelegramServerError, TelegramNetworkError) as failure:
        raise TransientFailure(failure.message) from failure
    except (ClientDecodeError, aiohttp.ClientError, TimeoutError, OSError) as failure:
        raise TransientFailure(f"{type(failure).__name__}: {failure}") from failure


async def _execute(bot: Bot, call: TelegramCall) -> None:
    reply_markup = markup(call.reply_markup)
    if call.method == "sendPhoto":
        assert call.file is not None
        await bot.send_photo(
            call.chat_id,
            BufferedInputFile(call.file[1], call.file[0]),
            caption=call.text or None,
            reply_markup=reply_markup,
            parse_mode=call.parse_mode,
        )
    elif call.method == "sendDocument":
        assert call.file is not None
        await bot.send_document(
            call.chat_id,
            BufferedInputFile(call.file[1], call.file[0]),
            caption=call.text or None,
            reply_markup=reply_markup,
            parse_mode=call.parse_mode,
        )
    else:
        await bot.send_message(
            call.chat_id, call.text, reply_markup=reply_markup, parse_mode=call.parse_mode
        )


class AiogramDelivery(TelegramDelivery):
    """Sending only, through an aiogram ``Bot`` (the outbox sender's transport)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _execute(self, call: TelegramCall) -> None:
        await execute(self.bot, call)


class AiogramChannel(TelegramChannel):
    """The Telegram channel on aiogram: a Dispatcher polls or is fed by the webhook route."""

    def __init__(
        self,
        bot: Bot,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        limiter: RateLimiter | None = None,
        on_done: Done | None = None,
        menus: ChatMenus | None = None,
        inbox: Engine | None = None,
        chat_spacing_seconds: float = 0.0,
    ) -> None:
        super().__init__(
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            limiter=limiter,
            on_done=on_done,
            menus=menus,
            inbox=inbox,
            chat_spacing_seconds=chat_spacing_seconds,
        )
        self.bot = bot
        self.dispatcher = Dispatcher()
        # The dispatcher's own update handler routes to these observers; each gets the whole
        # update as ``event_update``, which is what the channel reads.
        for observer in (
            self.dispatcher.message,
            self.dispatcher.edited_message,
            self.dispatcher.callback_query,
        ):
            observer.register(self._on_event)

    async def _on_event(self, _: object, event_update: Update) -> None:
        raw = event_update.model_dump(mode="json", exclude_none=True, by_alias=True)
        callback = event_update.callback_query
        await self._process(raw, callback.answer if callback is not None else None)

    async def _execute(self, call: TelegramCall) -> None:
        await execute(self.bot, call)

    async def feed(self, update: dict[str, Any]) -> None:
        await self.dispatcher.feed_raw_update(self.bot, update)

    async def _register_commands(self) -> None:
        await self.bot.set_my_commands(
            [BotCommand(command=name, description=text) for name, text in menu_commands()]
        )

    async def _set_chat_commands(self, chat_id: str, commands: Commands) -> None:
        await self.bot.set_my_commands(
            [BotCommand(command=name, description=text) for name, text in commands],
            scope=BotCommandScopeChat(chat_id=int(chat_id)),
        )

    async def _set_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def _delete_webhook(self) -> None:
        await self.bot.delete_webhook()

    async def _poll(self) -> None:
        # Updates are handled as tasks (aiogram's default): chats at once, ChatTurns in order.
        await self.dispatcher.start_polling(
            self.bot,
            handle_signals=False,
            close_bot_session=False,
            allowed_updates=ALLOWED_UPDATES,
            polling_timeout=25,
        )

    async def _stop_polling(self) -> None:
        with contextlib.suppress(RuntimeError):  # not polling: nothing to stop
            await self.dispatcher.stop_polling()

    async def _close(self) -> None:
        await self.bot.session.close()
