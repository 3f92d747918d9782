"""Building replies: catalogue text with user values escaped for HTML, and the common keyboards."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from handlers.channel import Button, Outgoing
from texts import t


class Html(str):
    """A value that is already safe HTML (built by us), not to be escaped again."""

    __slots__ = ()


def say(key: str, /, **values: object) -> str:
    """The catalogue text for ``key``; every value is escaped unless it is :class:`Html`."""
    safe = {
        name: value if isinstance(value, Html) else html.escape(str(value), quote=False)
        for name, value in values.items()
    }
    return t(key, **safe)


def reply(key: str, /, buttons: Sequence[Sequence[Button]] = (), **values: object) -> Outgoing:
    return Outgoing(text=say(key, **values), buttons=tuple(tuple(row) for row in buttons))


def button(key: str, data: str, **values: object) -> Button:
    return Button(label=t(key, **values), data=data)


def one_per_row(buttons: Iterable[Button]) -> tuple[tuple[Button, ...], ...]:
    return tuple((item,) for item in buttons)


def main_menu() -> tuple[tuple[Button, ...], ...]:
    """The menu of the resident's commands, as buttons (commands are also typed)."""
    return (
        (button("chat.menu.sessions", "cmd:phien"), button("chat.menu.register", "cmd:dangky")),
        (button("chat.menu.opinion", "cmd:gopy"), button("chat.menu.track", "cmd:tracuu")),
        (button("chat.menu.help", "cmd:trogiup"),),
    )
