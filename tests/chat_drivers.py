"""Drivers that let one contract suite talk to every channel adapter the same way.

The console driver runs the console adapter in-process; the Telegram drivers run the real aiogram
or python-telegram-bot adapter against the fake Bot API server on 127.0.0.1.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from typing import Protocol

from handlers.channel import Outgoing

_TAG = re.compile(r"</?(b|i|u|s|code|pre)>")


@dataclass
class Reply:
    html: str
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (label, data)
    image: bool = False
    ask_contact: bool = False
    document: tuple[str, bytes] | None = None  # (file name, bytes) of an attached file

    @property
    def text(self) -> str:
        return html.unescape(_TAG.sub("", self.html))

    @classmethod
    def of(cls, message: Outgoing) -> Reply:
        return cls(
            html=message.text,
            buttons=[(b.label, b.data) for row in message.buttons for b in row],
            image=message.image is not None,
            ask_contact=message.ask_contact is not None,
            document=message.document,
        )


def joined(replies: list[Reply]) -> str:
    return "\n---\n".join(reply.text for reply in replies)


class Driver(Protocol):
    name: str

    async def text(self, user: int, text: str) -> list[Reply]: ...
    async def command(self, user: int, name: str, payload: str = "") -> list[Reply]: ...
    async def press(self, user: int, label: str) -> list[Reply]: ...
    async def contact(self, user: int, phone: str, owner: int) -> list[Reply]: ...
    async def photo(self, user: int, caption: str | None = None) -> list[Reply]: ...
    async def forge(self, user: int, data: str) -> list[Reply]: ...
    async def replay_last(self, user: int) -> list[Reply]: ...
    async def restart(self) -> None: ...
    async def close(self) -> None: ...


def find_button(replies: list[Reply], label: str) -> tuple[str, str]:
    """The last button whose label contains ``label``."""
    for reply in reversed(replies):
        for button in reply.buttons:
            if label in button[0]:
                return button
    raise AssertionError(f"no button {label!r} in {[r.buttons for r in replies]}")


class ConsoleDriver:
    """The console adapter, in-process. A restart builds a new adapter over the same store."""

    name = "console"

    def __init__(self, make_conversations) -> None:
        from bot.console import ConsoleChat

        self._make = make_conversations
        self._chat_class = ConsoleChat
        self.chat = ConsoleChat(make_conversations())
        self._last: dict[int, object] = {}

    def _as(self, user: int) -> None:
        self.chat.switch(f"u{user}")

    def _send(self, user: int, incoming) -> list[Reply]:
        self._last[user] = incoming
        return [Reply.of(message) for message in self.chat.send(incoming)]

    async def text(self, user: int, text: str) -> list[Reply]:
        self._as(user)
        return self._send(user, self.chat.incoming_for(text))

    async def command(self, user: int, name: str, payload: str = "") -> list[Reply]:
        return await self.text(user, f"/{name} {payload}".strip())

    async def press(self, user: int, label: str) -> list[Reply]:
        self._as(user)
        buttons = self.chat.persona.buttons
        for number, button in reversed(list(enumerate(buttons, start=1))):
            if label in button.label:
                return self._send(user, self.chat.incoming_for(str(number)))
        raise AssertionError(f"no button {label!r} among {[b.label for b in buttons]}")

    async def contact(self, user: int, phone: str, owner: int) -> list[Reply]:
        from handlers.channel import Contact, Incoming

        self._as(user)
        base = self.chat.incoming_for("")
        return self._send(
            user,
            Incoming(
                channel=base.channel,
                user_id=base.user_id,
                chat_id=base.chat_id,
                update_id=base.update_id,
                contact=Contact(
                    phone_number=phone, user_id=base.user_id if owner == user else f"u{owner}-other"
                ),
            ),
        )

    async def location(self, user: int, latitude: float, longitude: float) -> list[Reply]:
        """A shared location, as the Telegram and Zalo adapters hand it over (issue 13)."""
        from handlers.channel import Incoming

        self._as(user)
        base = self.chat.incoming_for("")
        return self._send(
            user,
            Incoming(
                channel=base.channel,
                user_id=base.user_id,
                chat_id=base.chat_id,
                update_id=base.update_id,
                location=(latitude, longitude),
            ),
        )

    async def photo(self, user: int, caption: str | None = None) -> list[Reply]:
        from handlers.channel import Attachment, Incoming

        self._as(user)
        base = self.chat.incoming_for("")
        return self._send(
            user,
            Incoming(
                channel=base.channel,
                user_id=base.user_id,
                chat_id=base.chat_id,
                update_id=base.update_id,
                text=caption,
                attachment=Attachment(kind="photo", file_ref="file:/tmp/anh.jpg"),
            ),
        )

    async def forge(self, user: int, data: str) -> list[Reply]:
        """A button press with any data: forged, or from a message long gone."""
        from handlers.channel import Incoming

        self._as(user)
        base = self.chat.incoming_for("")
        return self._send(
            user,
            Incoming(
                channel=base.channel,
                user_id=base.user_id,
                chat_id=base.chat_id,
                update_id=base.update_id,
                button=data,
            ),
        )

    async def replay_last(self, user: int) -> list[Reply]:
        return [Reply.of(m) for m in self.chat.conversations.handle(self._last[user])]  # type: ignore[arg-type]

    async def restart(self) -> None:
        personas = self.chat.personas
        self.chat = self._chat_class(
            self._make(), personas=personas, _updates=self.chat._updates, _run=self.chat._run
        )
        self.chat.current = next(iter(personas))

    async def close(self) -> None:
        return None


class WebDriver:
    """The web chat (bot/channels/web) for real: the one aiohttp application on 127.0.0.1 port 0
    and an aiohttp WebSocket client per resident, speaking the page's JSON frames. A restart
    serves a new application over the same store; each resident's page reconnects with its
    token and the last sequence number it saw, as a reloaded page does."""

    name = "web"
    shares_phone = False  # capabilities.share_phone: a phone is typed, never shared

    def __init__(self, make_conversations, engine, upload_dir) -> None:
        self._make = make_conversations
        self._engine = engine
        self._upload_dir = upload_dir
        self._tokens: dict[int, str] = {}
        self._seen: dict[int, int] = {}
        self._sockets: dict[int, object] = {}
        self._buttons: dict[int, list[tuple[str, str]]] = {}
        self._last: dict[int, dict[str, object]] = {}
        self._frames = 0
        self.url = ""

    @classmethod
    async def start(cls, make_conversations, engine, upload_dir) -> WebDriver:
        import aiohttp

        driver = cls(make_conversations, engine, upload_dir)
        driver._client = aiohttp.ClientSession()
        await driver._serve()
        return driver

    async def _serve(self) -> None:
        from aiohttp import web

        from bot.app import web_application
        from bot.channels.web import WebChannel, WebChatOptions
        from bot.runner import handler_for

        options = WebChatOptions(
            upload_dir=self._upload_dir,
            per_connection_per_second=100,
            per_connection_burst=100,
            per_address_per_second=100,
            per_address_burst=100,
        )
        self.channel = WebChannel(self._engine, options)
        conversations = self._make()
        if self._engine.dialect.name == "postgresql":
            # As ``doithoai run`` on PostgreSQL (issue 12): replies stored with the turn.
            self.channel.stores_replies = True
            conversations.reply_writers = {"web": self.channel.store_replies}
        await self.channel.start(handler_for(conversations))
        self._runner = web.AppRunner(web_application([self.channel]))
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"

    async def socket(self, user: int):
        socket = self._sockets.get(user)
        if socket is not None and not socket.closed:  # type: ignore[attr-defined]
            return socket
        socket = await self._client.ws_connect(self.url + "web/ws")
        hello: dict[str, object] = {"type": "hello", "after": self._seen.get(user, 0)}
        if user in self._tokens:
            hello["token"] = self._tokens[user]
        await socket.send_json(hello)
        session = await socket.receive_json(timeout=15)
        assert session["type"] == "session", session
        self._tokens[user] = session["token"]
        self._sockets[user] = socket
        return socket

    def _reply(self, user: int, frame: dict) -> Reply:
        self._seen[user] = max(self._seen.get(user, 0), int(frame["seq"]))
        buttons = [(b["label"], b["data"]) for row in frame["buttons"] for b in row]
        if buttons:
            self._buttons[user] = buttons
        document = frame.get("document")
        return Reply(
            html=frame["text"],
            buttons=buttons,
            image="image" in frame,
            document=(document["name"], base64.b64decode(document["data"])) if document else None,
        )

    async def send(self, user: int, frame: dict[str, object]) -> list[Reply]:
        socket = await self.socket(user)
        self._last[user] = frame
        await socket.send_json(frame)
        replies: list[Reply] = []
        while True:
            got = await socket.receive_json(timeout=30)
            if got["type"] == "message":
                replies.append(self._reply(user, got))
            elif got["type"] == "done" and got["id"] == frame["id"]:
                return replies
            elif got["type"] == "error":
                raise AssertionError(f"web chat error: {got}")

    def _id(self) -> str:
        self._frames += 1
        return f"f{self._frames}"

    async def text(self, user: int, text: str) -> list[Reply]:
        return await self.send(user, {"type": "text", "id": self._id(), "text": text})

    async def command(self, user: int, name: str, payload: str = "") -> list[Reply]:
        return await self.text(user, f"/{name} {payload}".strip())

    async def press(self, user: int, label: str) -> list[Reply]:
        for shown, data in reversed(self._buttons.get(user, [])):
            if label in shown:
                return await self.send(user, {"type": "button", "id": self._id(), "data": data})
        raise AssertionError(f"no button {label!r} among {self._buttons.get(user)}")

    async def contact(self, user: int, phone: str, owner: int) -> list[Reply]:
        raise AssertionError("the web page cannot share a contact (share_phone is false)")

    async def location(self, user: int, latitude: float, longitude: float) -> list[Reply]:
        """The page's "share my location" button: the browser's geolocation (issue 13)."""
        frame = {"type": "location", "latitude": latitude, "longitude": longitude}
        return await self.send(user, {**frame, "id": self._id()})

    async def photo(self, user: int, caption: str | None = None) -> list[Reply]:
        import base64
        import io

        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), (200, 100, 50)).save(buffer, format="JPEG")
        frame: dict[str, object] = {
            "type": "photo",
            "id": self._id(),
            "data": base64.b64encode(buffer.getvalue()).decode("ascii"),
        }
        if caption is not None:
            frame["caption"] = caption
        return await self.send(user, frame)

    async def replay_last(self, user: int) -> list[Reply]:
        return await self.send(user, self._last[user])

    async def _close_sockets(self) -> None:
        for socket in self._sockets.values():
            await socket.close()  # type: ignore[attr-defined]
        self._sockets.clear()

    async def restart(self) -> None:
        await self._close_sockets()
        await self.channel.stop()
        await self._runner.cleanup()
        await self._serve()

    async def close(self) -> None:
        await self._close_sockets()
        await self.channel.stop()
        await self._runner.cleanup()
        await self._client.close()
