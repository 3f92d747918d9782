"""The webhook server: Telegram POSTs updates here; the secret token header must match."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram/webhook"
Feed = Callable[[dict[str, Any]], Awaitable[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def webhook_handler(feed: Feed, secret: str) -> Handler:
    """The POST handler of the webhook route: the secret token checked, the update fed."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given, secret):
            return web.Response(status=401)
        update = await request.json()
        try:
            await feed(update)
        except Exception:  # answer 200 anyway: Telegram would redeliver forever otherwise
            log.exception("update %s failed", update.get("update_id"))
        return web.Response(text="ok")

    return receive


def webhook_app(feed: Feed, secret: str) -> web.Application:
    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, webhook_handler(feed, secret))
    return app
