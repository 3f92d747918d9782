"""The residents of the load and failure test (benchmarks/load_and_failure.py), one kind per
channel, and the fake Zalo servers it records arrivals on.

Each resident writes one whole petition as a person does: ``/gopy``, the buttons for "no
session", kind and topic, the text, consent, name, phone, ward, the verification code, send.
What differs is how a channel is spoken:

* **Telegram** — updates from the fake Bot API server (tests/fake_telegram), delivered by its
  webhook through nginx; buttons are inline buttons; the phone is a shared contact.
* **Zalo OA** — events signed as Zalo signs them (tests/fake_zalo/oa.py), POSTed to
  ``/zalo/oa`` through nginx once, as the real server does (no retry of ours: nginx alone
  passes a request to another worker when one is down); a template button comes back as its
  payload in a text, a numbered line (``[3] Gửi``) is answered with its number; the phone is
  ``user_submit_info`` after the ``request_user_info`` template.
* **Zalo Bot** — events POSTed to ``/zalo/bot`` through nginx with the secret header, as the
  platform's webhook does; buttons are numbered lines; the phone is typed.
* **Web chat** — the page's JSON frames over a WebSocket through nginx, one socket a resident,
  each from its own loopback address (as residents come from their own addresses; the workers
  trust nginx's ``X-Real-IP``). Like bot/channels/web/static/chat.js: the first session sends
  ``/start``; a socket that closes (its worker killed) reconnects after 1, 2, 4 … s with the
  token and ``after`` = the last sequence number shown, and a message number already shown is
  not shown again; a frame sent on a socket that died before its ``done`` is sent again with
  its own id on the next connection (within a minute), as the page does.

Every resident notes the update ids it sent (as the channel names them in
``processed_update``), what it saw, and how long each answer took.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import aiohttp
from aiohttp import web

from benchmarks.recording_telegram import RecordingTelegram
from tests.fake_telegram import SentMessage
from tests.fake_zalo import FakeZaloBot, FakeZaloOA

VERIFY_CODE = re.compile(r"mã kiểm tra[^0-9]*(\d{5})|mã mới: (\d{5})")
TRACKING_CODE = re.compile(r"\bKN-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b")
NUMBERED = re.compile(r"^\s*\[(\d+)\] (.+)$", re.MULTILINE)
PETITIONS = (
    "Đường Lê Lợi bị ngập sâu mỗi khi mưa lớn, đề nghị phường nạo vét cống thoát nước.",
    "Đèn chiếu sáng trên đường Nam Kỳ Khởi Nghĩa bị hỏng đã lâu, đề nghị sửa chữa sớm.",
    "Vỉa hè đường Pasteur bị lấn chiếm để bán hàng, người đi bộ phải xuống lòng đường.",
    "Rác thải tập kết ở đầu hẻm chợ Bến Thành không được thu gom đúng giờ, gây mùi hôi.",
)
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Hữu", "Thanh", "Đức", "Kim", "Quốc", "Thu")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Mai", "Nam")
CHANNELS = ("telegram", "zalo_oa", "zalo_bot", "web")
ZALO_BOT_SECRET = "load-test-zalo-bot-secret"


def full_name(number: int) -> str:
    return " ".join((FAMILY[number % 10], MIDDLE[number // 10 % 10], GIVEN[number // 100 % 10]))


@dataclass
class Seen:
    """One message as a resident sees it: its text, its buttons (label, what pressing it
    sends), and whether it asks to share the phone."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    asks_contact: bool = False


