"""Direct replies: what a conversation turn answers, sent to the person who wrote, exactly once
and in order (X4).

Replies go through the same :class:`~bot.rate_limit.RateLimiter` as the outbox sender (the
runner gives both the one limiter), as urgent sends (before queued broadcast messages of other
chats), piece by piece (:meth:`Channel.pieces`):

* a piece that was sent is never sent again; the next piece follows it;
* 429 (:class:`RateLimited`): every send pauses for ``retry_after``, then the same piece again;
* a transient failure (network, 5xx): the same piece again after a backoff (0.5 s, 1 s, 2 s…
  up to 30 s), as long as the process lives;
* a permanent failure (the bot is blocked, the chat is gone): the rest of the replies to that
  chat for this turn are dropped, with a warning.

:class:`ChatTurns` lets a channel handle updates of different chats at once while one chat's
updates are handled, and answered, one after the other.

What is not covered: replies live in memory, so a crash between the turn's commit and the last
piece loses the rest; a send that timed out after Telegram took it may be sent twice. On
PostgreSQL Telegram's replies therefore go through the outbox instead (issue 12: queued in the
turn's transaction, handlers/reply_queue.py; ``REPLIES_THROUGH_OUTBOX``), and this sender serves
SQLite's single process, the web chat and the Zalo channels.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Hashable, Sequence
from contextlib import asynccontextmanager

from bot import metrics
from bot.channels.base import (
    Channel,
    PermanentFailure,
    RateLimited,
    TransientFailure,
    prepare,
    send_call,
)
from bot.outbox_sender import backoff_delay
from bot.rate_limit import RateLimiter
from handlers.channel import Outgoing

log = logging.getLogger(__name__)


class ReplySender:
    """Sends a turn's replies through ``limiter``, each piece exactly once."""

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self.limiter = limiter
        self._backoff = (backoff_seconds, max_backoff_seconds)
        # Totals over the sender's life, for logs and tests.
        self.sent = 0
        self.rate_limited = 0
        self.retried = 0
        self.dropped = 0

    async def deliver(self, channel: Channel, chat_id: str, replies: Sequence[Outgoing]) -> bool:
        """Send ``replies`` in order; False if a permanent failure stopped them."""
        for number, reply in enumerate(replies):
            for piece in channel.pieces(reply):
                try:
                    await self._send_piece(channel, chat_id, piece)
                except PermanentFailure as failure:
                    self.dropped += len(replies) - number
                    log.warning(
                        "%s: %s replies to a chat dropped: %s",
                        channel.name,
                        len(replies) - number,
                        failure.reason,
                    )
                    return False
        return True

    async def _send_piece(self, channel: Channel, chat_id: str, piece: Outgoing) -> None:
        key = (channel.name, chat_id)  # the outbox sender's key: one pace per chat for both
        failures = 0
        piece = await prepare(channel, chat_id, piece)  # once, outside the limiter's turn
        send = send_call(channel)
        while True:
            async with self.limiter.slot(key, urgent=True):
                try:
                    await send(chat_id, piece)
                except RateLimited as limit:
                    self.rate_limited += 1
                    metrics.rate_limited(channel.name)
                    self.limiter.pause(limit.retry_after)
                    log.warning(
                        "%s: rate limited, pausing all sends %.1f s (a reply)",
                        channel.name,
                        limit.retry_after,
                    )
                    continue
                except TransientFailure as failure:
                    reason = failure.reason
                except PermanentFailure:
                    raise
                except Exception as error:  # an unmapped error: assume it may pass
                    log.exception("%s: unexpected error while sending a reply", channel.name)
                    reason = f"unexpected {type(error).__name__}"
                else:
                    self.sent += 1
                    return
            failures += 1
            self.retried += 1
            delay = backoff_delay(failures, *self._backoff).total_seconds()
            log.warning("%s: a reply piece retried in %.1f s: %s", channel.name, delay, reason)
            await asyncio.sleep(delay)


class ChatTurns:
    """One turn at a time per chat, first come first served; other chats are not held up.

    A turn may end in another task than the one that began it (:meth:`begin` / :meth:`end`):
    a channel answers its platform once the conversation has answered, and sends the replies
    afterwards, still holding the chat's turn."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    async def begin(self, chat: Hashable) -> None:
        lock, users = self._locks.get(chat) or (asyncio.Lock(), 0)
        self._locks[chat] = (lock, users + 1)
        try:
            await lock.acquire()
        except BaseException:
            self._leave(chat)
            raise

    def end(self, chat: Hashable) -> None:
        lock, _ = self._locks[chat]
        lock.release()
        self._leave(chat)

    @asynccontextmanager
    async def turn(self, chat: Hashable) -> AsyncIterator[None]:
        await self.begin(chat)
        try:
            yield
        finally:
            self.end(chat)

    def _leave(self, chat: Hashable) -> None:
        lock, users = self._locks[chat]
        if users <= 1:
            del self._locks[chat]
        else:
            self._locks[chat] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
