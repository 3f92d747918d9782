"""A fake Zalo Official Account Open API (v3) and OAuth server on 127.0.0.1.

What it does, in Zalo's terms (shared/research/channels.md §1a):

* ``POST /v3.0/oa/message/cs`` with the ``access_token`` header: text (at most 2,000
  characters), template buttons, the ``request_user_info`` template. Errors come back as HTTP
  200 with a non-zero ``error``: an unknown token ``-216``, an expired one ``-220`` (or HTTP 401
  with :attr:`FakeZaloOA.expired_as_401`), a user outside the reply window ``-230``, text too
  long ``-201``; :meth:`rate_limit` answers HTTP 429 with ``Retry-After``, :meth:`fail_next`
  any body.
* ``POST /v4/oa/access_token`` (form, header ``secret_key``): refresh tokens are single-use
  and rotate; a used one answers ``{"error": -14020}``. Access tokens expire after
  ``expires_in`` seconds (a string, as Zalo sends it) or at once with :meth:`expire_access`.
* ``POST /v2.0/oa/upload/image`` and ``/v2.0/oa/upload/file`` (multipart, field ``file``, the
  ``access_token`` header): a JPEG or PNG of at most 1 MB answers ``data.attachment_id``; a
  PDF, DOC or DOCX of at most 5 MB answers ``data.token``; anything else, too big, or missing
  is refused with a non-zero ``error`` (the codes are this fake's, unverified). Uploaded ids
  expire after 7 days (:meth:`age_uploads` moves the fake's clock).
* ``/message/cs`` with ``{"type": "template", "payload": {"template_type": "media",
  "elements": [{"media_type": "image", "attachment_id"}]}}`` or ``{"type": "file", "payload":
  {"token"}}``: an unknown or expired id is refused (``-201``); the message is recorded with
  the picture's or the file's bytes.
* ``POST /message/template``: a template message by phone (ZBS), recorded.
* :meth:`flood_control` (off by default) answers HTTP 429 to a message or upload over a global
  or a per-user budget a second (Zalo publishes no figure: the caller chooses one);
  ``too_many_requests_sent`` counts every 429 answered, forced or over budget.
* :meth:`post_event` signs an event as Zalo does (``mac=`` + SHA-256 of app id + raw body +
  timestamp + OA secret key; the other documented variants on request) and POSTs it to a
  webhook.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fake_telegram.limits import RateLimiter

APP_ID = "1234567890123456789"
OA_ID = "579745863508352884"
APP_SECRET = "app-secret-FAKE"
OA_SECRET_KEY = "oa-secret-key-FAKE"


UPLOAD_DAYS = 7
IMAGE_LIMIT = 1024 * 1024
FILE_LIMIT = 5 * 1024 * 1024
FILE_MAGIC = {".pdf": (b"%PDF",), ".doc": (b"\xd0\xcf\x11\xe0",), ".docx": (b"PK\x03\x04",)}
REFUSED_UPLOAD = -210  # this fake's code for a refused upload (too big, wrong type)
INVALID = -201


@dataclass
class Upload:
    kind: str  # "image" or "file"
    name: str
    content: bytes
    reference: str  # attachment_id or token
    at: float  # the fake's clock


@dataclass
class SentMessage:
    user_id: str
    body: dict[str, Any]
    image: bytes | None = None  # the uploaded picture a media message showed
    file: tuple[str, bytes] | None = None  # the uploaded file a file message carried

    @property
    def text(self) -> str:
        return str(self.body.get("message", {}).get("text") or "")

    @property
    def template(self) -> dict[str, Any]:
        attachment = self.body.get("message", {}).get("attachment") or {}
        return attachment.get("payload") or {}

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return list(self.template.get("buttons") or [])

    @property
    def asks_user_info(self) -> bool:
        return self.template.get("template_type") == "request_user_info"


@dataclass
class FakeZaloOA:
    app_id: str = APP_ID
    oa_id: str = OA_ID
    app_secret: str = APP_SECRET
    oa_secret_key: str = OA_SECRET_KEY
    expires_in: int = 90000
    expired_as_401: bool = False
    sent: list[SentMessage] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    outside_window: set[str] = field(default_factory=set)
    refresh_calls: list[str] = field(default_factory=list)
    refresh_delay: float = 0.0
    _access: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    _refresh: dict[str, bool] = field(default_factory=dict)  # token -> still valid
    _failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _rate_limited: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    uploads: list[Upload] = field(default_factory=list)
    _clock_offset: float = 0.0
    _runner: web.AppRunner | None = None
    base_url: str = ""
    port: int = 0  # 0: the system chooses
    too_many_requests_sent: int = 0
    _limiter: RateLimiter | None = None

    # -- life -------------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._cs)
        app.router.add_post("/v4/oa/access_token", self._oauth)
        app.router.add_post("/message/template", self._template)
        app.router.add_post("/v2.0/oa/upload/image", self._upload_image)
        app.router.add_post("/v2.0/oa/upload/file", self._upload_file)
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

    @property
    def template_url(self) -> str:
        return self.base_url + "/message/template"

    # -- tokens -----------------------------------------------------------------------------------

    def issue_tokens(self, expires_in: int | None = None) -> tuple[str, str, int]:
        """A fresh pair, as the first grant gives it: (access, refresh, expires_in)."""
        access, refresh = "acc-" + secrets.token_hex(8), "ref-" + secrets.token_hex(8)
        seconds = self.expires_in if expires_in is None else expires_in
        self._access[access] = time.monotonic() + seconds
        self._refresh[refresh] = True
        return access, refresh, seconds

    def expire_access(self) -> None:
        for token in self._access:
            self._access[token] = 0.0

    def refresh_token_valid(self, token: str) -> bool:
        return self._refresh.get(token, False)

    async def _oauth(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (
            request.headers.get("secret_key") != self.app_secret
            or form.get("app_id") != self.app_id
        ):
            return web.json_response({"error": -14002, "error_name": "Invalid app"})
        if form.get("grant_type") != "refresh_token":
            return web.json_response({"error": -14003, "error_name": "Invalid grant"})
        token = str(form.get("refresh_token") or "")
        self.refresh_calls.append(token)
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        if not self._refresh.get(token):
            return web.json_response(
                {"error": -14020, "error_name": "Invalid refresh token", "error_description": ""}
            )
        self._refresh[token] = False  # single use
        access, refresh, seconds = self.issue_tokens()
        return web.json_response(
            {"access_token": access, "refresh_token": refresh, "expires_in": str(seconds)}
        )

    def _token_error(self, request: web.Request) -> web.Response | None:
        token = request.headers.get("access_token", "")
        expiry = self._access.get(token)
        if expiry is None:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        if expiry <= time.monotonic():
            if self.expired_as_401:
                return web.json_response({"error": 401}, status=401)
            return web.json_response({"error": -220, "message": "Access token has expired"})
        return None

    # -- faults -----------------------------------------------------------------------------------

    def fail_next(self, body: dict[str, Any], status: int = 200, times: int = 1) -> None:
        self._failures.extend([(status, body)] * times)

    def rate_limit(self, times: int = 1) -> None:
        self._rate_limited += times

    def flood_control(
        self, per_second: float | None, per_user_per_second: float | None = None
    ) -> None:
        """Answer 429 to messages and uploads over these budgets (sliding windows, as the fake
        Telegram's); ``None`` for both: no flood control."""
        self._limiter = (
            RateLimiter(per_second, per_user_per_second, None, time.monotonic)
            if per_second or per_user_per_second
            else None
        )

    def _too_many(self, user: str | None) -> web.Response | None:
        """The 429 answer when a forced one is due or the budget is spent; records the call
        otherwise."""
        wait: float | None = None
        if self._rate_limited:
            self._rate_limited -= 1
            wait = 0.05
        elif self._limiter is not None:
            wait = self._limiter.retry_after(user)
            if wait is None:
                self._limiter.record(user)
        if wait is None:
            return None
        self.too_many_requests_sent += 1
        return web.json_response({"error": 429}, status=429, headers={"Retry-After": str(wait)})

    # -- uploads ----------------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._clock_offset

    def age_uploads(self, seconds: float) -> None:
        """Move the fake's clock: uploaded ids older than 7 days are refused."""
        self._clock_offset += seconds

    def _valid_upload(self, kind: str, reference: object) -> Upload | None:
        for upload in self.uploads:
            if upload.kind == kind and upload.reference == reference:
                return upload if self.now() - upload.at < UPLOAD_DAYS * 86400 else None
        return None

    async def _received_file(self, request: web.Request) -> tuple[str, bytes] | web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        too_many = self._too_many(None)
        if too_many is not None:
            return too_many
        if self._failures:
            status, body = self._failures.pop(0)
            return web.json_response(body, status=status)
        if not request.content_type.startswith("multipart/"):
            return web.json_response({"error": INVALID, "message": "multipart is required"})
        form = await request.post()
        part = form.get("file")
        if not isinstance(part, web.FileField):
            return web.json_response({"error": INVALID, "message": "file is missing"})
        return part.filename or "", part.file.read()

    def _uploaded(self, kind: str, name: str, content: bytes) -> web.Response:
        reference = secrets.token_hex(16)
        self.uploads.append(Upload(kind, name, content, reference, self.now()))
        key = "attachment_id" if kind == "image" else "token"
        return web.json_response({"error": 0, "message": "Success", "data": {key: reference}})

    async def _upload_image(self, request: web.Request) -> web.Response:
        received = await self._received_file(request)
        if isinstance(received, web.Response):
            return received
        name, content = received
        if len(content) > IMAGE_LIMIT:
            return web.json_response({"error": REFUSED_UPLOAD, "message": "image exceeds 1MB"})
        if not content.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            return web.json_response({"error": REFUSED_UPLOAD, "message": "only JPG and PNG"})
        return self._uploaded("image", name, content)

    async def _upload_file(self, request: web.Request) -> web.Response:
        received = await self._received_file(request)
        if isinstance(received, web.Response):
            return received
        name, content = received
        if len(content) > FILE_LIMIT:
            return web.json_response({"error": REFUSED_UPLOAD, "message": "file exceeds 5MB"})
        magic = FILE_MAGIC.get("." + name.rpartition(".")[2].lower())
        if magic is None or not content.startswith(magic):
            return web.json_response({"error": REFUSED_UPLOAD, "message": "only PDF, DOC, DOCX"})
        return self._uploaded("file", name, content)

    # -- messages ---------------------------------------------------------------------------------

    async def _cs(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        body = await request.json()
        user = str(body.get("recipient", {}).get("user_id") or "")
        too_many = self._too_many(user or None)
        if too_many is not None:
            return too_many
        if self._failures:
            status, body = self._failures.pop(0)
            return web.json_response(body, status=status)
        if not user:
            return web.json_response({"error": -201, "message": "recipient is missing"})
        if user in self.outside_window:
            return web.json_response(
                {"error": -230, "message": "User has not interacted with the OA in 7 days"}
            )
        message = body.get("message") or {}
        if len(str(message.get("text") or "")) > 2000:
            return web.json_response({"error": -201, "message": "text is too long"})
        attachment = message.get("attachment") or {}
        payload = attachment.get("payload") or {}
        buttons = payload.get("buttons") or []
        if len(buttons) > 5:
            return web.json_response({"error": -201, "message": "too many buttons"})
        sent = SentMessage(user, body)
        if attachment.get("type") == "file":
            upload = self._valid_upload("file", payload.get("token"))
            if upload is None:
                return web.json_response({"error": INVALID, "message": "file token is invalid"})
            sent.file = (upload.name, upload.content)
        elif payload.get("template_type") == "media":
            elements = payload.get("elements") or [{}]
            upload = self._valid_upload("image", elements[0].get("attachment_id"))
            if elements[0].get("media_type") != "image" or upload is None:
                return web.json_response({"error": INVALID, "message": "attachment is invalid"})
            sent.image = upload.content
        elif not message.get("text") and not payload.get("template_type"):
            return web.json_response({"error": INVALID, "message": "message is empty"})
        self.sent.append(sent)
        msg_id = f"oa{next(self._ids):030d}"
        return web.json_response({"error": 0, "message": "Success", "data": {"message_id": msg_id}})

    async def _template(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        body = await request.json()
        self.templates.append(body)
        return web.json_response({"error": 0, "message": "Success", "data": {"msg_id": "t1"}})

    def sent_to(self, user: str) -> list[SentMessage]:
        return [message for message in self.sent if message.user_id == user]

    # -- events -----------------------------------------------------------------------------------

    def sign(self, raw: bytes, timestamp: str, variant: str = "app_id+oa_secret") -> str:
        first_name, last_name = variant.split("+")
        first = self.app_id if first_name == "app_id" else self.oa_id
        last = self.oa_secret_key if last_name == "oa_secret" else self.app_secret
        digest = hashlib.sha256(first.encode() + raw + timestamp.encode() + last.encode())
        return "mac=" + digest.hexdigest()

    async def post_event(
        self,
        url: str,
        event: dict[str, Any],
        *,
        variant: str = "app_id+oa_secret",
        signature: str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> int:
        """POST ``event`` to a webhook as Zalo does; the HTTP status."""
        raw = json.dumps(event, ensure_ascii=False).encode()
        header = signature if signature is not None else self.sign(raw, event["timestamp"], variant)
        headers = {"Content-Type": "application/json", "X-ZEvent-Signature": header}
        if session is not None:
            async with session.post(url, data=raw, headers=headers) as response:
                await response.read()
                return response.status
        async with aiohttp.ClientSession() as own:
            return await self.post_event(url, event, signature=header, session=own)

    def _base(self, name: str, user: str) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": name,
            "timestamp": str(int(time.time() * 1000) + next(self._ids)),
            "sender": {"id": user},
            "recipient": {"id": self.oa_id},
            "user_id_by_app": "app" + user,
        }

    def new_msg_id(self) -> str:
        return secrets.token_hex(16)

    def text_event(self, user: str, text: str) -> dict[str, Any]:
        return {
            **self._base("user_send_text", user),
            "message": {"text": text, "msg_id": self.new_msg_id()},
        }

    def follow_event(self, user: str) -> dict[str, Any]:
        event = self._base("follow", user)
        del event["sender"]
        return {**event, "oa_id": self.oa_id, "follower": {"id": user}, "source": "oa_profile"}

    def unfollow_event(self, user: str) -> dict[str, Any]:
        return {**self.follow_event(user), "event_name": "unfollow"}

    def submit_info_event(
        self, user: str, phone: str, name: str = "Nguyễn Văn An"
    ) -> dict[str, Any]:
        return {
            **self._base("user_submit_info", user),
            "info": {"name": name, "phone": phone.removeprefix("+"), "full_address": {}},
        }

    def image_event(self, user: str, url: str, caption: str = "") -> dict[str, Any]:
        attachment = {"type": "image", "payload": {"url": url, "thumbnail": url}}
        message = {"text": caption, "msg_id": self.new_msg_id(), "attachments": [attachment]}
        return {**self._base("user_send_image", user), "message": message}

    def file_event(self, user: str, url: str, name: str) -> dict[str, Any]:
        attachment = {
            "type": "file",
            "payload": {"url": url, "name": name, "size": "1024", "type": "pdf"},
        }
        message = {"msg_id": self.new_msg_id(), "attachments": [attachment]}
        return {**self._base("user_send_file", user), "message": message}

    def location_event(
        self, user: str, latitude: float, longitude: float, *, short: bool = False
    ) -> dict[str, Any]:
        place = (
            {"lat": latitude, "long": longitude}
            if short
            else {"latitude": str(latitude), "longitude": str(longitude)}
        )
        attachment = {"type": "location", "payload": {"coordinates": place}}
        message = {"msg_id": self.new_msg_id(), "attachments": [attachment]}
        return {**self._base("user_send_location", user), "message": message}
