"""The ward's web chat: one static page and a WebSocket on the process's aiohttp application.

The protocol is JSON frames that mirror the conversation layer (handlers/channel.py):

page → server
  ``{"type": "hello", "token": T?, "after": N}``  first frame; without a token (or with one that
      is malformed) the server makes a new chat and answers with its token. ``after`` is the
      last sequence number the page has shown: what follows is sent again.
  ``{"type": "text", "id": I, "text": "…"}``  a typed line; ``/lenh tham-so`` is a command.
  ``{"type": "button", "id": I, "data": "…"}``  a pressed button.
  ``{"type": "photo", "id": I, "data": BASE64, "caption": "…"?}``  a JPEG or PNG photo.
server → page
  ``{"type": "session", "token": T, "last": N}``  ``N``: the chat's newest message number
  ``{"type": "message", "seq": N, "text": HTML, "buttons": [[{"label", "data"}]],
     "image": BASE64 PNG?, "alt": "…"?, "document": {"name", "data"}?}``
  ``{"type": "done", "id": I}``  every reply to frame ``I`` has been sent.
  ``{"type": "error", "code": "…", "text": "…"}``

The token is a random secret kept in the browser's localStorage; the chat is known by a digest of
it (never the token itself, never a phone number). Every message to a chat is stored with a
per-chat sequence number before it is pushed (storage/web_store.py), so a page that was closed
is shown what it missed.

Nothing lost, nothing doubled, in order, with several workers (issue 12, X4). For the web chat
"delivered" means "stored": the page shows the chat's stored messages by number, and a page
that reconnects (to any worker) asks for those after the last it showed. So, where replies go
through the outbox for the other channels (PostgreSQL, ``stores_replies``):

* a turn's replies are stored in the turn's own transaction (:meth:`WebChannel.store_replies`,
  Conversations.reply_writers): committed with the turn or not at all. A worker killed after
  its commit has lost its sockets too; the page reconnects and is shown them then, once each;
* the page's socket lives on the worker that handles its turns (the turn comes in over it), so
  that worker pushes them right after the commit; no queue or hand-over is needed;
* messages from outside a turn (pushes of the outbox sender, which may be another worker) are
  stored in a transaction of their own (:meth:`WebChannel.send`). Both writers take the chat's
  lock (``pg_advisory_xact_lock``) before numbering, so no number is taken twice;
* each open page has the number of the last message it was shown. A push sends it what follows
  that number, read from the store when something is missing (a message another worker
  stored), so a page never sees a number twice or out of order;
* on PostgreSQL each transaction that stores messages also sends ``NOTIFY doithoai_web,
  '<chat id> <its last number>'`` (delivered at commit); every worker LISTENs and brings its
  open pages of that chat up to date (unless they were shown that number already: the turn
  pushed it), so a push stored by the outbox sender of another worker is shown at once. A lost
  notification delays a message until the chat's next push or reconnect; it never loses it.

On SQLite (one process) the replies are stored and pushed after the turn, as before.

A phone number typed here is not verified by the channel (``capabilities.share_phone`` is
false): the conversation says so and never joins identities on that basis.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import logging
import math
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web
from sqlalchemy import Engine

from bot.channels.base import Capabilities, Handle, TransientFailure
from bot.channels.web.limits import AddressBuckets, Bucket
from handlers.channel import Attachment, Incoming, Outgoing
from storage import web_store
from storage.advisory import lock_for_transaction
from storage.notify import Listener
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork
from texts import t

log = logging.getLogger(__name__)

CHANNEL = "web"
SOCKET_PATH = "/web/ws"
PAGE_PATH = "/"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_FRAME_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:\s+(.*))?$", re.DOTALL)
_PRUNE_EVERY_SECONDS = 6 * 3600
_KEEP_LOCKS = 10_000  # chats' send locks kept; idle ones are dropped past this
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_STATIC = {
    "/web/chat.js": ("chat.js", "text/javascript"),
    "/web/chat.css": ("chat.css", "text/css"),
    "/web/icon.svg": ("icon.svg", "image/svg+xml"),
    # What a browser asks for when a page names no icon (an SVG served there is shown by the
    # browsers residents use): answered rather than a 404 in the log for every visit.
    "/favicon.ico": ("icon.svg", "image/svg+xml"),
}


@dataclass(frozen=True)
class WebChatOptions:
    """Limits and embedding (WEB_CHAT_* settings)."""

    # Sites allowed to embed the page (frame-ancestors) and to open the socket, besides the
    # page's own origin: "https://phuong-ben-thanh.gov.vn".
    allowed_origins: tuple[str, ...] = ()
    max_frame_bytes: int = 2 * 1024 * 1024  # a photo, base64: the largest frame
    max_text: int = 4096  # characters of one typed message (Telegram's limit too)
    max_photo_bytes: int = 1024 * 1024
    per_connection_per_second: float = 2.0
    per_connection_burst: float = 20.0
    per_address_per_second: float = 5.0
    per_address_burst: float = 60.0
    max_connections_per_address: int = 20
    trust_forwarded: bool = False  # behind nginx: the client is X-Real-IP / X-Forwarded-For
    upload_dir: Path | None = None  # where photos sent from the page are kept
    keep_days: int = 60  # stored messages older than this are deleted (0: kept)


def chat_id_for(token: str) -> str:
    """The chat a token stands for: a digest, so the database never holds the secret."""
    return "w" + hashlib.sha256(token.encode("ascii")).hexdigest()[:40]


def frame_of(message: Outgoing) -> dict[str, object]:
    """An outgoing message as the page's ``message`` frame (without its sequence number)."""
    frame: dict[str, object] = {
        "type": "message",
        "text": message.text,
        "buttons": [[{"label": b.label, "data": b.data} for b in row] for row in message.buttons],
    }
    if message.image is not None:
        frame["image"] = base64.b64encode(message.image).decode("ascii")
        frame["alt"] = message.extra.get("alt") or t("web.image_alt")
    if message.document is not None:
        name, data = message.document
        frame["document"] = {"name": name, "data": base64.b64encode(data).decode("ascii")}
    if message.ask_location:
        # The page offers the browser's geolocation behind this label (issue 13).
        frame["ask_location"] = message.ask_location
    return frame


