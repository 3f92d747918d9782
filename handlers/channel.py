"""What a channel adapter hands to the conversations, and what it gets back to render.

An adapter turns a platform update into one :class:`Incoming` and renders each :class:`Outgoing`
in the platform's terms; buttons degrade to numbered text where a platform has none. Text in an
``Outgoing`` is HTML (Telegram's HTML parse mode): user text in it is already escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Contact:
    """A shared contact. ``user_id`` is the contact's own account id, when the platform knows it."""

    phone_number: str
    user_id: str | None = None


@dataclass(frozen=True)
class Attachment:
    kind: str  # "photo" or "document"
    file_ref: str  # the platform's file id
    file_name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True)
class Incoming:
    channel: str
    user_id: str
    chat_id: str
    update_id: str | None = None
    message_id: str | None = None
    text: str | None = None  # message text, or a caption
    command: str | None = None  # "start" for "/start abc"
    payload: str = ""  # "abc" for "/start abc"
    button: str | None = None  # callback data of a pressed button
    contact: Contact | None = None
    attachment: Attachment | None = None
    sticker: bool = False
    unsupported: bool = False  # voice, location, …: something we cannot read
    display_name: str | None = None
    location: tuple[float, float] | None = None  # (latitude, longitude) of a shared place
    shows_images: bool = True  # False: the channel shows text only (codes as text, not pictures)


@dataclass(frozen=True)
class Photo:
    """A photo a platform keeps (a resident sent it): shown again by reference, not uploaded.
    Only the platform that holds it can show it (a Telegram file id is valid for the same bot)."""

    channel: str  # the platform that holds the file ("telegram")
    file_ref: str  # that platform's file id
    caption: str = ""  # HTML; a new caption starts a new group (the photos of one petition)


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Outgoing:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    ask_contact: str | None = None  # label of a "share my phone" reply-keyboard button
    ask_location: str | None = None  # label of a "share my location" button, where there is one
    remove_keyboard: bool = False
    image: bytes | None = None  # a PNG, with ``text`` as its caption
    document: tuple[str, bytes] | None = None  # (file name, bytes), with ``text`` as caption
    # Photos a platform keeps, sent after the text by the channel that holds them; other
    # channels show only the text, which says how many there are and where to see them.
    photos: tuple[Photo, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    def button_rows(self) -> list[list[Button]]:
        return [list(row) for row in self.buttons]


def numbered_text(message: Outgoing, first: int = 1) -> str:
    """Buttons as numbered lines from ``first``, for channels without buttons (the console)."""
    labels = [button.label for row in message.buttons for button in row]
    if not labels:
        return message.text
    lines = [message.text, ""]
    lines.extend(f"  [{number}] {label}" for number, label in enumerate(labels, start=first))
    return "\n".join(lines)


def all_buttons(messages: list[Outgoing]) -> list[Button]:
    """The buttons of several replies, in the order they are numbered."""
    return [button for message in messages for row in message.buttons for button in row]


def button_for_number(buttons: list[Button], typed: str) -> Button | None:
    """The button a number typed on a channel without buttons stands for."""
    from handlers.parsing import parse_id

    number = parse_id(typed)
    if number is not None and number <= len(buttons):
        return buttons[number - 1]
    return None
