"""Telegram through python-telegram-bot 22 (TELEGRAM_FRAMEWORK=ptb): receiving updates (long
polling or the webhook) and executing the shared delivery module's calls with PTB's send methods.

PTB's ConversationHandler is not used: conversation state lives in our store (DESIGN.md)."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import ssl
from typing import Any
from weakref import WeakKeyDictionary

# Opt in to PTB 22's coming behaviour now: RetryAfter.retry_after as a timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "1")

import httpx
from sqlalchemy import Engine
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.base import PermanentFailure, RateLimited, TransientFailure
from bot.channels.reconnect import FailedPolls
from bot.channels.telegram.channel import ALLOWED_UPDATES, Done, TelegramChannel
from bot.channels.telegram.delivery import (
    CantParseEntities,
    ReplyMarkup,
    TelegramCall,
    TelegramDelivery,
    is_entity_error,
    seconds,
)
from bot.channels.telegram.menu import ChatMenus, Commands, menu_commands
from bot.rate_limit import RateLimiter

log = logging.getLogger(__name__)
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
PtbApplication = Application[Any, Any, Any, Any, Any, Any]
# Updates handled at once by the polling loop (each chat still one at a time).
CONCURRENT_UPDATES = 64
# Bot API calls under way at once (replies and the outbox together). Telegram takes 30 messages
# a second; at 0.25 s a call, 16 connections carry twice that. PTB's default pool has 256, and
# httpcore's pool spends CPU quadratic in its connections on every request (each idle
# connection's socket is polled, and counted once per connection): with 100 chats typing at once
# that was most of the CPU of a reply (benchmarks/telegram_throughput.py).
SEND_CONNECTIONS = 16


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every HTTPX client of the process, as httpx makes it by default
    (certifi's authorities, or SSL_CERT_FILE/SSL_CERT_DIR): httpx makes one per client, reading
    the same file each time (about 40 ms of CPU, two clients an application), and a context is
    made to be shared."""
    return httpx.create_ssl_context()


class BoundedRequest(HTTPXRequest):
    """PTB's HTTPX request with at most ``connection_pool_size`` calls under way: the others wait
    here, in order, instead of in httpcore's pool (where a wait costs CPU per waiting call and
    fails after PTB's pool timeout of one second)."""

    __slots__ = ("_room",)

    def __init__(self, connection_pool_size: int) -> None:
        super().__init__(
            connection_pool_size=connection_pool_size, httpx_kwargs={"verify": tls_context()}
        )
        self._room = asyncio.Semaphore(connection_pool_size)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        write_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        connect_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        pool_timeout: Any = HTTPXRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        async with self._room:
            return await super().do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )


class KeptUpdates(HTTPXRequest):
    """getUpdates' request (PTB gives it one of its own), keeping the updates of the last answer
    as the Bot API's JSON, which is what the channel reads (bot/channels/telegram/updates.py):
    turning PTB's ``Update`` back into it (``to_dict``) was about a tenth of the CPU of an update
    in benchmarks/telegram_throughput.py. PTB lets ``parse_json_payload`` be overridden."""

    __slots__ = ("updates",)

    def __init__(self) -> None:
        super().__init__(httpx_kwargs={"verify": tls_context()})
        self.updates: list[dict[str, Any]] = []

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        parsed = super().parse_json_payload(payload)
        result = parsed.get("result") if isinstance(parsed, dict) else None
        self.updates = (
            [item for item in result if isinstance(item, dict)] if isinstance(result, list) else []
        )
        return parsed

    def take(self) -> dict[object, dict[str, Any]]:
        """The last answer's updates by update id (once)."""
        updates, self.updates = self.updates, []
        return {update.get("update_id"): update for update in updates}


# The getUpdates request of each application made by make_application.
_KEPT_UPDATES: WeakKeyDictionary[PtbApplication, KeptUpdates] = WeakKeyDictionary()