class Waker:
    """A wake-up per chat, set whenever the chat gets a message."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def event(self, chat: str) -> asyncio.Event:
        return self._events.setdefault(chat, asyncio.Event())

    def wake(self, chat: str) -> None:
        self.event(chat).set()


# -- the fake Zalo servers, recording per user ----------------------------------------------------


def _noted(moments: list[float], too_many: web.Response | None) -> web.Response | None:
    """Notes when a fake Zalo server answered 429 (``too_many`` not None)."""
    if too_many is not None:
        moments.append(time.monotonic())
    return too_many


class LoadZaloOA(FakeZaloOA):
    """The fake OA server with each user's messages at hand and a wake-up per user."""

    def __init__(self, port: int) -> None:
        super().__init__(port=port)
        self.by_user: dict[str, list[Any]] = {}
        self.waker = Waker()
        self._recorded = 0  # messages of self.sent already filed by user
        self.too_many_at: list[float] = []  # time.monotonic() of each 429 answered

    def _too_many(self, user: str | None) -> web.Response | None:
        return _noted(self.too_many_at, super()._too_many(user))

    async def _cs(self, request: web.Request) -> web.Response:
        response = await super()._cs(request)
        for message in self.sent[self._recorded :]:
            self.by_user.setdefault(message.user_id, []).append(message)
            self.waker.wake(message.user_id)
        self._recorded = len(self.sent)
        return response


class LoadZaloBot(FakeZaloBot):
    """The fake Zalo Bot platform with each chat's messages at hand and a wake-up per chat."""

    def __init__(self, port: int) -> None:
        super().__init__(port=port)
        self.by_chat: dict[str, list[Any]] = {}
        self.waker = Waker()
        self._recorded = 0  # messages of self.sent already filed by chat
        self.too_many_at: list[float] = []  # time.monotonic() of each 429 answered

    def _too_many(self, chat_id: str | None) -> web.Response | None:
        return _noted(self.too_many_at, super()._too_many(chat_id))

    async def _call(self, request: web.Request) -> web.Response:
        response = await super()._call(request)
        for message in self.sent[self._recorded :]:
            self.by_chat.setdefault(message.chat_id, []).append(message)
            self.waker.wake(message.chat_id)
        self._recorded = len(self.sent)
        return response

    def setwebhook_calls(self) -> int:
        return sum(1 for call in self.calls if call == "setWebhook")


# -- the residents --------------------------------------------------------------------------------


class Unanswered(Exception):
    pass


Found = Callable[[list[Seen]], Any]


