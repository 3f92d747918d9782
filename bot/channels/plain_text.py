"""For channels that show plain text (Zalo OA, Zalo Bot): our HTML as plain text, long texts
split at the platform's limit, and buttons as numbered lines whose numbers (or labels) typed
back map to the button, remembered in the store so a restart keeps them."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine

from handlers.channel import Outgoing, all_buttons, button_for_number, numbered_text
from handlers.reply_queue import TURN_FIRST_BUTTON
from nlp.text import bare_words
from storage import channel_store
from storage.types import utc_now
from storage.unit_of_work import UnitOfWork

P = ParamSpec("P")
T = TypeVar("T")

_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")


def plain(text: str) -> str:
    """The HTML of a reply (handlers/channel.py) as plain text."""
    return html.unescape(_TAG.sub("", text))


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a line end or a space where possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut <= limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def numbered_lines_length(message: Outgoing, first: int = 1) -> int:
    """How many characters the numbered lines of ``message``'s buttons add (numbers up to 999)."""
    labels = [button.label for row in message.buttons for button in row]
    return sum(len(label) + 10 for label in labels) + 2 if labels else 0


def as_plain(message: Outgoing) -> Outgoing:
    """``message`` with its HTML text as plain text (done once: plain text is not HTML)."""
    return replace(message, text=plain(message.text))


def text_pieces(message: Outgoing, limit: int) -> list[Outgoing]:
    """``message`` (plain text) as pieces of at most ``limit`` characters; the buttons stay on
    the last piece, with room left for their numbered lines."""
    reserve = numbered_lines_length(message)
    texts = split_text(message.text, limit)
    if len(texts[-1]) + reserve > limit:
        texts[-1:] = split_text(texts[-1], max(limit - reserve, limit // 2))
    pieces = [Outgoing(text=text) for text in texts[:-1]]
    pieces.append(replace(message, text=texts[-1]))
    return pieces


def in_store(
    engine: Engine, work: Callable[Concatenate[UnitOfWork, P], T], *args: P.args, **kwargs: P.kwargs
) -> asyncio.Future[T]:
    """Run ``work(uow, …)`` in a thread, in a unit of work of its own (the store is synchronous;
    the event loop stays free)."""

    def run() -> T:
        with UnitOfWork(engine) as uow:
            return work(uow, *args, **kwargs)

    return asyncio.ensure_future(asyncio.to_thread(run))


class ButtonMemory:
    """The buttons last shown in each chat of one channel, kept in the store."""

    def __init__(self, engine: Engine, channel: str) -> None:
        self._engine = engine
        self._channel = channel

    def _run(
        self, work: Callable[Concatenate[UnitOfWork, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> asyncio.Future[T]:
        return in_store(self._engine, work, *args, **kwargs)

    async def after_turn(self, chat_id: str, replies: list[Outgoing]) -> list[int]:
        """Remember a turn's buttons (earlier ones stay valid until new ones are shown, as with
        Telegram's inline buttons); the number of each reply's first button."""
        buttons = all_buttons(replies)
        if buttons:
            await self._run(
                channel_store.remember_buttons,
                self._channel,
                chat_id,
                [(b.label, b.data) for b in buttons],
                append=False,
                now=utc_now(),
            )
        firsts, first = [], 1
        for reply in replies:
            firsts.append(first)
            first += len(all_buttons([reply]))
        return firsts

    async def add(self, chat_id: str, message: Outgoing) -> int:
        """Buttons shown outside a turn (a push): added after those shown; their first number.

        A turn's reply sent from the outbox (handlers/reply_queue.py) says where its buttons
        stand in its turn: the turn's first buttons start the chat's numbering afresh (as
        :meth:`after_turn` does), the next ones go on after them."""
        buttons = [(b.label, b.data) for row in message.buttons for b in row]
        if not buttons:
            return 1
        append = message.extra.get(TURN_FIRST_BUTTON) != "1"
        return int(
            await self._run(
                channel_store.remember_buttons,
                self._channel,
                chat_id,
                buttons,
                append=append,
                now=utc_now(),
            )
        )

    async def resolve(self, chat_id: str, typed: str) -> str | None:
        """The data of the button a typed number or a label stands for (exactly, else as people
        type it)."""
        shown = await self._run(channel_store.buttons_of, self._channel, chat_id)
        if not shown:
            return None
        from handlers.channel import Button

        buttons = [Button(label=label, data=data) for label, data in shown]
        by_number = button_for_number(buttons, typed)
        if by_number is not None:
            return by_number.data
        wanted = " ".join(typed.split())
        for button in reversed(buttons):
            if button.label == wanted:
                return button.data
        # A label typed as people type it: without diacritics, another case, no emoji ("kien
        # nghi" for "Kiến nghị", "gui y kien" for "✉️ Gửi ý kiến"), when it is one button's
        # only: "ben" among "Bên", "Bền", "Bến" is none of them (the step reads it as typed).
        words = bare_words(typed)
        meant = {button.data for button in buttons if words and bare_words(button.label) == words}
        return meant.pop() if len(meant) == 1 else None


def as_numbered(message: Outgoing, first: int) -> Outgoing:
    """``message`` (plain text) with its buttons as numbered lines of its text."""
    if not message.buttons:
        return message
    return replace(message, text=numbered_text(message, first), buttons=())
