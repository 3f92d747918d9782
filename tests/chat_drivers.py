"""Drivers that let one contract suite talk to every channel adapter the same way.

The console driver runs the console adapter in-process; the Telegram drivers run the real aiogram
or python-telegram-bot adapter against the fake Bot API server on 127.0.0.1.
"""

from __future__ import annotations

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