class Resident:
    """One person who writes a petition through the bot on one channel."""

    channel: ClassVar[str]
    shares_phone: ClassVar[bool] = True

    def __init__(self, number: int, user_id: int, think: float, timeout: float) -> None:
        self.number = number
        self.user_id = user_id
        self.think = think  # seconds to read an answer before the next action
        self.timeout = timeout
        self.sent: list[str] = []  # update ids, as processed_update names them
        self.acknowledged: set[str] = set()  # updates the webhook answered 2xx
        self.finished = False
        self.stuck_at: str | None = None
        self.last_said = ""
        self.seen_when_stuck = 0  # messages received when the resident gave up
        self.latencies: list[float] = []  # seconds from update to answer
        self.rate_limited = 0  # the channel's own "too fast" answers to this resident

    # what each channel implements
    def seen(self) -> list[Seen]:
        raise NotImplementedError

    def changed(self) -> asyncio.Event:
        raise NotImplementedError

    @property
    def account(self) -> str:
        """``channel_account.external_user_id`` of this resident."""
        return str(self.user_id)

    async def command(self, name: str) -> str:
        return await self.say(f"/{name}")

    async def say(self, text: str) -> str:
        raise NotImplementedError

    async def press(self, label: str) -> str:
        for message in reversed(self.seen()):
            for shown, data in message.buttons:
                if label in shown:
                    return await self.say(data)
        raise Unanswered(f"no button {label}")

    async def give_phone(self) -> str:
        return await self.say(self.typed_phone)

    async def open(self) -> None:
        """Before the first action (the web page connects)."""

    async def close(self) -> None:
        """After the run."""

    @property
    def phone(self) -> str:
        return f"+8491{self.number:07d}"

    @property
    def typed_phone(self) -> str:
        return f"091{self.number:07d}"

    # the petition
    async def _until(self, step: str, start: int, found: Found) -> Any:
        deadline = time.monotonic() + self.timeout
        while True:
            event = self.changed()
            event.clear()
            value = found(self.seen()[start:])
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unanswered(step)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)

    async def _act(self, step: str, action: Callable[[], Awaitable[str]], found: Found) -> Any:
        if self.think:
            await asyncio.sleep(self.think)
        start = len(self.seen())
        began = time.monotonic()
        self.sent.append(await action())
        value = await self._until(step, start, found)
        self.latencies.append(time.monotonic() - began)
        return value

    async def petition(self) -> None:
        text_of = PETITIONS[self.number % len(PETITIONS)] + f" (hộ số {self.number})"
        asks_phone = asks_contact if self.shares_phone else says("số điện thoại")
        try:
            await self.open()
            await self._act("gopy", lambda: self.command("gopy"), has_button("Không gắn"))
            await self._act("no session", lambda: self.press("Không gắn"), has_button("Kiến nghị"))
            await self._act("kind", lambda: self.press("Kiến nghị"), has_button("Giao thông"))
            await self._act("topic", lambda: self.press("Giao thông"), says("nội dung"))
            await self._act("text", lambda: self.say(text_of), has_button("đồng ý"))
            await self._act("consent", lambda: self.press("Tôi đồng ý"), says("họ và tên"))
            await self._act("name", lambda: self.say(full_name(self.number)), asks_phone)
            await self._act("phone", self.give_phone, says("cư trú"))
            typed = await self._act(
                "ward", lambda: self.say("Bến Thành"), code_or_choice("Bến Thành")
            )
            code = typed
            if typed is CHOOSE:  # several units match what was typed: the resident picks one
                code = await self._act(
                    "pick", lambda: self.press("Phường Bến Thành"), verification_code
                )
            await self._act("code", lambda: self.say(code), has_button("Gửi"))
            await self._act("send", lambda: self.press("Gửi"), tracking_code)
            self.finished = True
        except Unanswered as stuck:
            self.stuck_at = str(stuck)
            self.seen_when_stuck = len(self.seen())
            last = self.seen()[-1:]
            self.last_said = last[0].text[:160] if last else ""

    def repeated(self) -> int:
        """Messages whose text this chat had already got (a reply sent twice)."""
        counts = Counter(message.text for message in self.seen() if message.text.strip())
        return sum(count - 1 for count in counts.values())


class TelegramResident(Resident):
    channel = "telegram"

    def __init__(self, fake: RecordingTelegram, number: int, user_id: int, **kw: Any) -> None:
        super().__init__(number, user_id, **kw)
        self.fake = fake
        fake.user(user_id, f"Cư dân {number}")

    def messages(self) -> list[SentMessage]:
        return self.fake.sent_messages(self.user_id)

    def seen(self) -> list[Seen]:
        return [
            Seen(
                message.text or "",
                [(b["text"], b.get("callback_data", "")) for b in message.inline_buttons],
                message.requests_contact,
            )
            for message in self.messages()
        ]

    def changed(self) -> asyncio.Event:
        return self.fake.changed(self.user_id)

    async def command(self, name: str) -> str:
        return str(self.fake.send_command(self.user_id, name)["update_id"])

    async def say(self, text: str) -> str:
        return str(self.fake.send_text(self.user_id, text)["update_id"])

    async def press(self, label: str) -> str:
        for message in reversed(self.messages()):
            for button in message.inline_buttons:
                if label in button["text"]:
                    update = self.fake.press_button(self.user_id, message, button["callback_data"])
                    return str(update["update_id"])
        raise Unanswered(f"no button {label}")

    async def give_phone(self) -> str:
        update = self.fake.send_contact(self.user_id, self.phone, contact_user_id=self.user_id)
        return str(update["update_id"])


