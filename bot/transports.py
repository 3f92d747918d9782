"""Channel transports for the outbox sender: send one rendered message to one chat, and say how a
failure should be treated.

A :class:`Transport` raises :class:`RateLimited` (wait ``retry_after``, then send again),
:class:`TransientFailure` (try later: network errors, 5xx) or :class:`PermanentFailure` (give up:
the bot is blocked, the chat does not exist, the message is malformed). It never waits or retries
by itself: pacing and retries are the sender's (bot/outbox_sender.py).

A transport that knows a message takes several platform calls (a long text split at Telegram's
4,096 characters) also implements :class:`SplitsMessages`, so the sender paces every piece.
Every :class:`~bot.channels.base.Channel` is such a transport; the Telegram ones live in
bot/channels/telegram/ (the names below are kept for existing imports).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.channels.base import (  # noqa: F401  (the shared failures, re-exported)
    DeliveryError,
    PermanentFailure,
    RateLimited,
    TransientFailure,
)
from bot.channels.telegram.delivery import seconds  # noqa: F401  (re-exported)
from bot.channels.telegram.text import telegram_pieces  # noqa: F401  (re-exported)
from handlers.channel import Outgoing, numbered_text

if TYPE_CHECKING:  # each framework is imported only by the transport that uses it
    import aiogram
    import telegram

    from bot.channels.telegram.aiogram_shim import AiogramDelivery
    from bot.channels.telegram.ptb_shim import PtbDelivery


class Transport(Protocol):
    """Sends one rendered message to one chat of its channel."""

    async def send(self, chat_id: str, message: Outgoing) -> None: ...


@runtime_checkable
class SplitsMessages(Protocol):
    """A transport whose platform needs several calls for some messages."""

    def pieces(self, message: Outgoing) -> list[Outgoing]:
        """``message`` as messages of one platform call each, in the order they are sent."""
        ...


def TelegramAiogramTransport(bot: aiogram.Bot) -> AiogramDelivery:
    """Telegram through an aiogram ``Bot`` (bot/channels/telegram/aiogram_shim.make_bot)."""
    from bot.channels.telegram.aiogram_shim import AiogramDelivery

    return AiogramDelivery(bot)


def TelegramPtbTransport(bot: telegram.Bot) -> PtbDelivery:
    """Telegram through an initialised python-telegram-bot ``Bot`` (``application.bot`` of
    bot/channels/telegram/ptb_shim.make_application)."""
    from bot.channels.telegram.ptb_shim import PtbDelivery

    return PtbDelivery(bot)


class ConsoleTransport:
    """The console mode's channel: prints each message as terminal text."""

    channel = "console"

    def __init__(self, sink: Callable[[str], object] = print) -> None:
        self._sink = sink

    async def send(self, chat_id: str, message: Outgoing) -> None:
        from bot.console import plain

        self._sink(f"[→ {chat_id}] {plain(numbered_text(message))}")
