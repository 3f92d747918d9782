"""A fake Zalo Bot platform API on 127.0.0.1 (the Telegram-shaped ``/bot<TOKEN>/<method>``).

* ``getUpdates`` long polls (``timeout`` seconds, 30 by default) and answers one event as
  ``{"ok": true, "result": {event}}``, as the platform's docs show; nothing within the timeout
  answers ``408``. It refuses while a webhook is set.
* ``setWebhook {url, secret_token}``: events are then POSTed to the URL as
  ``{"ok": true, "result": {event}}`` with ``X-Bot-Api-Secret-Token``; ``deleteWebhook``.
* ``sendMessage {chat_id, text}``: 1–2,000 characters, recorded; :meth:`rate_limit` answers
  ``429 Quota exceeded``. A wrong token answers 401.
* ``sendPhoto {chat_id, photo, caption}``: ``photo`` is a URL, which the platform fetches as
  the real one does: an address that does not answer 200 with a picture fails the call (400),
  so a broken link fails the test. The picture's bytes are recorded with the message.
* :meth:`flood_control` (off by default) answers ``429 Quota exceeded`` to a send over a global
  or a per-chat budget a second (the platform publishes no figure: the caller chooses one);
  ``too_many_requests_sent`` counts every 429 answered, forced or over budget.
* Events have no ``update_id``: ``event_name`` + ``message.message_id`` identify them.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fake_telegram.limits import RateLimiter

TOKEN = "1459232241454765289:FakeZaloBotToken"


@dataclass
class BotMessage:
    chat_id: str
    text: str
    photo: bytes | None = None  # the picture fetched from the sendPhoto URL
    photo_url: str | None = None


@dataclass
class FakeZaloBot:
    token: str = TOKEN
    sent: list[BotMessage] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_statuses: list[int] = field(default_factory=list)
    _queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    _rate_limited: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    base_url: str = ""
    port: int = 0  # 0: the system chooses
    too_many_requests_sent: int = 0
    _limiter: RateLimiter | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._call)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def rate_limit(self, times: int = 1) -> None:
        self._rate_limited += times

    def flood_control(
        self, per_second: float | None, per_chat_per_second: float | None = None
    ) -> None:
        """Answer 429 to sends over these budgets (sliding windows, as the fake Telegram's);
        ``None`` for both: no flood control."""
        self._limiter = (
            RateLimiter(per_second, per_chat_per_second, None, time.monotonic)
            if per_second or per_chat_per_second
            else None
        )

    def _too_many(self, chat_id: str | None) -> web.Response | None:
        """``429 Quota exceeded`` when a forced one is due or the budget is spent; records the
        send otherwise."""
        limited = False
        if self._rate_limited:
            self._rate_limited -= 1
            limited = True
        elif self._limiter is not None:
            limited = self._limiter.retry_after(chat_id) is not None
            if not limited:
                self._limiter.record(chat_id)
        if not limited:
            return None
        self.too_many_requests_sent += 1
        return _error(429, "Quota exceeded")

    def sent_to(self, chat_id: str) -> list[BotMessage]:
        return [message for message in self.sent if message.chat_id == chat_id]

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        return params

    async def _call(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append(method)
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await self._params(request)
        if method == "getMe":
            return _ok({"id": "1459232241454765289", "account_name": "bot.Phuong"})
        if method == "getUpdates":
            return await self._get_updates(request, float(params.get("timeout") or 30))
        if method == "setWebhook":
            secret = str(params.get("secret_token") or "")
            if not params.get("url") or not 8 <= len(secret) <= 256:
                return _error(400, "Bad Request")
            self.webhook_url, self.webhook_secret = str(params["url"]), secret
            return _ok({"url": self.webhook_url, "updated_at": int(time.time() * 1000)})
        if method == "deleteWebhook":
            self.webhook_url = self.webhook_secret = None
            return _ok({"url": "", "updated_at": int(time.time() * 1000)})
        if method == "sendMessage":
            too_many = self._too_many(str(params.get("chat_id") or "") or None)
            if too_many is not None:
                return too_many
            text = str(params.get("text") or "")
            if not params.get("chat_id") or not 1 <= len(text) <= 2000:
                return _error(400, "Bad Request")
            self.sent.append(BotMessage(str(params["chat_id"]), text))
            return _ok({"message_id": secrets.token_hex(10), "date": int(time.time() * 1000)})
        if method == "sendPhoto":
            return await self._send_photo(params)
        return _error(404, "Not Found")

    async def _send_photo(self, params: dict[str, Any]) -> web.Response:
        too_many = self._too_many(str(params.get("chat_id") or "") or None)
        if too_many is not None:
            return too_many
        url, caption = str(params.get("photo") or ""), str(params.get("caption") or "")
        if not params.get("chat_id") or not url.startswith(("http://", "https://")):
            return _error(400, "Bad Request")
        if "caption" in params and not 1 <= len(caption) <= 2000:  # optional, 1–2,000
            return _error(400, "Bad Request")
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response,
            ):
                body = await response.read()
                kind = response.headers.get("Content-Type", "")
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            return _error(400, "Bad Request: photo could not be fetched")
        if status != 200 or not kind.startswith("image/") or not body:
            return _error(400, "Bad Request: photo is not an image")
        self.sent.append(BotMessage(str(params["chat_id"]), caption, photo=body, photo_url=url))
        return _ok({"message_id": secrets.token_hex(10), "date": int(time.time() * 1000)})

    async def _get_updates(self, request: web.Request, timeout: float) -> web.Response:
        if self.webhook_url:
            return _error(409, "Conflict: webhook is set")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            # A poller that went away (a restart) must not swallow the next event.
            if request.transport is None or request.transport.is_closing():
                return _error(408, "Request timeout")
            try:
                event = await asyncio.wait_for(self._queue.get(), 0.1)
                break
            except TimeoutError:
                if loop.time() >= deadline:
                    return _error(408, "Request timeout")
        if request.transport is None or request.transport.is_closing():
            self._queue.put_nowait(event)
            return _error(408, "Request timeout")
        return _ok(event)

    # -- events from users ------------------------------------------------------------------------

    def _message(self, user: str, **fields: Any) -> dict[str, Any]:
        return {
            "from": {"id": user, "display_name": "Người dùng", "is_bot": False},
            "chat": {"id": user, "chat_type": "PRIVATE"},
            "message_id": secrets.token_hex(10),
            "date": int(time.time() * 1000) + next(self._ids),
            **fields,
        }

    def text_event(self, user: str, text: str) -> dict[str, Any]:
        return {"event_name": "message.text.received", "message": self._message(user, text=text)}

    def image_event(self, user: str, url: str, caption: str | None = None) -> dict[str, Any]:
        message = self._message(user, photo_url=url, caption=caption or "")
        return {"event_name": "message.image.received", "message": message}

    def unsupported_event(self, user: str) -> dict[str, Any]:
        return {"event_name": "message.unsupported.received", "message": self._message(user)}

    async def deliver(self, event: dict[str, Any]) -> int | None:
        """Queue ``event`` for getUpdates, or POST it to the webhook (its HTTP status)."""
        if not self.webhook_url:
            self._queue.put_nowait(event)
            return None
        headers = {"X-Bot-Api-Secret-Token": self.webhook_secret or ""}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self.webhook_url, json={"ok": True, "result": event}, headers=headers
            ) as response,
        ):
            await response.read()
            self.webhook_statuses.append(response.status)
            return response.status


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )
