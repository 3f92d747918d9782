"""The console chat: the same conversations as Telegram, in a terminal (C7).

A newcomer gets it from ``doithoai run`` with no token; scripts and tests drive it through
:class:`ConsoleChat`. Several people can take turns: ``/nguoi Lan`` switches to (or creates) the
persona "Lan", each with their own account, so a resident and a staff member can be tried side by
side. Buttons become numbered lines: type the number to press one.
"""

from __future__ import annotations

import html
import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from handlers.channel import (
    Attachment,
    Button,
    Contact,
    Incoming,
    Outgoing,
    all_buttons,
    button_for_number,
    numbered_text,
)
from handlers.conversations import Conversations
from texts import t

CHANNEL = "console"
_TAG = re.compile(r"</?(b|i|code|u|s|pre)>")
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


def plain(text: str) -> str:
    """HTML of a reply as terminal text."""
    return html.unescape(_TAG.sub("", text))


@dataclass
class Persona:
    name: str
    user_id: str
    buttons: list[Button] = field(default_factory=list)


@dataclass
class ConsoleChat:
    """An in-process console channel: ``say()`` a line as the current persona, get text back."""

    conversations: Conversations
    image_dir: Path | None = None
    personas: dict[str, Persona] = field(default_factory=dict)
    current: str = ""
    _updates: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Update ids must never repeat across runs, or a new line would look like a redelivery.
    _run: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Delivers the outbox (messages to other people) and returns them as lines to show.
    deliver: Callable[[], list[str]] | None = None

    def __post_init__(self) -> None:
        if not self.current:
            self.switch(t("console.default_persona"))

    def switch(self, name: str) -> Persona:
        persona = self.personas.get(name)
        if persona is None:
            # The same name is the same person in every run: their account, roles and drafts.
            persona = Persona(name=name, user_id="-".join(name.lower().split()))
            self.personas[name] = persona
        self.current = name
        return persona

    @property
    def persona(self) -> Persona:
        return self.personas[self.current]

    def incoming_for(self, line: str) -> Incoming:
        persona = self.persona
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "user_id": persona.user_id,
            "chat_id": persona.user_id,
            "update_id": f"{self._run}:{next(self._updates)}",
        }
        pressed = button_for_number(persona.buttons, line)
        if pressed is not None:
            return Incoming(**base, button=pressed.data)
        command = _COMMAND.match(line.strip())
        if command:
            return Incoming(
                **base,
                text=line,
                command=command.group(1),
                payload=(command.group(2) or "").strip(),
            )
        return Incoming(**base, text=line)

    def send(self, incoming: Incoming) -> list[Outgoing]:
        replies = self.conversations.handle(incoming)
        # Like inline buttons on Telegram, earlier buttons stay valid until new ones are shown.
        if all_buttons(replies):
            self.persona.buttons = all_buttons(replies)
        return replies

    def say(self, line: str) -> str:
        """One line typed by the current persona; the replies as terminal text."""
        return self.render_all(self.send(self.incoming_for(line)))

    def render_all(self, replies: list[Outgoing]) -> str:
        texts, first = [], 1
        for reply in replies:
            texts.append(self.render(reply, first))
            first += len(all_buttons([reply]))
        return "\n\n".join(texts)

    def share_contact(self, phone: str, *, own: bool = True) -> str:
        persona = self.persona
        incoming = self.incoming_for("")
        contact = Contact(phone_number=phone, user_id=persona.user_id if own else "someone-else")
        replies = self.send(
            Incoming(
                channel=CHANNEL,
                user_id=persona.user_id,
                chat_id=persona.user_id,
                update_id=incoming.update_id,
                contact=contact,
            )
        )
        return self.render_all(replies)

    def attach(self, path: str) -> str:
        persona = self.persona
        kind = "photo" if path.lower().endswith((".png", ".jpg", ".jpeg")) else "document"
        incoming = self.incoming_for("")
        replies = self.send(
            Incoming(
                channel=CHANNEL,
                user_id=persona.user_id,
                chat_id=persona.user_id,
                update_id=incoming.update_id,
                attachment=Attachment(
                    kind=kind, file_ref=f"file:{path}", file_name=Path(path).name
                ),
            )
        )
        return self.render_all(replies)

    def name_chats(self, line: str) -> str:
        """A delivered message, its recipient's chat id replaced by the persona's name."""
        for persona in self.personas.values():
            line = line.replace(f"[→ {persona.user_id}]", f"📬 [→ {persona.name}]")
        return line

    def render(self, reply: Outgoing, first: int = 1) -> str:
        text = plain(numbered_text(reply, first))
        if reply.image is not None and self.image_dir is not None:
            self.image_dir.mkdir(parents=True, exist_ok=True)
            name = reply.extra.get("file_name") or f"anh-{next(self._updates)}.png"
            path = self.image_dir / Path(name).name
            path.write_bytes(reply.image)
            text += "\n" + t("console.image_saved", path=str(path))
        if reply.document is not None and self.image_dir is not None:
            # A file the bot sends (the yearly report's .docx and .xlsx): written beside the
            # images, and the console says where.
            self.image_dir.mkdir(parents=True, exist_ok=True)
            file_name, content = reply.document
            path = self.image_dir / Path(file_name).name
            path.write_bytes(content)
            text = (text + "\n" if text else "") + t("console.file_saved", path=str(path))
        if reply.ask_contact:
            text += "\n" + t("console.contact_hint")
        return text


def run_console(chat: ConsoleChat, source: TextIO, sink: TextIO) -> int:
    """The interactive loop of ``doithoai run`` without a token."""
    print(t("console.greeting"), file=sink)
    print(chat.say("/start"), file=sink)
    for raw in source:
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        word, _, rest = line.strip().partition(" ")
        if word.lower() in {w.strip() for w in t("console.words.exit").split("|")}:
            break
        if word.lower() == "/nguoi" and rest.strip():
            chat.switch(rest.strip())
            print(t("console.switched", name=rest.strip()), file=sink)
            continue
        if word.lower() == "/lienhe" and rest.strip():
            print(chat.share_contact(rest.strip()), file=sink)
            continue
        if word.lower() == "/tep" and rest.strip():
            print(chat.attach(rest.strip()), file=sink)
            continue
        if not source.isatty():
            print(f"[{chat.current}] > {line}", file=sink)
        print(chat.say(line), file=sink)
        for delivered in chat.deliver() if chat.deliver else []:
            print(chat.name_chats(delivered), file=sink)
        sink.flush()
    print(t("console.goodbye"), file=sink)
    return 0
