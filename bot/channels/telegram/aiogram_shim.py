"""Telegram through aiogram 3 (the default): receiving updates (long polling or the webhook) and
executing the shared delivery module's calls with aiogram's send methods."""

from __future__ import annotations

# ruff: noqa: E402  (aiogram is imported by import_aiogram first, its models built when used)
from bot.channels.telegram.aiogram_models import import_aiogram

import_aiogram()

import contextlib
import logging
from http import HTTPStatus
from typing import Any, cast

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
    GetUpdates,
    SendMessage,
)
from aiogram.methods.base import Response, TelegramMethod, TelegramType
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from aiogram.utils.backoff import BackoffConfig
from sqlalchemy import Engine

from bot.channels.base import PermanentFailure, RateLimited, TransientFailure
from bot.channels.reconnect import FailedPolls
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
# Each one is kept here from its first answer on (JsonSession.check_response): built at the
# start, the answers to sendMessage, sendMediaGroup and getMe (each the whole of ``Message`` or
# ``User``) delayed the first reply, which needs none of them (JsonSession.send_json).
_RESPONSE_TYPES: dict[object, object] = {}


class JsonSession(AiohttpSession):
    """aiogram's aiohttp session, posting a call without files as a JSON object (one of the four
    ways the Bot API takes parameters) instead of a url-encoded form: percent-encoding a
    Vietnamese text byte by byte in Python (``urllib.parse.quote_plus``) was about a tenth of the
    CPU of a reply in benchmarks/telegram_throughput.py. The values are prepared as aiogram
    prepares a form's (defaults filled in, files and empty values left out), with objects as
    JSON objects. A call with files (a picture, a document) goes as aiogram sends it: multipart.
    Errors are read and raised by aiogram as for its own requests."""

    # The updates of the last getUpdates answers as the Bot API's JSON, by update id, when a
    # channel reads them (AiogramChannel sets a dict): turning aiogram's ``Update`` back into
    # JSON (``model_dump``) was ~25 µs of CPU an update.
    kept_updates: dict[int, dict[str, Any]] | None = None

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _RESPONSE_TYPES:
            _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,
    ) -> TelegramType:
        files: dict[str, InputFile] = {}
        fields: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared:  # what aiogram's form leaves out (None, False, "", 0), left out too
                fields[key] = prepared
        if files:
            return await super().make_request(bot, method, timeout)
        status, raw_result = await self._post(bot, method.__api_method__, fields, timeout)
        if status is None:
            raise TelegramNetworkError(method=method, message=raw_result)
        response = self.check_response(
            bot=bot, method=method, status_code=status, content=raw_result
        )
        if self.kept_updates is not None and isinstance(method, GetUpdates):
            self._keep_updates(raw_result)
        return cast(TelegramType, response.result)

    async def close(self) -> None:
        """aiogram waits 250 ms after closing for TLS connections to wind down (aiohttp's
        graceful shutdown); a Bot API server reached over plain HTTP (a local server, the tests'
        fake) has none, and every stop of a bot paid the wait."""
        if not self.api.base.startswith("http://"):
            await super().close()
        elif self._session is not None and not self._session.closed:
            await self._session.close()

    def _keep_updates(self, raw_result: str) -> None:
        assert self.kept_updates is not None
        if len(self.kept_updates) > KEPT_UPDATES_AT_MOST:  # never read (should not happen)
            self.kept_updates.clear()
        result = self.json_loads(raw_result).get("result")
        for update in result if isinstance(result, list) else ():
            if isinstance(update, dict) and isinstance(update.get("update_id"), int):
                self.kept_updates[update["update_id"]] = update

    async def send_json(self, bot: Bot, fields: dict[str, Any]) -> None:
        """``sendMessage`` with ``fields`` as the Bot API's JSON (what :meth:`make_request` would
        post for them), without the pydantic round trip: no ``SendMessage`` model built,
        validated and dumped again, and Telegram's answer (the sent ``Message``, which the
        channel never reads) is not turned into models. An error is read and raised by aiogram
        as for its own requests (the method model is built only then). Issue 12: this was about
        half of a reply's CPU in benchmarks/telegram_throughput.py."""
        status, raw_result = await self._post(bot, "sendMessage", fields, None)
        if status is not None and HTTPStatus.OK <= status <= HTTPStatus.IM_USED:
            try:
                ok = self.json_loads(raw_result).get("ok") is True
            except Exception:  # as aiogram: whatever the decoder raises
                ok = False
            if ok:
                return
        method = SendMessage.model_validate(fields)
        if status is None:
            raise TelegramNetworkError(method=method, message=raw_result)
        self.check_response(bot=bot, method=method, status_code=status, content=raw_result)
        raise TelegramNetworkError(method=method, message="no answer to read")  # not reached

    async def _post(
        self, bot: Bot, api_method: str, fields: dict[str, Any], timeout: int | None
    ) -> tuple[int | None, str]:
        """Post ``fields`` as JSON; (status, body), or (None, what failed) for a network error."""
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=api_method)
        try:
            async with session.post(
                url,
                data=self.json_dumps(fields),
                headers=_JSON_HEADERS,
                timeout=aiohttp.ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as answer:
                return answer.status, await answer.text()
        except TimeoutError:
            return None, "Request timeout error"
        except aiohttp.ClientError as error:
            return None, f"{type(error).__name__}: {error}"


_JSON_HEADERS = {"Content-Type": "application/json"}
KEPT_UPDATES_AT_MOST = 10_000


def make_bot(token: str, api_url: str) -> Bot:
    session = JsonSession(api=TelegramAPIServer.from_base(api_url))
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


def _photo(call: TelegramCall) -> str | BufferedInputFile:
    """A photo Telegram keeps, by its file id, or the picture to upload."""
    if call.photo_ids:
        return call.photo_ids[0]
    assert call.file is not None
    return BufferedInputFile(call.file[1], call.file[0])


async def _execute(bot: Bot, call: TelegramCall) -> None:
    if call.method == "sendMessage" and isinstance(bot.session, JsonSession):
        fields: dict[str, Any] = {"chat_id": call.chat_id, "text": call.text}
        if call.parse_mode is not None:
            fields["parse_mode"] = call.parse_mode
        if call.reply_markup is not None:
            fields["reply_markup"] = call.reply_markup  # the Bot API's JSON already
        await bot.session.send_json(bot, fields)
        return
    reply_markup = markup(call.reply_markup)
    if call.method == "sendMediaGroup":
        await bot.send_media_group(
            call.chat_id,
            [
                InputMediaPhoto(
                    media=file_id,
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
        # The updates' own JSON, which the channel reads (JsonSession.kept_updates).
        self._kept: dict[int, dict[str, Any]] | None = None
        if isinstance(bot.session, JsonSession):
            self._kept = bot.session.kept_updates = {}
        # No aiogram FSM: a conversation's state is in our store (handlers/state.py), so its
        # middleware (a storage key and a context built for every update, issue 12) is off.
        self.dispatcher = Dispatcher(disable_fsm=True)
        # The dispatcher's own update handler routes to these observers; each gets the whole
        # update as ``event_update``, which is what the channel reads.
        for observer in (
            self.dispatcher.message,
            self.dispatcher.edited_message,
            self.dispatcher.callback_query,
        ):
            observer.register(self._on_event)

    async def _on_event(self, _: object, event_update: Update) -> None:
        raw = self._kept.pop(event_update.update_id, None) if self._kept is not None else None
        if raw is None:
            raw = event_update.model_dump(mode="json", exclude_none=True, by_alias=True)
        callback = event_update.callback_query
        await self._process(raw, callback.answer if callback is not None else None)

    async def _execute(self, call: TelegramCall) -> None:
        await execute(self.bot, call)

    async def feed(self, update: dict[str, Any]) -> None:
        if self._kept is not None and isinstance(update.get("update_id"), int):
            self._kept[update["update_id"]] = update
        try:
            await self.dispatcher.feed_raw_update(self.bot, update)
        finally:
            if self._kept is not None:
                self._kept.pop(update.get("update_id"), None)  # type: ignore[arg-type]

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
        quiet_failed_polls()
        await self.dispatcher.start_polling(
            self.bot,
            backoff_config=POLL_BACKOFF,
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


# How aiogram's polling waits after a failed getUpdates: its default, named here.
POLL_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)

# What aiogram's dispatcher logs about each getUpdates that failed, and about the first that
# succeeds after them (aiogram/dispatcher/dispatcher.py, _listen_updates).
_FAILED = "Failed to fetch updates - %s: %s"
_SLEEPING = "Sleep for %f seconds and try again... (tryings = %d, bot id = %d)"
_ESTABLISHED = "Connection established (tryings = %d, bot id = %d)"


class QuietFailedPolls(logging.Filter):
    """aiogram's polling tries a failed getUpdates again every 1 to 5 s and logs each failure
    twice (an ERROR, then "Sleep for … and try again"): with the Bot API out of reach, 34,000
    lines a day. On its dispatcher's logger this filter lets through the failures that
    bot/channels/reconnect.py would report (each of the first, then one an hour, and one
    whenever the kind of failure changes) with their "Sleep for" line; the others are dropped.
    aiogram's "Connection established" ends the outage."""

    def __init__(self) -> None:
        super().__init__()
        self.polls = FailedPolls()
        self._passing = True

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == _FAILED:
            kind = str(record.args[0]) if isinstance(record.args, tuple) and record.args else "?"
            self._passing = self.polls.failure(kind)[0] >= logging.WARNING
            return self._passing
        if record.msg == _SLEEPING:
            return self._passing
        if record.msg == _ESTABLISHED:
            self.polls.reached()
            self._passing = True
        return True


def quiet_failed_polls() -> None:
    """:class:`QuietFailedPolls` on aiogram's dispatcher logger, once a process."""
    dispatcher_log = logging.getLogger("aiogram.dispatcher")
    if not any(isinstance(known, QuietFailedPolls) for known in dispatcher_log.filters):
        dispatcher_log.addFilter(QuietFailedPolls())