class StoredReplies(list[Outgoing]):
    """A turn's replies already stored with the turn (:meth:`WebChannel.store_replies`): the
    channel pushes ``frames`` (their numbers and frames), never stores them again."""

    def __init__(
        self, replies: list[Outgoing], frames: list[tuple[int, dict[str, object]]]
    ) -> None:
        super().__init__(replies)
        self.frames = frames


Frames = list[tuple[int, dict[str, object]]]


NOTIFY_CHANNEL = "doithoai_web"


def _append_locked(uow: UnitOfWork, chat_id: str, frames: list[dict[str, object]]) -> list[int]:
    """The chat's next numbers for ``frames``, under the chat's lock until ``uow`` ends (so
    that a turn and a push by different processes never take one number); on PostgreSQL the
    workers hear of the last one at commit (``NOTIFY doithoai_web, '<chat> <number>'``). The
    lock is the chat's conversation lock, which a turn holds from its start: a turn's replies
    are stored without asking for it again (issue 12: one statement for them all)."""
    lock_for_transaction(uow, "conversation", CHANNEL, chat_id)
    notify = NOTIFY_CHANNEL if uow.dialect == "postgresql" else None
    return web_store.append_all(uow, chat_id, frames, notify=notify)


def _notified(payload: str) -> tuple[str, int | None]:
    """The chat and the number of its newest stored message a notification names."""
    chat, _, seq = payload.partition(" ")
    return chat, int(seq) if seq.isdigit() else None


@dataclass
class _Connection:
    socket: web.WebSocketResponse
    address: str
    bucket: Bucket
    chat_id: str | None = None