def make_application(token: str, api_url: str) -> PtbApplication:
    base = api_url.rstrip("/")
    kept = KeptUpdates()
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .request(BoundedRequest(SEND_CONNECTIONS))
        .get_updates_request(kept)
        .updater(None)
        .build()
    )
    _KEPT_UPDATES[application] = kept
    return application


def markup(spec: ReplyMarkup | None) -> Markup:
    if spec is None:
        return None
    if "inline_keyboard" in spec:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
                for row in spec["inline_keyboard"]
            ]
        )
    if "keyboard" in spec:
        return ReplyKeyboardMarkup(
            [
                [
                    KeyboardButton(
                        b["text"],
                        request_contact=b.get("request_contact"),
                        request_location=b.get("request_location"),
                    )
                    for b in row
                ]
                for row in spec["keyboard"]
            ],
            resize_keyboard=spec.get("resize_keyboard"),
            one_time_keyboard=spec.get("one_time_keyboard"),
        )
    return ReplyKeyboardRemove()


async def execute(bot: Bot, call: TelegramCall) -> None:
    """Make one call with PTB; its errors as the shared failures."""
    try:
        await _execute(bot, call)
    except RetryAfter as limit:
        raise RateLimited(seconds(limit.retry_after)) from limit
    except ChatMigrated as moved:
        raise PermanentFailure(f"chat migrated to {moved.new_chat_id}") from moved
    except BadRequest as refused:  # a NetworkError too: before it
        if is_entity_error(refused.message):
            raise CantParseEntities(refused.message) from refused
        raise PermanentFailure(refused.message) from refused
    except Forbidden as refused:
        raise PermanentFailure(refused.message) from refused
    except InvalidToken as setup:
        raise TransientFailure(f"bot setup: {setup.message}") from setup
    except NetworkError as failure:  # TimedOut, 5xx and connection errors
        raise TransientFailure(failure.message) from failure
    except TelegramError as failure:  # Conflict and the like
        raise TransientFailure(failure.message) from failure


def _photo(call: TelegramCall) -> str | InputFile:
    """A photo Telegram keeps, by its file id, or the picture to upload."""
    if call.photo_ids:
        return call.photo_ids[0]
    assert call.file is not None
    return InputFile(call.file[1], filename=call.file[0])


async def _send_message(bot: Bot, call: TelegramCall) -> None:
    """``sendMessage`` through the bot's own request (the same pool, the same form, PTB's errors
    for Telegram's answers) with the parameters of the rendered call, without ``send_message``'s
    round trip: no keyboard objects built and turned back into JSON, and Telegram's answer (the
    sent ``Message``, never read here) not turned into objects. Issue 12: that was about half of
    a reply's CPU in benchmarks/telegram_throughput.py."""
    fields: dict[str, Any] = {"chat_id": call.chat_id, "text": call.text}
    if call.parse_mode is not None:
        fields["parse_mode"] = call.parse_mode
    if call.reply_markup is not None:
        fields["reply_markup"] = call.reply_markup
    # RequestParameter is what PTB's own methods build RequestData from (internal to PTB 22,
    # whose major version is pinned); the values are the Bot API's (the keyboard as a dict).
    data = RequestData([RequestParameter(name, value, None) for name, value in fields.items()])
    await bot.request.post(f"{bot.base_url}/sendMessage", data)


async def _execute(bot: Bot, call: TelegramCall) -> None:
    if call.method == "sendMessage":
        await _send_message(bot, call)
        return
    reply_markup = markup(call.reply_markup)
    if call.method == "sendMediaGroup":
        await bot.send_media_group(
            call.chat_id,
            [
                InputMediaPhoto(
                    file_id,
                    caption=(call.text or None) if index == 0 else None,
                    parse_mode=call.parse_mode,
                )
                for index, file_id in enumerate(call.photo_ids)
            ],
        )
    elif call.method == "sendPhoto":
        await bot.send_photo(
            call.chat_id,
            _photo(call),
            caption=call.text or None,
            reply_markup=reply_markup,
            parse_mode=call.parse_mode,
        )
    elif call.method == "sendDocument":
        assert call.file is not None
        await bot.send_document(
            call.chat_id,
            InputFile(call.file[1], filename=call.file[0]),
            caption=call.text or None,
            reply_markup=reply_markup,
            parse_mode=call.parse_mode,
        )