class ZaloOAResident(Resident):
    channel = "zalo_oa"

    def __init__(
        self,
        fake: LoadZaloOA,
        http: aiohttp.ClientSession,
        url: str,
        number: int,
        user_id: int,
        **kw: Any,
    ) -> None:
        super().__init__(number, user_id, **kw)
        self.fake, self.http, self.url = fake, http, url

    def seen(self) -> list[Seen]:
        return [
            Seen(
                message.text,
                [(b["title"], b["payload"]) for b in message.buttons]
                + [(label, number) for number, label in NUMBERED.findall(message.text)],
                message.asks_user_info,
            )
            for message in self.fake.by_user.get(self.account, [])
        ]

    def changed(self) -> asyncio.Event:
        return self.fake.waker.event(self.account)

    async def _post(self, event: dict[str, Any]) -> str:
        from bot.channels.zalo_oa.events import event_id

        update = event_id(event)
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            if await self.fake.post_event(self.url, event, session=self.http) == 200:
                self.acknowledged.add(update)
        return update

    async def say(self, text: str) -> str:
        return await self._post(self.fake.text_event(self.account, text))

    async def give_phone(self) -> str:
        name = full_name(self.number)
        return await self._post(self.fake.submit_info_event(self.account, self.phone, name))


class ZaloBotResident(Resident):
    channel = "zalo_bot"
    shares_phone = False

    def __init__(
        self,
        fake: LoadZaloBot,
        http: aiohttp.ClientSession,
        url: str,
        number: int,
        user_id: int,
        **kw: Any,
    ) -> None:
        super().__init__(number, user_id, **kw)
        self.fake, self.http, self.url = fake, http, url

    def seen(self) -> list[Seen]:
        return [
            Seen(message.text, [(label, n) for n, label in NUMBERED.findall(message.text)])
            for message in self.fake.by_chat.get(self.account, [])
        ]

    def changed(self) -> asyncio.Event:
        return self.fake.waker.event(self.account)

    async def say(self, text: str) -> str:
        from bot.channels.zalo_bot.channel import event_id

        event = self.fake.text_event(self.account, text)
        update = event_id(event)
        headers = {"X-Bot-Api-Secret-Token": ZALO_BOT_SECRET}
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            body = {"ok": True, "result": event}
            async with self.http.post(self.url, json=body, headers=headers) as response:
                await response.read()
                if response.status == 200:
                    self.acknowledged.add(update)
        return update


#: chat.js's RESEND_WITHIN_MS.
RESEND_WITHIN_SECONDS = 60.0


