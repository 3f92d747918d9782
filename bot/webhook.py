"""The webhook server: Telegram POSTs updates here; the secret token header must match."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram/webhook"
Feed = Callable[[dict[str, Any]], Awaitable[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# An update is a few kilobytes; Telegram's largest (a long message with entities) stays far below.
MAX_BODY_BYTES = 1024 * 1024


async def _update_of(request: web.Request) -> dict[str, Any] | None:
    """The body as an update: a JSON object with an integer ``update_id``; else None."""
    try:
        body = await request.read()
        update = json.loads(body)
    except (ValueError, RecursionError, web.HTTPException):
        return None
    if not isinstance(update, dict):
        return None
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    return update


def webhook_handler(feed: Feed, secret: str) -> Handler:
    """The POST handler of the webhook route: the secret token checked, the update fed."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8")):
            return web.Response(status=401)
        update = await _update_of(request)
        if update is None:
            # Not an update (malformed JSON, an array, a string, an empty body): refused, no
            # traceback; Telegram never sends one, so nothing is lost.
            log.warning("webhook: a body that is not an update was refused")
            return web.Response(status=400, text="not an update")
        try:
            await feed(update)
        except Exception:  # answer 200 anyway: Telegram would redeliver forever otherwise
            log.exception("update %s failed", update.get("update_id"))
        return web.Response(text="ok")

    return receive


def webhook_app(feed: Feed, secret: str) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(WEBHOOK_PATH, webhook_handler(feed, secret))
    return app
