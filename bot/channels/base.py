"""The one channel interface: what every chat platform adapter is to the rest of the bot.

A channel (Rasa's ``InputChannel`` and ``OutputChannel`` in one small class) turns its
platform's updates into :class:`~handlers.channel.Incoming` values handed to ``handle``, and
sends :class:`~handlers.channel.Outgoing` values in its platform's terms. Replies to the
current sender and outbox deliveries (pushes, invitations, alerts) go through the same
:meth:`Channel.send`, which sends exactly one platform message and raises one of the shared
failures below; pacing and retries belong to the caller (bot/outbox_sender.py).

Adding a channel touches its folder under ``bot/channels/`` and the configuration, never
``handlers/`` or ``procedure/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast, runtime_checkable

from aiohttp import web

from handlers.channel import Incoming, Outgoing

# What a channel hands each update to: the conversation turn, run off the event loop.
Handle = Callable[[Incoming], Awaitable[list[Outgoing]]]


class DeliveryError(Exception):
    """A message could not be delivered; ``reason`` is short and holds no message text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimited(DeliveryError):
    """The platform's flood control (429): send nothing for ``retry_after`` seconds."""

    def __init__(self, retry_after: float, reason: str = "") -> None:
        super().__init__(reason or f"rate limited: retry after {retry_after:g} s")
        self.retry_after = retry_after


class TransientFailure(DeliveryError):
    """Worth another try later: network errors, 5xx, a misconfigured token being fixed."""


class PermanentFailure(DeliveryError):
    """Another try cannot succeed: the bot is blocked, the chat is gone, the request is wrong."""


class OutsideReplyWindow(PermanentFailure):
    """The platform refuses free replies this long after the person's last message (Zalo OA)."""


@dataclass(frozen=True)
class Capabilities:
    """What a platform can show; the renderer degrades what it cannot (numbered text)."""

    buttons: bool = False
    max_buttons: int = 0  # per message; more become numbered text
    max_text: int = 4096  # characters per platform message; longer texts are split
    share_phone: bool = False  # a verified "share my phone" (Telegram contact, Zalo user info)
    images: bool = False
    documents: bool = False
    edit: bool = False


@runtime_checkable
class Channel(Protocol):
    """One chat platform in the running process."""

    name: str  # "telegram", "zalo_oa", "zalo_bot", "web", "console": the ``Incoming.channel``
    capabilities: Capabilities

    async def start(self, handle: Handle) -> None:
        """Begin receiving (polling tasks, webhook registration); return once running."""
        ...

    async def stop(self) -> None: ...

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        """Routes this channel adds to the one aiohttp application the process serves
        (webhooks, the web chat's WebSocket and page); empty when it needs none."""
        ...

    def pieces(self, message: Outgoing) -> list[Outgoing]:
        """``message`` as messages of one platform call each, in the order they are sent."""
        ...

    async def send(self, chat_id: str, message: Outgoing) -> None:
        """Send one piece to one chat; raise RateLimited, TransientFailure or PermanentFailure."""
        ...


@runtime_checkable
class PreparesMessages(Protocol):
    """A channel with work to do for a piece before its platform call that must not take a
    turn of the rate limiter: a database write (the Zalo channels remember a push's buttons, so
    that a resident may answer by number). Inside the turn, its varying delay would bunch calls
    the limiter had spaced out, over the platform's limit. The senders (bot/outbox_sender.py,
    bot/reply_sender.py) call :meth:`prepare` once a piece, outside the turn, then
    :meth:`send_prepared` in the turn, again after a 429 without preparing again; :meth:`send`
    does both."""

    async def prepare(self, chat_id: str, message: Outgoing) -> Outgoing:
        """The piece as it will be sent (buttons remembered, numbered when needed)."""
        ...

    async def send_prepared(self, chat_id: str, message: Outgoing) -> None:
        """Send a piece :meth:`prepare` gave; raise as :meth:`Channel.send` does."""
        ...


_PREPARES: dict[type, bool] = {}


def _prepares(kind: type) -> bool:
    """Whether a transport of ``kind`` prepares its messages (a check by type, done once: an
    ``isinstance`` against the protocol inspects every attribute, about 10 µs a call)."""
    known = _PREPARES.get(kind)
    if known is None:
        names = ("prepare", "send_prepared")
        known = _PREPARES[kind] = all(callable(getattr(kind, name, None)) for name in names)
    return known


async def prepare(transport: object, chat_id: str, message: Outgoing) -> Outgoing:
    """``message`` prepared by ``transport`` when it prepares messages, else as it is."""
    if _prepares(type(transport)):
        return await cast(PreparesMessages, transport).prepare(chat_id, message)
    return message


class Sends(Protocol):
    async def send(self, chat_id: str, message: Outgoing) -> None: ...


def send_call(transport: Sends) -> Callable[[str, Outgoing], Awaitable[None]]:
    """The call that sends a piece :func:`prepare` gave through ``transport``."""
    if _prepares(type(transport)):
        return cast(PreparesMessages, transport).send_prepared
    return transport.send
