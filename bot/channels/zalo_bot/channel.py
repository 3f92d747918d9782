"""The Zalo Bot platform (``https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>``), shaped like
Telegram's Bot API, as a :class:`~bot.channels.base.Channel`.

No buttons and no phone sharing: buttons become numbered lines and a typed number (or exact
label) maps back to the button (remembered in the store, bot/channels/plain_text.py); the phone
is typed. Text at most 2,000 characters a message. Updates by long polling ``getUpdates`` or by
a webhook checked with ``X-Bot-Api-Secret-Token``; either way each event goes through the inbox
(bot/channels/inbox.py). Events carry no ``update_id``: ``event_name`` + ``message_id`` identify
one, so a redelivered event is handled once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import Engine

from bot.channels.base import (
    Capabilities,
    DeliveryError,
    Handle,
    PermanentFailure,
    RateLimited,
    TransientFailure,
)
from bot.channels.inbox import Inbox
from bot.channels.plain_text import ButtonMemory, as_numbered, as_plain, text_pieces
from bot.channels.reconnect import FailedPolls, cancel, describe, start_or_retry
from bot.files import PublicFiles, file_message
from handlers.channel import Attachment, Incoming, Outgoing
from handlers.reply_queue import QueuedReplies
from texts import t

log = logging.getLogger(__name__)

CHANNEL = "zalo_bot"
MAX_TEXT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_TIMEOUT = 25
Done = Callable[[str], Awaitable[None]]


def event_id(event: dict[str, Any]) -> str:
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    assert isinstance(message, dict)
    key = f"{event.get('event_name')}:{message.get('message_id')}"
    return key if len(key) <= 64 else "h:" + hashlib.sha256(key.encode()).hexdigest()[:40]


def chat_of(event: dict[str, Any]) -> str:
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    assert isinstance(message, dict)
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    assert isinstance(chat, dict) and isinstance(sender, dict)
    return str(chat.get("id") or sender.get("id") or "")


def incoming_from_event(event: dict[str, Any], *, shows_images: bool = False) -> Incoming | None:
    """The event as an :class:`Incoming`; ``shows_images``: pictures reach this chat (the
    channel has file links, bot/files.py), so a verification code may be a picture."""
    name = str(event.get("event_name") or "")
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    assert isinstance(message, dict)
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    assert isinstance(sender, dict)
    chat = chat_of(event)
    user = str(sender.get("id") or chat)
    if not user or not chat or sender.get("is_bot"):
        return None
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "user_id": user,
        "chat_id": chat,
        "update_id": event_id(event),
        "shows_images": shows_images,
        "message_id": str(message.get("message_id") or "") or None,
        "display_name": str(sender.get("display_name") or "") or None,
    }
    if name == "message.text.received" or (not name and "text" in message):
        text = str(message.get("text") or "")
        if text.startswith("/") and len(text) > 1:
            head, _, payload = text.partition(" ")
            if head[1:].replace("_", "").isalnum():
                return Incoming(
                    **base, text=text, command=head[1:].lower(), payload=payload.strip()
                )
        return Incoming(**base, text=text)
    if name == "message.image.received":
        url = str(message.get("photo_url") or message.get("photo") or "")
        if not url:
            return Incoming(**base, unsupported=True)
        caption = str(message.get("caption") or "") or None
        return Incoming(
            **base, text=caption, attachment=Attachment(kind="photo", file_ref=url[:400])
        )
    if name == "message.sticker.received":
        return Incoming(**base, sticker=True)
    # message.unsupported.received: voice, files, and every message of the "special group"
    # (children, people with disabilities, …) whom the platform only announces. No event
    # carries a shared location: the platform's documented events are text, image, sticker
    # and unsupported only (official docs, copy in lamdt1/ckvn-bot docs/zalo-bot-doc.md,
    # "Webhook" → event_name; OpenClaw's channel handles the same four), so a resident types
    # the address of the problem instead.
    return Incoming(**base, unsupported=True)


class ZaloBotChannel:
    name = CHANNEL
    # Replies through the outbox (issue 12, X4), as for Zalo OA (zalo_oa/channel.py): set by
    # the registry on PostgreSQL; the elected outbox sender sends them through :meth:`send`.
    queues_replies = False
    # Pictures and files go out by link (bot/files.py): a picture with sendPhoto and its URL,
    # a file as a message with its download link. Without PUBLIC_URL, a message says how to
    # get them instead.
    capabilities = Capabilities(
        buttons=False,
        max_buttons=0,
        max_text=MAX_TEXT,
        share_phone=False,
        images=True,
        documents=True,
    )

    def __init__(
        self,
        engine: Engine,
        *,
        token: str,
        api_url: str,
        webhook_url: str | None = None,
        webhook_path: str = "/zalo/bot",
        webhook_secret: str | None = None,
        poll_timeout: int = POLL_TIMEOUT,
        on_done: Done | None = None,
        files: PublicFiles | None = None,
    ) -> None:
        self.engine = engine
        self.files = files
        self._base = f"{api_url.rstrip('/')}/bot{token}/"
        self.webhook_url = webhook_url
        self.webhook_path = webhook_path
        self._secret = webhook_secret or secrets.token_urlsafe(32)
        self._poll_timeout = poll_timeout
        self._http: aiohttp.ClientSession | None = None
        self._handle: Handle | None = None
        self._poller: asyncio.Task[None] | None = None
        self._connecting: asyncio.Task[None] | None = None
        self.buttons = ButtonMemory(engine, CHANNEL)
        self.inbox = Inbox(engine, CHANNEL, self._process, chat_of, on_done=on_done)

    # -- the Channel protocol ---------------------------------------------------------------------

    async def start(self, handle: Handle) -> None:
        self._handle = handle
        self._session()
        await self.inbox.start()
        # Out of reach (bot/channels/reconnect.py): tried again in the background.
        self._connecting = await start_or_retry("Zalo Bot", self._connect)

    async def _connect(self) -> None:
        if self.webhook_url:
            url = self.webhook_url.rstrip("/")
            if not url.endswith(self.webhook_path):
                url += self.webhook_path
            await self.call("setWebhook", {"url": url, "secret_token": self._secret})
            log.info("Zalo Bot: webhook set")
        else:
            await self.call("deleteWebhook", {})
            self._poller = asyncio.create_task(self._poll(), name="zalo-bot-poll")

    async def stop(self) -> None:
        connecting, self._connecting = self._connecting, None
        await cancel(connecting)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.inbox.stop()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.post(self.webhook_path, self.webhook)] if self.webhook_url else []

    def pieces(self, message: Outgoing) -> list[Outgoing]:
        return self._plain_pieces(as_plain(message))

    def _plain_pieces(self, message: Outgoing) -> list[Outgoing]:
        """Text pieces of at most 2,000 characters, then the picture and the file as pieces of
        their own (sent by link, see :meth:`_send_piece`)."""
        body = replace(message, image=None, document=None)
        if message.ask_contact:
            body = replace(body, ask_contact=None, text=body.text + "\n" + t("zalo.bot.type_phone"))
        attached = message.image is not None or message.document is not None
        pieces = text_pieces(body, MAX_TEXT) if body.text.strip() or not attached else []
        if message.image is not None:
            pieces.append(Outgoing(text="", image=message.image, extra=message.extra))
        if message.document is not None:
            pieces.append(Outgoing(text="", document=message.document, extra=message.extra))
        return pieces

    async def send(self, chat_id: str, message: Outgoing) -> None:
        """One piece from outside a turn (the outbox): numbered after the buttons shown."""
        await self.send_prepared(chat_id, await self.prepare(chat_id, message))

    async def prepare(self, chat_id: str, message: Outgoing) -> Outgoing:
        """The buttons remembered (a database write, outside the rate limiter's turn: see
        bot/channels/base.py's PreparesMessages) and numbered in the text."""
        if message.buttons:
            message = as_numbered(message, await self.buttons.add(chat_id, message))
        return message

    async def send_prepared(self, chat_id: str, message: Outgoing) -> None:
        await self._send_piece(chat_id, message)

    # -- receiving --------------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            return web.Response(status=401)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400)
        for event in _events(body):
            await self.inbox.put(event_id(event), event)
        return web.json_response({"ok": True})

    async def _poll(self) -> None:
        """Long polling; a platform out of reach is polled again after the delays of
        bot/channels/reconnect.py, with its warnings (one an hour once they stop growing)."""
        polls = FailedPolls()
        while True:
            try:
                body = await self._request(
                    "getUpdates", {"timeout": str(self._poll_timeout)}, self._poll_timeout + 10
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:
                level, delay = polls.failure(error)
                log.log(
                    level,
                    "Zalo Bot getUpdates failed (%s in %s min: %s); polling again in %.0f s",
                    polls.failed,
                    polls.reports.minutes(),
                    describe(error),
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            if failed := polls.reached():
                log.info("Zalo Bot reached again after %s failed polls", failed)
            for event in _events(body):
                await self.inbox.put(event_id(event), event)

    async def _process(self, event: dict[str, object]) -> None:
        incoming = incoming_from_event(event, shows_images=self._links)  # type: ignore[arg-type]
        if incoming is None or self._handle is None:
            return
        if incoming.text is not None and not incoming.command and not incoming.attachment:
            data = await self.buttons.resolve(incoming.chat_id, incoming.text)
            if data is not None:
                incoming = replace(incoming, text=None, button=data)
        replies = await self._handle(incoming)
        if isinstance(replies, QueuedReplies):  # committed with the turn: the outbox sends them
            return
        firsts = await self.buttons.after_turn(incoming.chat_id, replies)
        for reply, first in zip(replies, firsts, strict=True):
            for piece in self._plain_pieces(as_numbered(as_plain(reply), first)):
                try:
                    await self._send_piece(incoming.chat_id, piece)
                except RateLimited as limit:
                    await asyncio.sleep(min(limit.retry_after, 30))
                    await self._send_piece(incoming.chat_id, piece)
                except DeliveryError as failure:
                    log.warning("Zalo Bot reply not delivered: %s", failure.reason)
                    return

    # -- sending ----------------------------------------------------------------------------------

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return self._http

    @property
    def _links(self) -> bool:
        return self.files is not None and self.files.enabled

    async def _send_piece(self, chat_id: str, piece: Outgoing) -> None:
        if piece.image is not None:
            await self._send_picture(chat_id, piece.image, piece.extra.get("file_name"))
        elif piece.document is not None:
            await self._send_text(chat_id, file_message(self.files, *piece.document))
        else:
            await self._send_text(chat_id, piece.text)

    async def _send_picture(self, chat_id: str, picture: bytes, name: str | None) -> None:
        """``sendPhoto`` with the picture's link: the platform fetches it from our address."""
        url = self.files.link(name or "anh.png", picture) if self.files is not None else None
        if url is None:
            await self._send_text(chat_id, t("files.picture_no_link"))
            return
        # No caption: the docs allow one of 1 to 2,000 characters; the text went before.
        await self.call("sendPhoto", {"chat_id": chat_id, "photo": url})

    async def _send_text(self, chat_id: str, text: str) -> None:
        await self.call("sendMessage", {"chat_id": chat_id, "text": text.strip() or "…"})

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        return (await self._request(method, params, 30)).get("result")

    async def _request(self, method: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            async with self._session().post(
                self._base + method, json=params, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                status = response.status
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = {}
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientFailure(f"Zalo Bot: {type(error).__name__}") from error
        if not isinstance(body, dict):
            body = {}
        if body.get("ok"):
            return body
        code = int(body.get("error_code") or status)
        reason = f"Zalo Bot {method}: {code} {body.get('description', '')}".strip()
        if code == 408 and method == "getUpdates":
            return {"ok": True, "result": []}
        if code == 429:
            raise RateLimited(float(body.get("retry_after") or 1), reason)
        if code in (401, 404) or code >= 500 or code == 408:
            raise TransientFailure(reason)  # a wrong token or address fails every call
        raise PermanentFailure(reason)


def _events(body: Any) -> list[dict[str, Any]]:
    """The events of a getUpdates answer or a webhook body: ``result`` is one event (as the
    docs show) or a list of them."""
    result = body.get("result") if isinstance(body, dict) and "result" in body else body
    if isinstance(result, list):
        return [event for event in result if isinstance(event, dict)]
    return [result] if isinstance(result, dict) and result else []
