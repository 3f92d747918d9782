"""Channel transports for the outbox sender: send one rendered message to one chat, and say how a
failure should be treated.

A :class:`Transport` raises :class:`RateLimited` (wait ``retry_after``, then send again),
:class:`TransientFailure` (try later: network errors, 5xx) or :class:`PermanentFailure` (give up:
the bot is blocked, the chat does not exist, the message is malformed). It never waits or retries
by itself: pacing and retries are the sender's (bot/outbox_sender.py).

A transport that knows a message takes several platform calls (a long text split at Telegram's
4,096 characters) also implements :class:`SplitsMessages`, so the sender paces every piece.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.channels.base import (  # noqa: F401  (the shared failures, re-exported)
    DeliveryError,
    PermanentFailure,
    RateLimited,
    TransientFailure,
)
from bot.telegram.text import telegram_pieces
from handlers.channel import Outgoing, numbered_text

if TYPE_CHECKING:  # each framework is imported only by the transport that uses it
    import aiogram
    import telegram


class Transport(Protocol):
    """Sends one rendered message to one chat of its channel."""

    async def send(self, chat_id: str, message: Outgoing) -> None: ...


@runtime_checkable
class SplitsMessages(Protocol):
    """A transport whose platform needs several calls for some messages."""

    def pieces(self, message: Outgoing) -> list[Outgoing]:
        """``message`` as messages of one platform call each, in the order they are sent."""
        ...


class TelegramAiogramTransport:
    """Telegram through an aiogram ``Bot`` (bot/telegram/aiogram_channel.make_bot)."""

    channel = "telegram"

    def __init__(self, bot: aiogram.Bot) -> None:
        self.bot = bot

    def pieces(self, message: Outgoing) -> list[Outgoing]:
        return telegram_pieces(message)

    async def send(self, chat_id: str, message: Outgoing) -> None:
        import aiohttp
        from aiogram.exceptions import (
            ClientDecodeError,
            TelegramBadRequest,
            TelegramConflictError,
            TelegramEntityTooLarge,
            TelegramForbiddenError,
            TelegramMigrateToChat,
            TelegramNetworkError,
            TelegramNotFound,
            TelegramRetryAfter,
            TelegramServerError,
            TelegramUnauthorizedError,
        )

        from bot.telegram.aiogram_channel import deliver

        try:
            await deliver(self.bot, chat_id, message, retry_rate_limit=False)
        except TelegramRetryAfter as limit:
            raise RateLimited(float(limit.retry_after)) from limit
        except TelegramMigrateToChat as moved:
            raise PermanentFailure(f"chat migrated to {moved.migrate_to_chat_id}") from moved
        except (TelegramForbiddenError, TelegramBadRequest, TelegramEntityTooLarge) as refused:
            raise PermanentFailure(refused.message) from refused
        except (TelegramUnauthorizedError, TelegramNotFound, TelegramConflictError) as setup:
            # The token or the API address is wrong: every message fails until it is fixed.
            raise TransientFailure(f"bot setup: {setup.message}") from setup
        except (TelegramServerError, TelegramNetworkError) as failure:
            raise TransientFailure(failure.message) from failure
        except (ClientDecodeError, aiohttp.ClientError, TimeoutError, OSError) as failure:
            raise TransientFailure(f"{type(failure).__name__}: {failure}") from failure


class TelegramPtbTransport:
    """Telegram through a python-telegram-bot ``Bot``, initialised (``application.bot`` of
    bot/telegram/ptb_channel.make_application has a pool for concurrent sends)."""

    channel = "telegram"

    def __init__(self, bot: telegram.Bot) -> None:
        self.bot = bot

    def pieces(self, message: Outgoing) -> list[Outgoing]:
        return telegram_pieces(message)

    async def send(self, chat_id: str, message: Outgoing) -> None:
        from telegram.error import (
            BadRequest,
            ChatMigrated,
            Forbidden,
            InvalidToken,
            NetworkError,
            RetryAfter,
            TelegramError,
        )

        from bot.telegram.ptb_channel import deliver

        try:
            await deliver(self.bot, chat_id, message, retry_rate_limit=False)
        except RetryAfter as limit:
            raise RateLimited(seconds(limit.retry_after)) from limit
        except ChatMigrated as moved:
            raise PermanentFailure(f"chat migrated to {moved.new_chat_id}") from moved
        except (Forbidden, BadRequest) as refused:  # BadRequest is a NetworkError: first
            raise PermanentFailure(refused.message) from refused
        except InvalidToken as setup:
            raise TransientFailure(f"bot setup: {setup.message}") from setup
        except NetworkError as failure:  # TimedOut, 5xx and connection errors
            raise TransientFailure(failure.message) from failure
        except TelegramError as failure:  # Conflict and the like
            raise TransientFailure(failure.message) from failure


def seconds(value: float | timedelta) -> float:
    """A ``retry_after`` as seconds, whether the framework gives a number or a timedelta."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ConsoleTransport:
    """The console mode's channel: prints each message as terminal text."""

    channel = "console"

    def __init__(self, sink: Callable[[str], object] = print) -> None:
        self._sink = sink

    async def send(self, chat_id: str, message: Outgoing) -> None:
        from bot.console import plain

        self._sink(f"[→ {chat_id}] {plain(numbered_text(message))}")