@dataclass(eq=False)
class WebChannel:
    """The web chat: :class:`bot.channels.base.Channel` for the ward's own page."""

    engine: Engine
    options: WebChatOptions = field(default_factory=WebChatOptions)
    name: str = CHANNEL
    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(
            buttons=True,
            max_buttons=24,
            max_text=4096,
            share_phone=False,
            images=True,
            documents=True,
            edit=False,
        )
    )
    # A turn's replies stored in the turn's transaction (set by the registry where the other
    # channels' replies go through the outbox: PostgreSQL); see the module's docstring.
    stores_replies: bool = False
    _handle: Handle | None = None
    _sockets: dict[str, set[web.WebSocketResponse]] = field(default_factory=dict)
    # The number of the last message each open page was shown.
    _shown: dict[web.WebSocketResponse, int] = field(default_factory=dict)
    _connections: dict[str, int] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _open: set[web.WebSocketResponse] = field(default_factory=set)
    _addresses: AddressBuckets | None = None
    _pruner: asyncio.Task[None] | None = None
    _listener: Listener | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _catching_up: set[asyncio.Task[None]] = field(default_factory=set)
    # Turns under way here, by chat, and the newest number notified for the chat meanwhile
    # (None: unknown), caught up with once the turn has pushed.
    _turns: dict[str, int] = field(default_factory=dict)
    _noted: dict[str, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        o = self.options
        self._addresses = AddressBuckets(o.per_address_per_second, o.per_address_burst)

    # -- the Channel interface --------------------------------------------------------------------

    async def start(self, handle: Handle) -> None:
        self._handle = handle
        if self._pruner is None and self.options.keep_days > 0:
            self._pruner = asyncio.create_task(self._prune_forever(), name="web-prune")
        if self._listener is None and self.engine.dialect.name == "postgresql":
            self._loop = asyncio.get_running_loop()
            self._listener = Listener(
                self.engine,
                NOTIFY_CHANNEL,
                lambda: self._from_thread(None),
                on_payload=self._from_thread,
            )
            self._listener.start()

    async def stop(self) -> None:
        self._handle = None
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await asyncio.to_thread(listener.stop)
        for task in list(self._catching_up):
            task.cancel()
        if self._pruner is not None:
            self._pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pruner
            self._pruner = None
        for socket in list(self._open):
            with contextlib.suppress(Exception):
                await socket.close(code=1001, message=b"server stopping")

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [
            web.get(PAGE_PATH, self._page),
            web.get("/web/widget.js", self._widget),
            *(web.get(path, self._static) for path in _STATIC),
            web.get(SOCKET_PATH, self._socket),
        ]

    def pieces(self, message: Outgoing) -> list[Outgoing]:
        return [message]

    async def send(self, chat_id: str, message: Outgoing) -> None:
        """Store the message as the chat's next one, then push it to the chat's open pages."""
        frame = frame_of(message)
        async with self._lock(chat_id):
            try:
                seq = await asyncio.to_thread(self._append, chat_id, frame)
            except Exception as error:
                raise TransientFailure(f"web message not stored: {type(error).__name__}") from error
            await self._push_locked(chat_id, [(seq, frame)])

    def store_replies(
        self, uow: UnitOfWork, incoming: Incoming, replies: list[Outgoing]
    ) -> StoredReplies:
        """A turn's replies stored in the turn's unit of work (the turn commits them): a
        Conversations.reply_writers writer."""
        made = [frame_of(piece) for reply in replies for piece in self.pieces(reply)]
        numbers = _append_locked(uow, incoming.chat_id, made)
        return StoredReplies(replies, list(zip(numbers, made, strict=True)))

    async def push(self, chat_id: str, frames: Frames, up_to: int | None = None) -> None:
        """Show the chat's open pages ``frames`` (stored already), and whatever they missed;
        nothing when ``up_to`` says how far the store goes and every page was shown that far
        (a notification of a number this worker pushed meanwhile)."""
        async with self._lock(chat_id):
            if not frames and self._shown_up_to(chat_id, up_to):
                return
            await self._push_locked(chat_id, frames)

    def _from_thread(self, payload: str | None) -> None:
        """A worker stored messages for a chat up to a number (``'<chat> <number>'``; None:
        perhaps for any chat): bring this process's open pages of it up to date. Called in the
        listener's thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        chat_id, seq = _notified(payload) if payload is not None else (None, None)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._catch_up, chat_id, seq)

    def _catch_up(self, chat_id: str | None, seq: int | None = None) -> None:
        chats = list(self._sockets) if chat_id is None else [chat_id]
        for chat in chats:
            if chat in self._turns:
                # A turn of the chat is under way here: its own notification usually comes
                # before its push. Looked at once the turn has pushed (:meth:`_turn_done`).
                noted = self._noted.get(chat, 0)
                self._noted[chat] = None if seq is None or noted is None else max(noted, seq)
                continue
            # Pages of other workers' chats, or pages shown that number already (the turn that
            # stored it pushed it from here): nothing to do here.
            if chat in self._sockets and not self._shown_up_to(chat, seq):
                task = asyncio.create_task(self.push(chat, [], seq), name="web-catch-up")
                self._catching_up.add(task)
                task.add_done_callback(self._catching_up.discard)

    def _turn_done(self, chat_id: str) -> None:
        """A turn of the chat has pushed its replies: what was notified meanwhile and is not
        shown yet (another worker's push) is fetched now."""
        left = self._turns.get(chat_id, 1) - 1
        if left > 0:
            self._turns[chat_id] = left
            return
        self._turns.pop(chat_id, None)
        if chat_id in self._noted:
            self._catch_up(chat_id, self._noted.pop(chat_id))

    def _shown_up_to(self, chat_id: str, seq: int | None) -> bool:
        """Every open page of the chat was shown message ``seq`` (None: unknown, so no)."""
        return seq is not None and all(
            self._shown.get(socket, 0) >= seq for socket in self._sockets.get(chat_id, ())
        )

    async def _push_locked(self, chat_id: str, frames: Frames) -> None:
        """Each open page of the chat is sent what follows the last message it was shown, in
        order, once: ``frames`` when they follow it, from the store otherwise (no ``frames``:
        whatever the store has)."""
        sockets = list(self._sockets.get(chat_id, ()))
        if not sockets:
            return
        missing = not frames or (
            min(self._shown.get(socket, 0) for socket in sockets) < frames[0][0] - 1
        )
        if missing:  # another process stored messages meanwhile: read them back in order
            _, frames = await asyncio.to_thread(
                self._since, chat_id, min(self._shown.get(socket, 0) for socket in sockets)
            )
        for socket in sockets:
            for seq, frame in frames:
                if seq <= self._shown.get(socket, 0):
                    continue
                with contextlib.suppress(Exception):
                    await socket.send_json({**frame, "seq": seq})
                self._shown[socket] = seq

    # -- storage ----------------------------------------------------------------------------------

    def _append(self, chat_id: str, frame: dict[str, object]) -> int:
        from sqlalchemy.exc import IntegrityError

        for attempt in range(3):
            try:
                with UnitOfWork(self.engine) as uow:
                    [seq] = _append_locked(uow, chat_id, [frame])
                    uow.commit()
                    return seq
            except IntegrityError:  # another process took the number: take the next one
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _since(self, chat_id: str, after: int) -> tuple[int, list[tuple[int, dict[str, object]]]]:
        """The chat's newest number, and the messages to show a page that saw ``after``."""
        with UnitOfWork(self.engine) as uow:
            last = web_store.last_seq(uow, chat_id)
            # A page ahead of the store (old messages pruned) is shown what there is.
            found = web_store.since(uow, chat_id, after if after <= last else 0)
            uow.commit()  # nothing written: ended without a ROLLBACK (see UnitOfWork)
            return last, found

    def _prune(self) -> int:
        with UnitOfWork(self.engine) as uow:
            removed = web_store.prune(uow, utc_now() - timedelta(days=self.options.keep_days))
            uow.commit()
            return removed

    async def _prune_forever(self) -> None:
        while True:
            try:
                removed = await asyncio.to_thread(self._prune)
                if removed:
                    days = self.options.keep_days
                    log.info("web chat: %s messages older than %s days removed", removed, days)
            except Exception:
                log.exception("web chat: pruning old messages failed")
            await asyncio.sleep(_PRUNE_EVERY_SECONDS)

    def _lock(self, chat_id: str) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            if len(self._locks) >= _KEEP_LOCKS:
                for idle in [c for c, held in self._locks.items() if not held.locked()]:
                    if idle not in self._sockets:
                        del self._locks[idle]
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock

    # -- the page ---------------------------------------------------------------------------------

    def _headers(self, request: web.Request) -> dict[str, str]:
        ancestors = " ".join(["'self'", *self.options.allowed_origins])
        return {
            "Content-Security-Policy": (
                "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
                "script-src 'self'; connect-src 'self' ws: wss:; object-src 'none'; "
                f"base-uri 'none'; frame-ancestors {ancestors}"
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        }

    async def _page(self, request: web.Request) -> web.Response:
        page = _read("index.html")
        texts = {key.removeprefix("web.page."): value for key, value in _page_texts().items()}
        page = page.replace("{{texts}}", _json(texts))
        for key, value in texts.items():
            page = page.replace("{{" + key + "}}", _html(value))
        return web.Response(
            text=page, content_type="text/html", charset="utf-8", headers=self._headers(request)
        )

    async def _static(self, request: web.Request) -> web.Response:
        name, kind = _STATIC[request.path]
        return web.Response(
            text=_read(name), content_type=kind, charset="utf-8", headers=self._headers(request)
        )

    async def _widget(self, request: web.Request) -> web.Response:
        """The loader a ward's site embeds with one ``<script>`` tag: a button that opens the
        chat page in a frame."""
        texts = {key: t(f"web.widget.{key}") for key in ("open", "close", "title")}
        script = _read("widget.js").replace("{{texts}}", _json(texts))
        return web.Response(
            text=script,
            content_type="text/javascript",
            charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "max-age=300"},
        )

    # -- the socket -------------------------------------------------------------------------------

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: nothing to protect against
        if origin in self.options.allowed_origins:
            return True
        own = request.headers.get("X-Forwarded-Host") if self.options.trust_forwarded else None
        return urlsplit(origin).netloc.lower() == (own or request.host).lower()

    def _address(self, request: web.Request) -> str:
        if self.options.trust_forwarded:
            real = request.headers.get("X-Real-IP")
            if real:
                return real.strip()
            forwarded = request.headers.get("X-Forwarded-For", "")
            if forwarded:
                return forwarded.split(",")[-1].strip()
        return request.remote or "?"

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            log.warning("web chat: origin refused")
            return web.Response(status=403, text="origin not allowed")
        address = self._address(request)
        if self._connections.get(address, 0) >= self.options.max_connections_per_address:
            return web.Response(status=429, text="too many connections")
        socket = web.WebSocketResponse(max_msg_size=self.options.max_frame_bytes, heartbeat=30)
        await socket.prepare(request)
        o = self.options
        connection = _Connection(
            socket, address, Bucket(o.per_connection_per_second, o.per_connection_burst)
        )
        self._connections[address] = self._connections.get(address, 0) + 1
        self._open.add(socket)
        try:
            async for message in socket:
                if message.type is not WSMsgType.TEXT:
                    break
                await self._frame(connection, message.data)
        finally:
            self._open.discard(socket)
            self._connections[address] -= 1
            if not self._connections[address]:
                del self._connections[address]
            self._shown.pop(socket, None)
            if connection.chat_id is not None:
                chat_sockets = self._sockets.get(connection.chat_id, set())
                chat_sockets.discard(socket)
                if not chat_sockets:
                    self._sockets.pop(connection.chat_id, None)
        return socket

    async def _error(self, connection: _Connection, code: str) -> None:
        await connection.socket.send_json(
            {"type": "error", "code": code, "text": t(f"web.error.{code}")}
        )

    async def _frame(self, connection: _Connection, raw: str) -> None:
        assert self._addresses is not None
        if not connection.bucket.take() or not self._addresses.take(connection.address):
            await self._error(connection, "rate_limited")
            return
        try:
            frame: Any = json.loads(raw)
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._error(connection, "bad_frame")
            return
        if frame["type"] == "hello":
            await self._hello(connection, frame)
            return
        if connection.chat_id is None:
            await self._error(connection, "bad_frame")
            return
        frame_id = frame.get("id")
        if not isinstance(frame_id, str) or not _FRAME_ID.match(frame_id):
            frame_id = uuid.uuid4().hex
        incoming = self._incoming(connection.chat_id, frame_id, frame)
        if isinstance(incoming, str):
            await self._error(connection, incoming)
            return
        if self._handle is None:
            await self._error(connection, "unavailable")
            return
        chat_id = connection.chat_id
        self._turns[chat_id] = self._turns.get(chat_id, 0) + 1
        try:
            replies = await self._handle(incoming)
            if isinstance(replies, StoredReplies):  # committed with the turn: shown now
                await self.push(chat_id, replies.frames)
            else:
                for reply in replies:
                    for piece in self.pieces(reply):
                        await self.send(chat_id, piece)
        except Exception:
            log.exception("web chat: a turn failed")
            await self._error(connection, "unavailable")
            return
        finally:
            self._turn_done(chat_id)
        # A page gone meanwhile sends the frame again on its next connection (chat.js).
        with contextlib.suppress(ConnectionResetError):
            await connection.socket.send_json({"type": "done", "id": frame_id})

    async def _hello(self, connection: _Connection, frame: dict[str, Any]) -> None:
        if connection.chat_id is not None:
            await self._error(connection, "bad_frame")
            return
        token = frame.get("token")
        if not isinstance(token, str) or not _TOKEN.match(token):
            token = secrets.token_urlsafe(32)
        after = frame.get("after")
        after = after if isinstance(after, int) and after >= 0 else 0
        chat_id = chat_id_for(token)
        connection.chat_id = chat_id
        async with self._lock(chat_id):
            # Under the chat's lock: a message stored meanwhile is either replayed or pushed.
            last, missed = await asyncio.to_thread(self._since, chat_id, after)
            await connection.socket.send_json({"type": "session", "token": token, "last": last})
            for seq, stored in missed:
                await connection.socket.send_json({**stored, "seq": seq})
            self._shown[connection.socket] = last
            self._sockets.setdefault(chat_id, set()).add(connection.socket)

    def _incoming(self, chat_id: str, frame_id: str, frame: dict[str, Any]) -> Incoming | str:
        """The frame as an update, or the code of the error to answer."""
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "user_id": chat_id,
            "chat_id": chat_id,
            "update_id": f"{chat_id[:21]}:{frame_id}",
            "message_id": frame_id,
        }
        kind = frame["type"]
        if kind == "text":
            text = frame.get("text")
            if not isinstance(text, str) or not text.strip():
                return "bad_frame"
            if len(text) > self.options.max_text:
                return "too_long"
            command = _COMMAND.match(text.strip())
            if command:
                return Incoming(
                    **base,
                    text=text,
                    command=command.group(1),
                    payload=(command.group(2) or "").strip(),
                )
            return Incoming(**base, text=text)
        if kind == "button":
            data = frame.get("data")
            if not isinstance(data, str) or not data or len(data) > 64:
                return "bad_frame"
            return Incoming(**base, button=data)
        if kind == "photo":
            return self._photo(base, frame)
        if kind == "location":
            return _location(base, frame)
        return "bad_frame"

    def _photo(self, base: dict[str, Any], frame: dict[str, Any]) -> Incoming | str:
        if self.options.upload_dir is None:
            return "unsupported"
        data = frame.get("data")
        caption = frame.get("caption")
        if not isinstance(data, str) or (caption is not None and not isinstance(caption, str)):
            return "bad_frame"
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return "bad_frame"
        if len(content) > self.options.max_photo_bytes:
            return "too_large"
        if content.startswith(_PNG):
            suffix, mime = ".png", "image/png"
        elif content.startswith(_JPEG):
            suffix, mime = ".jpg", "image/jpeg"
        else:
            return "unsupported"
        self.options.upload_dir.mkdir(parents=True, exist_ok=True)
        path = self.options.upload_dir / f"{uuid.uuid4().hex}{suffix}"
        path.write_bytes(content)
        return Incoming(
            **base,
            text=(caption or "").strip()[: self.options.max_text] or None,
            attachment=Attachment(
                kind="photo", file_ref=f"file:{path}", file_name=path.name, mime_type=mime
            ),
        )


def _location(base: dict[str, Any], frame: dict[str, Any]) -> Incoming | str:
    """The browser's geolocation, shared by the resident with the page's button (issue 13)."""
    latitude, longitude = frame.get("latitude"), frame.get("longitude")
    if not all(
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        for value in (latitude, longitude)
    ):
        return "bad_frame"
    return Incoming(**base, location=(float(latitude), float(longitude)))  # type: ignore[arg-type]


def _read(name: str) -> str:
    return resources.files("bot.channels.web").joinpath("static", name).read_text("utf-8")


def _page_texts() -> dict[str, str]:
    from texts import catalogue

    return {key: value for key, value in catalogue().items() if key.startswith("web.page.")}


def _json(values: dict[str, str]) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(values, ensure_ascii=False).replace("<", "\\u003c")


def _html(text: str) -> str:
    import html

    return html.escape(text)
