"""Zalo Official Account (Open API v3) as a :class:`~bot.channels.base.Channel`.

Receiving: a signed webhook (bot/channels/zalo_oa/signature.py) stores each event in the inbox
and answers 200 at once; the inbox (bot/channels/inbox.py) hands events to the conversations.
Sending: ``POST /v3.0/oa/message/cs`` with the ``access_token`` header; text at most 2,000
characters a message; buttons as template buttons (``oa.query.show``, whose tap comes back as
the button's payload in a text), numbered text past the template's limit; the phone request
as the ``request_user_info`` template. Zalo answers errors as HTTP 200 with a non-zero
``error``, mapped here to the shared failures.

Pictures and files are uploaded first (multipart, field ``file``, the ``access_token`` header),
then sent by reference (zaloplatform/zalo-php-sdk ``src/Builder/MessageBuilder.php``):

* a picture (JPEG or PNG, at most 1 MB): ``POST /v2.0/oa/upload/image`` answers
  ``data.attachment_id``, sent as ``{"attachment": {"type": "template", "payload":
  {"template_type": "media", "elements": [{"media_type": "image", "attachment_id"}]}}}``;
* a file (at most 5 MB): ``POST /v2.0/oa/upload/file`` answers ``data.token``, sent as
  ``{"attachment": {"type": "file", "payload": {"token"}}}``. The upload takes PDF, DOC and
  DOCX only (the SDK @warriorteam/redai-zalo-sdk ``message-management.service``: "Hỗ trợ các
  định dạng: PDF, DOC, DOCX"; nextlevelbuilder/goclaw ``internal/channels/zalo/oa``:
  "/v2.0/oa/upload/file accepts PDF/DOC/DOCX only"), so a calendar file (``.ics``) or a
  spreadsheet goes as a message with its download link (bot/files.py), or, without
  ``PUBLIC_URL``, a message saying how to get it. Nothing is dropped.

Uploaded ids expire after 7 days and an OA has 5,000 uploads a month (research §1a): the same
bytes are uploaded once and their id reused for 6 days; an id Zalo no longer accepts is
uploaded again once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.channels.base import (
    Capabilities,
    DeliveryError,
    Handle,
    OutsideReplyWindow,
    PermanentFailure,
    RateLimited,
    TransientFailure,
)
from bot.channels.inbox import Inbox
from bot.channels.plain_text import ButtonMemory, as_numbered, as_plain, in_store, text_pieces
from bot.channels.zalo_oa.events import CHANNEL, event_id, incoming_from_event, user_of
from bot.channels.zalo_oa.signature import HEADER, matching_variant
from bot.channels.zalo_oa.tokens import TokenKeeper
from bot.files import PublicFiles, file_message
from handlers.channel import Incoming, Outgoing
from handlers.reply_queue import QueuedReplies
from storage.tables import ChannelAccount, Person
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MESSAGE_PATH = "/v3.0/oa/message/cs"
MAX_TEXT = 2000
# The template's limit on buttons is not documented for sure (research §1a: 5, unverified).
MAX_BUTTONS = 5
EXPIRED_TOKEN = {-216, -220}
OUTSIDE_WINDOW = {-230}  # "the user has not interacted with the OA in the last 7 days"
# "request rate exceeded"-like answers (unverified codes) and the quota of free replies.
RATE_LIMIT = {-32}
TRANSIENT = {-1, -234}  # server error; promotional sends refused at night
NOT_DELIVERED = "not delivered: outside Zalo's reply window"
Done = Any
UPLOAD_IMAGE_PATH = "/v2.0/oa/upload/image"
UPLOAD_FILE_PATH = "/v2.0/oa/upload/file"
IMAGE_LIMIT = 1024 * 1024  # 1 MB
FILE_LIMIT = 5 * 1024 * 1024  # 5 MB
FILE_TYPES = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
REUSE_UPLOAD = 6 * 86400  # attachment ids expire after 7 days
KEPT_UPLOADS = 256
# What a piece's attachment keeps of the message's extra (never "kind": a notice by template
# outside the reply window is sent for the text, once).
ATTACHMENT_EXTRA = ("file_name", "alt")


@dataclass(frozen=True)
class TemplatePlan:
    """An approved template for status notices outside the reply window, sent to the
    verified phone: its id, and template parameter → message field (``Outgoing.extra``)."""

    template_id: str
    params: dict[str, str]
    url: str

    @classmethod
    def parse(cls, template_id: str | None, params: str, url: str) -> TemplatePlan | None:
        if not template_id:
            return None
        pairs = [item.split("=", 1) for item in params.split(",") if "=" in item]
        return cls(template_id, {k.strip(): v.strip() for k, v in pairs}, url)


class ZaloOAChannel:
    name = CHANNEL
    # Replies through the outbox (issue 12, X4; on PostgreSQL by default, set by the registry):
    # the conversation queues them in the turn's transaction and the elected outbox sender sends
    # them through :meth:`send`, under this channel's limiter; a worker killed after its commit
    # loses none. Otherwise (SQLite, one process) the turn's replies are sent here directly.
    queues_replies = False
    capabilities = Capabilities(
        buttons=True,
        max_buttons=MAX_BUTTONS,
        max_text=MAX_TEXT,
        share_phone=True,
        images=True,
        documents=True,
        edit=False,
    )

    def __init__(
        self,
        engine: Engine,
        *,
        app_id: str,
        app_secret: str,
        oa_secret_key: str,
        api_url: str,
        oauth_url: str,
        webhook_path: str = "/zalo/oa",
        template: TemplatePlan | None = None,
        on_done: Done | None = None,
        http: aiohttp.ClientSession | None = None,
        files: PublicFiles | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.files = files
        self._clock = clock
        # (kind, digest of the bytes) -> (attachment id or file token, when it was uploaded)
        self._uploads: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()
        self.app_id = app_id
        self._app_secret = app_secret
        self._oa_secret_key = oa_secret_key
        self._api_url = api_url.rstrip("/")
        self._oauth_url = oauth_url
        self.webhook_path = webhook_path
        self.template = template
        self._http = http
        self._own_http = http is None
        self._tokens: TokenKeeper | None = None
        self._handle: Handle | None = None
        self.buttons = ButtonMemory(engine, CHANNEL)
        self.inbox = Inbox(engine, CHANNEL, self._process, user_of, on_done=on_done)
        self.signature_variants: dict[str, int] = {}  # which variant matched, how often

    # -- the Channel protocol ---------------------------------------------------------------------

    async def start(self, handle: Handle) -> None:
        self._handle = handle
        self._session()
        await self.inbox.start()  # unhandled events stored before a crash are handled now

    async def stop(self) -> None:
        await self.inbox.stop()
        if self._own_http and self._http is not None:
            await self._http.close()
            self._http = None

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.post(self.webhook_path, self.webhook), web.get(self.webhook_path, self._alive)]

    def pieces(self, message: Outgoing) -> list[Outgoing]:
        """Plain-text pieces of at most 2,000 characters; the phone request as a piece of its
        own (the ``request_user_info`` template)."""
        return self._plain_pieces(as_plain(message))

    def _plain_pieces(self, message: Outgoing) -> list[Outgoing]:
        body = replace(message, ask_contact=None, image=None, document=None)
        pieces = text_pieces(body, MAX_TEXT) if body.text.strip() or body.buttons else []
        if message.ask_contact:
            pieces.append(Outgoing(text="", ask_contact=message.ask_contact, extra=message.extra))
        extra = {key: value for key, value in message.extra.items() if key in ATTACHMENT_EXTRA}
        if message.image is not None:
            pieces.append(Outgoing(text="", image=message.image, extra=extra))
        if message.document is not None:
            pieces.append(Outgoing(text="", document=message.document, extra=extra))
        return pieces or [Outgoing(text=" ", extra=message.extra)]

    async def send(self, chat_id: str, message: Outgoing) -> None:
        """One piece from outside a conversation turn (the outbox): its buttons are added to
        those the chat can answer by number or label."""
        await self.send_prepared(chat_id, await self.prepare(chat_id, message))

    async def prepare(self, chat_id: str, message: Outgoing) -> Outgoing:
        """The buttons remembered (a database write, outside the rate limiter's turn: see
        bot/channels/base.py's PreparesMessages), numbered beyond what Zalo shows."""
        if message.buttons:
            first = await self.buttons.add(chat_id, message)
            if _count(message) > MAX_BUTTONS:
                message = as_numbered(message, first)
        return message

    async def send_prepared(self, chat_id: str, message: Outgoing) -> None:
        try:
            await self._deliver(chat_id, message)
        except OutsideReplyWindow:
            if await self._send_template(chat_id, message):
                return
            raise OutsideReplyWindow(NOT_DELIVERED) from None

    # -- receiving --------------------------------------------------------------------------------

    async def _alive(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            payload = json.loads(raw)
        except ValueError:
            return web.Response(status=400)
        if not isinstance(payload, dict):
            return web.Response(status=400)
        variant = matching_variant(
            request.headers.get(HEADER),
            raw,
            payload,
            app_id=self.app_id,
            oa_secret_key=self._oa_secret_key,
            app_secret=self._app_secret,
        )
        if variant is None:
            log.warning("Zalo OA webhook: bad signature, refused")
            return web.Response(status=401)
        if variant not in self.signature_variants:
            log.info("Zalo OA webhook signature variant: %s", variant)
        self.signature_variants[variant] = self.signature_variants.get(variant, 0) + 1
        await self.inbox.put(event_id(payload), payload)
        return web.json_response({"ok": True})

    async def _process(self, payload: dict[str, object]) -> None:
        incoming = incoming_from_event(payload)  # type: ignore[arg-type]
        if incoming is None or self._handle is None:
            return
        incoming = await self._as_button(incoming)
        replies = await self._handle(incoming)
        if isinstance(replies, QueuedReplies):  # committed with the turn: the outbox sends them
            return
        firsts = await self.buttons.after_turn(incoming.chat_id, replies)
        for reply, first in zip(replies, firsts, strict=True):
            reply = as_plain(reply)
            if _count(reply) > MAX_BUTTONS:
                reply = as_numbered(reply, first)
            for piece in self._plain_pieces(reply):
                await self._reply(incoming.chat_id, piece)

    async def _as_button(self, incoming: Incoming) -> Incoming:
        """A text that is a number or a label of a button shown in this chat is that button."""
        if incoming.text is None or incoming.command or incoming.attachment:
            return incoming
        data = await self.buttons.resolve(incoming.chat_id, incoming.text)
        return incoming if data is None else replace(incoming, text=None, button=data)

    async def _reply(self, chat_id: str, piece: Outgoing) -> None:
        """A reply of a turn: a 429 waits once; then, like any other failure, it is logged (the
        turn is done and claimed: handling the event again would not answer again)."""
        for attempt in range(2):
            try:
                await self._deliver(chat_id, piece)
                return
            except RateLimited as limit:
                if attempt:
                    log.warning("Zalo OA reply not delivered: %s", limit.reason)
                    return
                await asyncio.sleep(min(limit.retry_after, 30))
            except DeliveryError as failure:
                log.warning("Zalo OA reply not delivered: %s", failure.reason)
                return

    # -- sending ----------------------------------------------------------------------------------

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        if self._tokens is None:
            self._tokens = TokenKeeper(
                self.engine,
                self._http,
                oauth_url=self._oauth_url,
                app_id=self.app_id,
                app_secret=self._app_secret,
            )
        return self._http

    @property
    def tokens(self) -> TokenKeeper:
        self._session()
        assert self._tokens is not None
        return self._tokens

    def body_of(self, chat_id: str, piece: Outgoing) -> dict[str, Any]:
        """The ``/message/cs`` request for one piece."""
        recipient = {"user_id": chat_id}
        if piece.ask_contact:
            element = {
                "title": piece.ask_contact,
                "subtitle": piece.text or piece.ask_contact,
            }
            payload = {"template_type": "request_user_info", "elements": [element]}
            return {
                "recipient": recipient,
                "message": {"attachment": {"type": "template", "payload": payload}},
            }
        message: dict[str, Any] = {"text": piece.text or " "}
        if piece.buttons:
            buttons = [
                {"title": b.label, "type": "oa.query.show", "payload": b.label}
                for row in piece.buttons
                for b in row
            ]
            message["attachment"] = {"type": "template", "payload": {"buttons": buttons}}
        return {"recipient": recipient, "message": message}

    async def _deliver(self, chat_id: str, piece: Outgoing) -> None:
        if piece.image is not None:
            await self._send_picture(chat_id, piece.image, piece.extra.get("file_name"))
        elif piece.document is not None:
            await self._send_file(chat_id, *piece.document)
        else:
            await self.call(MESSAGE_PATH, self.body_of(chat_id, piece))

    # -- pictures and files -----------------------------------------------------------------------

    async def _send_picture(self, chat_id: str, picture: bytes, name: str | None) -> None:
        """A JPEG or PNG of at most 1 MB as an uploaded image; anything else by link."""
        name = name or "anh.png"
        if len(picture) <= IMAGE_LIMIT and picture_type(picture):

            def media(attachment_id: str) -> dict[str, Any]:
                element = {"media_type": "image", "attachment_id": attachment_id}
                payload = {"template_type": "media", "elements": [element]}
                attachment = {"type": "template", "payload": payload}
                return {"recipient": {"user_id": chat_id}, "message": {"attachment": attachment}}

            if await self._send_uploaded("image", name, picture, media):
                return
        await self._send_text(chat_id, file_message(self.files, name, picture))

    async def _send_file(self, chat_id: str, name: str, content: bytes) -> None:
        """A PDF or Word file of at most 5 MB as an uploaded file; anything else (a calendar
        file, a spreadsheet) as its download link."""
        if Path(name).suffix.lower() in FILE_TYPES and len(content) <= FILE_LIMIT:

            def file(token: str) -> dict[str, Any]:
                attachment = {"type": "file", "payload": {"token": token}}
                return {"recipient": {"user_id": chat_id}, "message": {"attachment": attachment}}

            if await self._send_uploaded("file", name, content, file):
                return
        await self._send_text(chat_id, file_message(self.files, name, content))

    async def _send_text(self, chat_id: str, text: str) -> None:
        await self.call(MESSAGE_PATH, self.body_of(chat_id, Outgoing(text=text)))

    async def _send_uploaded(
        self,
        kind: str,
        name: str,
        content: bytes,
        body: Callable[[str], dict[str, Any]],
    ) -> bool:
        """Send the message ``body`` builds around the uploaded ``content``; False when Zalo
        refuses the upload itself (the caller then sends a link). A reused id Zalo no longer
        accepts is uploaded again, once."""
        key = (kind, hashlib.sha256(content).hexdigest())
        kept = self._uploads.get(key)
        reused = kept is not None and self._clock() - kept[1] < REUSE_UPLOAD
        if kept is not None and reused:
            reference = kept[0]
        else:
            try:
                reference = await self._upload(kind, name, content)
            except OutsideReplyWindow:
                raise
            except PermanentFailure as refused:
                log.warning("Zalo OA %s upload refused: %s", kind, refused.reason)
                return False
        try:
            await self.call(MESSAGE_PATH, body(reference))
        except OutsideReplyWindow:
            raise
        except PermanentFailure:
            if not reused:
                raise
            self._uploads.pop(key, None)
            await self.call(MESSAGE_PATH, body(await self._upload(kind, name, content)))
        return True

    async def _upload(self, kind: str, name: str, content: bytes) -> str:
        """Upload ``content``; its attachment id (a picture) or token (a file)."""
        path = UPLOAD_IMAGE_PATH if kind == "image" else UPLOAD_FILE_PATH
        if kind == "image":
            mime = picture_type(content) or "image/png"
        else:
            mime = FILE_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("file", content, filename=name, content_type=mime)
            return data

        answer = await self._authorized(self._api_url + path, lambda: {"data": form()})
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        assert isinstance(data, dict)
        reference = str(data.get("attachment_id" if kind == "image" else "token") or "")
        if not reference:
            raise PermanentFailure(f"Zalo OA {kind} upload: no reference in the answer")
        self._uploads[(kind, hashlib.sha256(content).hexdigest())] = (reference, self._clock())
        while len(self._uploads) > KEPT_UPLOADS:
            self._uploads.popitem(last=False)
        return reference

    async def call(self, path_or_url: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` with the access token; an expired token is refreshed once."""
        url = path_or_url if "://" in path_or_url else self._api_url + path_or_url
        return await self._authorized(url, lambda: {"json": body})

    async def _authorized(self, url: str, request: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """POST what ``request`` gives (``json=`` or ``data=``) with the access token; an
        expired token is refreshed once."""
        for attempt in range(2):
            try:
                token, generation = await self.tokens.access_token()
            except PermanentFailure as refused:  # every send fails until new tokens are given
                raise TransientFailure(f"Zalo OA tokens: {refused.reason}") from refused
            status, answer = await self._post(url, request(), token)
            code = _error_code(answer)
            if status == 401 or code in EXPIRED_TOKEN:
                if attempt:
                    raise TransientFailure(f"Zalo access token refused (error {code})")
                try:
                    await self.tokens.refresh(generation)
                except PermanentFailure as refused:
                    raise TransientFailure(f"Zalo OA tokens: {refused.reason}") from refused
                continue
            _raise_for(status, code, answer)
            return answer
        raise TransientFailure("unreachable")

    async def _post(
        self, url: str, arguments: dict[str, Any], token: str
    ) -> tuple[int, dict[str, Any]]:
        try:
            async with self._session().post(
                url, headers={"access_token": token}, **arguments
            ) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = {}
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientFailure(f"Zalo OA: {type(error).__name__}") from error
        if status == 429:
            raise RateLimited(float(retry_after or 1))
        return status, answer if isinstance(answer, dict) else {}

    async def _send_template(self, chat_id: str, message: Outgoing) -> bool:
        """A status notice by the approved template to the verified phone; False when there is
        no template, the message is not a notice, or the person has no verified phone."""
        plan = self.template
        if plan is None or "kind" not in message.extra:
            return False
        phone = await in_store(self.engine, verified_phone_of, chat_id)
        if phone is None:
            return False
        data = {name: message.extra.get(field, "") for name, field in plan.params.items()}
        tracking = hashlib.sha256(f"{chat_id}|{message.text}".encode()).hexdigest()[:32]
        body = {
            "phone": phone.removeprefix("+"),
            "template_id": plan.template_id,
            "template_data": data,
            "tracking_id": tracking,
        }
        await self.call(plan.url, body)
        log.info("Zalo OA notice sent by template outside the reply window")
        return True


def verified_phone_of(uow: UnitOfWork, chat_id: str) -> str | None:
    """The verified phone of the person behind a Zalo OA chat, if any."""
    phone = uow.session.exec(
        select(Person.phone_e164)
        .join(ChannelAccount, col(ChannelAccount.person_id) == col(Person.id))
        .where(ChannelAccount.channel == CHANNEL)
        .where(ChannelAccount.chat_id == chat_id)
        .where(col(Person.phone_verified))
    ).first()
    return phone or None


def picture_type(picture: bytes) -> str | None:
    """The type of a picture Zalo's image upload takes (JPEG or PNG), or None."""
    if picture.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if picture.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def _count(message: Outgoing) -> int:
    return sum(len(row) for row in message.buttons)


def _error_code(answer: dict[str, Any]) -> int:
    try:
        return int(answer.get("error", 0) or 0)
    except (TypeError, ValueError):
        return 0


def _raise_for(status: int, code: int, answer: dict[str, Any]) -> None:
    reason = f"Zalo OA HTTP {status} error {code}"
    if status >= 500:
        raise TransientFailure(reason)
    if code == 0 and status < 400:
        return
    if code in OUTSIDE_WINDOW:
        raise OutsideReplyWindow(NOT_DELIVERED)
    if code in RATE_LIMIT:
        raise RateLimited(60.0, reason)
    if code in TRANSIENT:
        raise TransientFailure(reason)
    raise PermanentFailure(reason)