class WebResident(Resident):
    """A browser with the chat page open (bot/channels/web/static/chat.js)."""

    channel = "web"
    shares_phone = False

    def __init__(self, url: str, address: str, number: int, user_id: int, **kw: Any) -> None:
        super().__init__(number, user_id, **kw)
        self.url = url  # ws://nginx/web/ws
        self.address = address  # the resident's own source address
        self.token: str | None = None
        self.last_seq = 0
        self.frames: dict[int, Seen] = {}  # shown messages by sequence number
        self.waker = asyncio.Event()
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.errors: Counter[str] = Counter()
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._start_sent = False
        self._pending: dict[str, tuple[dict[str, Any], float]] = {}  # id -> (frame, sent at)

    @property
    def account(self) -> str:
        from bot.channels.web.channel import chat_id_for

        return chat_id_for(self.token) if self.token else ""

    def seen(self) -> list[Seen]:
        return [self.frames[seq] for seq in sorted(self.frames)]

    def changed(self) -> asyncio.Event:
        return self.waker

    async def open(self) -> None:
        connector = aiohttp.TCPConnector(local_addr=(self.address, 0), limit=2)
        self._http = aiohttp.ClientSession(connector=connector)
        self._task = asyncio.create_task(self._keep_connected())
        await self._wait_connected()

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._http is not None:
            await self._http.close()

    async def _wait_connected(self) -> None:
        try:
            await asyncio.wait_for(self.connected.wait(), self.timeout)
        except TimeoutError:
            raise Unanswered("connect") from None

    async def _keep_connected(self) -> None:
        retry = 0
        assert self._http is not None
        while not self._closing:
            try:
                async with self._http.ws_connect(self.url, autoping=True) as socket:
                    retry = 0
                    hello: dict[str, Any] = {"type": "hello", "after": self.last_seq}
                    if self.token:
                        hello["token"] = self.token
                    await socket.send_json(hello)
                    async for message in socket:
                        if message.type is not aiohttp.WSMsgType.TEXT:
                            break
                        await self._frame(socket, json.loads(message.data))
            except (aiohttp.ClientError, OSError, TimeoutError):
                pass
            self._socket = None
            self.connected.clear()
            if self._closing:
                return
            # The page: retry = min(retry + 1, 6); setTimeout(connect, 500 * 2 ** retry).
            retry = min(retry + 1, 6)
            self.reconnects += 1
            await asyncio.sleep(0.5 * 2**retry)

    async def _frame(self, socket: aiohttp.ClientWebSocketResponse, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "session":
            fresh = frame["token"] != self.token
            if fresh:
                self.token, self.last_seq = frame["token"], 0
            self.last_seq = min(self.last_seq, int(frame["last"]))
            self._socket = socket
            if fresh:
                self._pending.clear()
            # The page sends again what its dead socket left unanswered (sendPendingAgain).
            now = time.monotonic()
            for frame_id, (sent, at) in list(self._pending.items()):
                if now - at < RESEND_WITHIN_SECONDS:
                    await socket.send_json({**sent, "id": frame_id})
                else:
                    del self._pending[frame_id]
            self.connected.set()
            if fresh and not self._start_sent:  # the page opens a new chat with /start
                self._start_sent = True
                self.sent.append(await self._send({"type": "text", "text": "/start"}))
        elif kind == "message":
            seq = int(frame["seq"])
            if seq not in self.frames:
                buttons = [(b["label"], b["data"]) for row in frame["buttons"] for b in row]
                self.frames[seq] = Seen(str(frame["text"]), buttons)
                self.waker.set()
            self.last_seq = max(self.last_seq, seq)
        elif kind == "done":  # every reply to that frame was sent: as a webhook's 200
            self._pending.pop(str(frame["id"]), None)
            self.acknowledged.add(f"{self.account[:21]}:{frame['id']}")
        elif kind == "error":
            self.errors[str(frame.get("code"))] += 1
            self._pending.clear()  # answered: the page shows why
            if frame.get("code") == "rate_limited":
                self.rate_limited += 1

    async def _send(self, frame: dict[str, Any]) -> str:
        """Send a frame as the page does (an id of its own); while the socket is down, wait
        for it as a person waits for the page to say it is connected again."""
        await self._wait_connected()
        socket = self._socket
        assert socket is not None and self.token
        frame_id = secrets.token_hex(8)
        self._pending[frame_id] = (frame, time.monotonic())
        # The socket may be closing under the page (its worker killed) though not closed yet:
        # the browser's send then fails silently, and the frame, pending, is sent again once
        # connected (sendPendingAgain in chat.js).
        with contextlib.suppress(aiohttp.ClientError, ConnectionError):
            await socket.send_json({**frame, "id": frame_id})
        return f"{self.account[:21]}:{frame_id}"

    async def say(self, text: str) -> str:
        return await self._send({"type": "text", "text": text})

    async def press(self, label: str) -> str:
        for message in reversed(self.seen()):
            for shown, data in message.buttons:
                if label in shown:
                    return await self._send({"type": "button", "data": data})
        raise Unanswered(f"no button {label}")


# -- what an answer must contain ------------------------------------------------------------------


def has_button(label: str) -> Found:
    return lambda messages: any(
        label in shown for message in messages for shown, _ in message.buttons
    )


def says(words: str) -> Found:
    return lambda messages: any(words in message.text for message in messages)


def asks_contact(messages: list[Seen]) -> bool:
    return any(message.asks_contact for message in messages)


def verification_code(messages: list[Seen]) -> str | None:
    for message in reversed(messages):
        match = VERIFY_CODE.search(message.text)
        if match:
            return match.group(1) or match.group(2)
    return None


CHOOSE = "choose"


def code_or_choice(label: str) -> Found:
    """The verification code, or CHOOSE when a list of units with ``label`` came instead."""

    def found(messages: list[Seen]) -> str | None:
        return verification_code(messages) or (CHOOSE if has_button(label)(messages) else None)

    return found


def tracking_code(messages: list[Seen]) -> bool:
    return any(TRACKING_CODE.search(message.text) for message in messages)
