"""A fake Telegram Bot API server on 127.0.0.1 that the real aiogram and PTB code talk to.

Point a framework at it and nothing else changes: the same HTTP calls, the same JSON,
the same errors as ``api.telegram.org``::

    async with FakeTelegram() as fake:
        # aiogram 3: TelegramAPIServer.from_base(base) builds
        #   {base}/bot{token}/{method} and {base}/file/bot{token}/{path}
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        bot = Bot(fake.token, session=session)

        # python-telegram-bot 22: calls f"{base_url}{token}/{method}" and downloads from
        #   f"{base_file_url}{token}/{file_path}"
        bot = telegram.Bot(fake.token, base_url=fake.api_url, base_file_url=fake.file_url)
        app = ApplicationBuilder().token(fake.token).base_url(fake.api_url) \\
            .base_file_url(fake.file_url).build()

``fake.base_url`` is ``http://127.0.0.1:PORT``; ``fake.api_url`` is ``{base_url}/bot`` and
``fake.file_url`` is ``{base_url}/file/bot`` (PTB appends the token itself). Run the fake
and the bot in the same event loop (pytest-asyncio does); the test-facing methods are
plain functions except the ``wait_for…`` ones.

What it does, in Telegram's terms:

* ``/bot<token>/<method>`` with GET or POST, query string, JSON, url-encoded or multipart
  bodies; method names are case-insensitive; a wrong token answers 401, a malformed one
  and an unknown method 404 ``{"ok": false, "error_code": 404, "description": "Not Found"}``.
* getUpdates with ``offset`` (confirms and forgets older updates; negative keeps the last
  ones), ``limit``, long polling ``timeout`` that returns as soon as an update is queued,
  ``allowed_updates`` (kept like Telegram: filters updates created afterwards). A second
  poller terminates the first with 409, as Telegram does; getUpdates while a webhook is
  set answers 409.
* setWebhook/deleteWebhook/getWebhookInfo; with a webhook the queue is POSTed as JSON to
  its URL (``http://`` allowed here), one update at a time in order (or, with
  ``webhook_connections`` > 1, up to that many and the webhook's ``max_connections`` at once,
  as Telegram does, one chat's updates still one after the other), with
  ``X-Telegram-Bot-Api-Secret-Token``; a non-2xx answer or a connection error is retried
  with backoff and shows in getWebhookInfo's ``last_error_message``. A 2xx answer that
  carries a method call (aiogram's webhook reply, JSON or multipart) is executed.
* Messages, photos, documents, edits, callback answers, commands, chat actions, files
  (getFile + ``/file/bot<token>/<path>``): see :mod:`tests.fake_telegram.bot_api`.
* HTML parse mode is validated by a port of tdlib's parser (see
  :mod:`tests.fake_telegram.formatting`), so an unescaped ``<`` fails exactly as in
  production.
* Faults: :meth:`FakeTelegram.fail_next` and :meth:`FakeTelegram.rate_limit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
from aiohttp import web

from .bot_api import BotApi, WithDescription, canonical_method
from .errors import (
    TelegramError,
    conflict,
    make_error,
    not_found,
    too_many_requests,
    unauthorized,
)
from .limits import RateLimiter
from .params import coerce_all, read_multipart, read_request
from .records import RecordedRequest, ScheduledFailure, SentMessage, UploadedFile, Webhook
from .world import DEFAULT_TOKEN, QueuedUpdate, is_well_formed_token

T = TypeVar("T")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 64 * 1024 * 1024
_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _flood_limited(method: str) -> bool:
    """Calls that count against flood control: sending, copying, forwarding."""
    return method.startswith(("send", "copy", "forward")) and method != "sendchataction"


def _chat_key(update: dict[str, Any]) -> object:
    """The chat an update belongs to (its updates are delivered in order), or None."""
    for kind, body in update.items():
        if kind == "update_id" or not isinstance(body, dict):
            continue
        message = body.get("message") if kind == "callback_query" else body
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and "id" in chat:
            return chat["id"]
        sender = body.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return sender["id"]
    return None


def _as_int(value: Any, default: int | None = None) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return default


class FakeTelegram(BotApi):
    """The fake Bot API server for one bot token. Use ``async with`` or start()/stop()."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "doithoai_test_bot",
        bot_first_name: str = "Đối thoại (test)",
        strict_chats: bool = False,
        first_update_id: int = 1,
        webhook_retry_delay: float = 0.05,
        webhook_timeout: float = 10.0,
        webhook_connections: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            token,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            strict_chats=strict_chats,
            first_update_id=first_update_id,
        )
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self.webhook_connections = max(1, webhook_connections)
        self._clock = clock
        self.requests: list[RecordedRequest] = []
        self.webhook_attempts: list[dict[str, Any]] = []
        self.too_many_requests_sent = 0
        self.internal_errors: list[Exception] = []
        self._failures: list[ScheduledFailure] = []
        self._limiter: RateLimiter | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._updates_event = asyncio.Event()
        self._activity = asyncio.Event()
        self._active_poll: asyncio.Future[None] | None = None
        self._closing = False

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> Self:
        """Listen on ``host`` (an ephemeral port unless given) and start webhook delivery."""
        if self._runner is not None:
            return self
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=2.0,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._closing = False
        self._session = aiohttp.ClientSession()
        self._webhook_task = asyncio.create_task(
            self._deliver_webhooks(), name="fake-telegram-webhook"
        )
        return self

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery, close the server."""
        self._closing = True
        self._updates_changed()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: for aiogram's ``TelegramAPIServer.from_base``."""
        if self.port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """``{base_url}/bot``: for PTB's ``base_url`` (PTB appends the token)."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        """``{base_url}/file/bot``: for PTB's ``base_file_url``."""
        return f"{self.base_url}/file/bot"

    def method_url(self, method: str) -> str:
        """The full URL of one method, for raw HTTP calls in tests."""
        return f"{self.base_url}/bot{self.token}/{method}"

    # -- fault injection --------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        *,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error.

        ``method`` is matched case-insensitively; ``"*"`` matches any method but getUpdates.

        ``description`` defaults to Telegram's wording (429: ``Too Many Requests: retry
        after N`` with ``parameters.retry_after``, 1 s unless given; 403: ``Forbidden: bot
        was blocked by the user``…). ``chat_id`` restricts it to calls for that chat.
        """
        error = make_error(error_code, description, retry_after)
        self._failures.append(
            ScheduledFailure(
                method=method if method == "*" else method.lower(),
                error_code=error.error_code,
                description=error.description,
                parameters=error.parameters,
                times=times,
                chat_id=chat_id,
            )
        )

    def rate_limit(
        self,
        global_per_second: float | None = 30,
        per_chat_per_second: float | None = 1,
        per_group_per_minute: float | None = 20,
    ) -> None:
        """Turn on Telegram-like flood control for send*/copy*/forward* calls (None: no limit)."""
        self._limiter = RateLimiter(
            global_per_second, per_chat_per_second, per_group_per_minute, self._clock
        )

    def no_rate_limit(self) -> None:
        self._limiter = None

    def _take_failure(self, method: str, params: dict[str, Any]) -> TelegramError | None:
        for failure in self._failures:
            if failure.matches(method, params):
                failure.times -= 1
                return TelegramError(failure.error_code, failure.description, failure.parameters)
        self._failures = [failure for failure in self._failures if failure.times > 0]
        return None

    # -- records and waiting ----------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[RecordedRequest]:
        """Recorded calls, oldest first; only those of ``method`` (any case) if given."""
        if method is None:
            return list(self.requests)
        wanted = method.lower()
        return [request for request in self.requests if request.method.lower() == wanted]

    def clear_requests(self) -> None:
        self.requests.clear()

    def _notify(self) -> None:
        self._activity.set()
        self._activity = asyncio.Event()

    def _updates_changed(self) -> None:
        self._updates_event.set()
        self._updates_event = asyncio.Event()
        self._notify()

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy and return its value; TimeoutError otherwise.

        Re-checked after every call the bot makes and at least every 50 ms.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [f"{r.method} {r.status}" for r in self.requests[-8:]]
                raise TimeoutError(
                    f"condition not met within {timeout} s; last calls: {recent}; "
                    f"pending updates: {len(self._queue)}"
                )
            activity = self._activity
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(activity.wait(), min(remaining, 0.05))

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[SentMessage]:
        """All messages sent to ``chat_id`` once there are at least ``count``."""
        await self.wait_for(lambda: len(self.sent_messages(chat_id)) >= count, timeout)
        return self.sent_messages(chat_id)

    async def wait_for_calls(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """All recorded calls of ``method`` once there are at least ``count``."""
        await self.wait_for(lambda: len(self.calls(method)) >= count, timeout)
        return self.calls(method)

    # -- HTTP ----------------------------------------------------------------------------------

    @staticmethod
    def _json(payload: dict[str, Any], status: int) -> web.Response:
        return web.json_response(payload, status=status, dumps=_dumps)

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return self._json(not_found().payload(), 404)

    def _token_error(self, token: str) -> TelegramError | None:
        if token == self.token:
            return None
        return unauthorized() if is_well_formed_token(token) else not_found()

    async def _handle_api(self, request: web.Request) -> web.Response:
        error = self._token_error(request.match_info["token"])
        if error is not None:
            return self._json(error.payload(), error.error_code)
        method = request.match_info["method"]
        try:
            params, files = await read_request(request)
        except TelegramError as bad:
            return self._json(bad.payload(), bad.error_code)
        record = await self.execute(method, params, files)
        record.http_method = request.method
        record.content_type = request.content_type
        return self._json(record.response, record.status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        error = self._token_error(request.match_info["token"])
        if error is not None:
            return self._json(error.payload(), error.error_code)
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return self._json(not_found().payload(), 404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def execute(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile] | None = None,
    ) -> RecordedRequest:
        """Run one Bot API call as if it came over HTTP; record and return it."""
        files = files or {}
        key = method.lower()
        name = canonical_method(key) or method
        try:
            failure = self._take_failure(key, params)
            if failure is not None:
                raise failure
            if canonical_method(key) is None:
                raise not_found()
            limited = self._limiter is not None and _flood_limited(key)
            if limited and self._limiter is not None:
                retry_after = self._limiter.retry_after(params.get("chat_id"))
                if retry_after is not None:
                    raise too_many_requests(retry_after)
            if key == "getupdates":
                result: Any = await self._get_updates(params)
            else:
                result = self._call_method(key, params, files)
            if limited and self._limiter is not None:
                self._limiter.record(params.get("chat_id"))
            payload: dict[str, Any] = {"ok": True}
            if isinstance(result, WithDescription):
                payload["result"] = result.result
                payload["description"] = result.description
            else:
                payload["result"] = result
            status = 200
        except TelegramError as error:
            status, payload = error.error_code, error.payload()
        except Exception as error:  # a bug of the fake or parameters it cannot digest
            self.internal_errors.append(error)
            status = 500
            payload = TelegramError(500, f"Internal Server Error: {error!r}").payload()
        if status == 429:
            self.too_many_requests_sent += 1
        record = RecordedRequest(
            method=name, params=params, files=files, status=status, response=payload
        )
        self.requests.append(record)
        self._notify()
        return record

    # -- long polling ---------------------------------------------------------------------------

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise conflict(
                "can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        offset = _as_int(params.get("offset"))
        limit = min(max(_as_int(params.get("limit"), 100) or 100, 1), 100)
        timeout_value = params.get("timeout") or 0
        timeout = float(timeout_value) if isinstance(timeout_value, int | float) else 0.0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed]
        if self._active_poll is not None and not self._active_poll.done():
            self._active_poll.set_result(None)  # Telegram terminates the older request
        loop = asyncio.get_running_loop()
        poll: asyncio.Future[None] = loop.create_future()
        self._active_poll = poll
        try:
            self._confirm_updates(offset)
            deadline = loop.time() + max(timeout, 0.0)
            while not self._queue and not self._closing:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                changed = asyncio.ensure_future(self._updates_event.wait())
                try:
                    await asyncio.wait(
                        {changed, poll}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    changed.cancel()
                if poll.done():
                    raise conflict(
                        "terminated by other getUpdates request; "
                        "make sure that only one bot instance is running"
                    )
                if self.webhook is not None:
                    raise conflict("terminated by setWebhook request")
            return self._take_updates(limit)
        finally:
            if self._active_poll is poll:
                self._active_poll = None

    # -- webhook delivery -------------------------------------------------------------------

    async def _deliver_webhooks(self) -> None:
        if self.webhook_connections > 1:
            await self._deliver_webhooks_at_once()
            return
        delay = self.webhook_retry_delay
        while not self._closing:
            hook = self.webhook
            entry = self._next_for_webhook() if hook is not None else None
            if hook is None or entry is None:
                await self._updates_event.wait()
                continue
            if await self._post_update(hook, entry):
                self._acknowledged(entry)
                delay = self.webhook_retry_delay
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _deliver_webhooks_at_once(self) -> None:
        """Up to ``webhook_connections`` (and the webhook's ``max_connections``) updates on the
        wire at once; an update of a chat waits until that chat's earlier updates are
        acknowledged; a failed one is retried with its own backoff."""
        loop = asyncio.get_running_loop()
        in_flight: dict[int, asyncio.Task[None]] = {}
        retry_at: dict[int, float] = {}
        delays: dict[int, float] = {}

        async def deliver(hook: Webhook, entry: QueuedUpdate) -> None:
            key = id(entry)
            try:
                if await self._post_update(hook, entry):
                    self._acknowledged(entry)
                    retry_at.pop(key, None)
                    delays.pop(key, None)
                else:
                    delay = delays.get(key, self.webhook_retry_delay)
                    retry_at[key] = loop.time() + delay
                    delays[key] = min(delay * 2, 1.0)
            finally:
                in_flight.pop(key, None)
                self._updates_changed()

        try:
            while not self._closing:
                changed = self._updates_event
                hook = self.webhook
                wake_at: float | None = None
                if hook is not None:
                    limit = min(self.webhook_connections, hook.max_connections)
                    now = loop.time()
                    blocked: set[object] = set()
                    for entry in self._ordered_queue():
                        if len(in_flight) >= limit:
                            break
                        key = id(entry)
                        chat = _chat_key(entry.update)
                        if chat is not None and chat in blocked:
                            continue
                        waiting = retry_at.get(key, 0.0) > now
                        if key not in in_flight and not waiting:
                            in_flight[key] = asyncio.create_task(deliver(hook, entry))
                        elif waiting:
                            retry = retry_at[key]
                            wake_at = retry if wake_at is None else min(wake_at, retry)
                        if chat is not None:
                            blocked.add(chat)
                timeout = None if wake_at is None else max(0.0, wake_at - loop.time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout)
        finally:
            for task in list(in_flight.values()):
                task.cancel()
            if in_flight:
                await asyncio.gather(*in_flight.values(), return_exceptions=True)

    async def _post_update(self, hook: Webhook, entry: QueuedUpdate) -> bool:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        entry.delivered += 1
        self.delivery_counts[entry.update_id] += 1
        attempt: dict[str, Any] = {"update_id": entry.update_id, "url": hook.url}
        self.webhook_attempts.append(attempt)
        error: str
        try:
            async with self._session.post(
                hook.url,
                data=_dumps(entry.update).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                attempt["status"] = response.status
                if 200 <= response.status < 300:
                    hook.deliveries += 1
                    await self._webhook_reply(response)
                    self._notify()
                    return True
                error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except (aiohttp.ClientError, TimeoutError) as failure:
            error = f"{type(failure).__name__}: {failure}"
        attempt["error"] = error
        hook.failures += 1
        hook.last_error_date = self._timestamp()
        hook.last_error_message = error
        self._notify()
        return False

    async def _webhook_reply(self, response: aiohttp.ClientResponse) -> None:
        """Execute a method call returned in the webhook answer, as Telegram does."""
        files: dict[str, UploadedFile] = {}
        raw: dict[str, Any]
        if response.content_type == "application/json":
            body = await response.json(content_type=None)
            raw = body if isinstance(body, dict) else {}
        elif response.content_type == "multipart/form-data":
            raw, files = await read_multipart(
                aiohttp.MultipartReader(response.headers, response.content)
            )
        else:
            return
        method = raw.pop("method", None)
        if not isinstance(method, str) or not method:
            return
        record = await self.execute(method, coerce_all(raw), files)
        record.http_method = "WEBHOOK-REPLY"
        record.content_type = response.content_type


__all__ = ["DEFAULT_TOKEN", "SECRET_HEADER", "FakeTelegram"]