class PtbDelivery(TelegramDelivery):
    """Sending only, through an initialised python-telegram-bot ``Bot`` (``application.bot`` of
    :func:`make_application` has a pool for concurrent sends): the outbox sender's transport."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _execute(self, call: TelegramCall) -> None:
        await execute(self.bot, call)


class PtbChannel(TelegramChannel):
    """The Telegram channel on python-telegram-bot: the Application's update handling, fed by
    our own long polling (no PTB Updater) or by the webhook route."""

    def __init__(
        self,
        application: PtbApplication,
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
        self.application = application
        self._bot: Bot = application.bot
        application.add_handler(TypeHandler(Update, self._on_update))
        self._room = asyncio.Semaphore(CONCURRENT_UPDATES)
        self._kept = _KEPT_UPDATES.get(application)
        # The Bot API's JSON of the updates being handled, by update id (polled or posted).
        self._raw: dict[object, dict[str, Any]] = {}

    @property
    def bot(self) -> Bot:
        return self._bot

    async def _on_update(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        callback = update.callback_query
        raw = self._raw.pop(update.update_id, None)
        await self._process(
            raw if raw is not None else update.to_dict(),
            callback.answer if callback is not None else None,
        )

    async def _execute(self, call: TelegramCall) -> None:
        await execute(self.bot, call)

    async def feed(self, update: dict[str, Any]) -> None:
        parsed = Update.de_json(update, self.bot)
        self._raw[parsed.update_id] = update
        try:
            await self.application.process_update(parsed)
        finally:
            self._raw.pop(parsed.update_id, None)

    async def _open(self) -> None:
        # Again after a failed start (bot/channels/telegram/channel.py): what is done is not
        # done twice (initialize returns at once when done; start refuses a running one).
        await self.application.initialize()
        if not self.application.running:
            await self.application.start()

    async def _register_commands(self) -> None:
        await self.bot.set_my_commands([BotCommand(name, text) for name, text in menu_commands()])

    async def _set_chat_commands(self, chat_id: str, commands: Commands) -> None:
        await self.bot.set_my_commands(
            [BotCommand(name, text) for name, text in commands],
            scope=BotCommandScopeChat(int(chat_id)),
        )

    async def _set_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def _delete_webhook(self) -> None:
        await self.bot.delete_webhook()

    async def _poll(self) -> None:
        """Long polling by hand (getUpdates with offsets), so polling and the webhook share one
        path into ``process_update``; each update is handled in a task of its own."""
        offset, polls = 0, FailedPolls()
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=25, allowed_updates=ALLOWED_UPDATES
                )
            except RetryAfter as limit:
                await asyncio.sleep(seconds(limit.retry_after))
                continue
            except (NetworkError, InvalidToken) as failure:  # try again, as aiogram does
                # After the delays of bot/channels/reconnect.py, with their warnings (one an
                # hour once they stop growing), not a warning each second of an outage.
                level, delay = polls.failure(failure)
                log.log(level, "getUpdates failed (%s): %s", polls.failed, failure.message)
                await asyncio.sleep(delay)
                continue
            if failed := polls.reached():
                log.info("Telegram reached again after %s failed polls", failed)
            raw = self._kept.take() if self._kept is not None else {}
            for update in updates:
                offset = update.update_id + 1
                await self._room.acquire()
                kept = raw.get(update.update_id)
                if kept is not None:
                    self._raw[update.update_id] = kept
                self._track(asyncio.create_task(self._run(update), name="telegram-update"))

    async def _run(self, update: Update) -> None:
        try:
            await self.application.process_update(update)
        finally:
            self._raw.pop(update.update_id, None)
            self._room.release()

    async def _close(self) -> None:
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
