"""Which channels this process runs, from the configuration (C7).

Each channel has one factory here: it returns the channel when its settings are present, or
``None``. Adding a channel is its folder under ``bot/channels/`` and one line in
:data:`FACTORIES`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bot.channels.base import Channel
from bot.config import Settings
from bot.rate_limit import RateLimiter

# A factory gets the settings, the database and the process's rate limiters by channel name: a
# channel with platform limits registers its limiter there, shared by its replies and the outbox.
Factory = Callable[[Settings, Engine, dict[str, RateLimiter]], Channel | None]


def telegram(
    settings: Settings, engine: Engine, limiters: dict[str, RateLimiter]
) -> Channel | None:
    if settings.telegram_bot_token is None:
        return None
    from bot.channels import telegram as telegram_channel
    from bot.channels.telegram.menu import ChatMenus

    # TELEGRAM_MESSAGES_PER_SECOND (30) a second, 1 a second per chat. Replies through the
    # outbox (PostgreSQL, issue 12): only the one elected sender sends, at the whole budget.
    # Otherwise, with several workers, each keeps to its share of it (its replies, and the
    # outbox when it is the elected sender): never over it.
    queued = settings.queues_replies(engine.dialect.name)
    limiter = limiters.setdefault(
        "telegram",
        RateLimiter(
            settings.telegram_messages_per_second / (1 if queued else settings.workers),
            settings.telegram_messages_per_chat_per_second,
        ),
    )
    channel = telegram_channel.from_settings(
        settings, limiter=limiter, menus=ChatMenus(engine), engine=engine
    )
    if channel is not None:
        channel.queues_replies = queued
    return channel


def web_chat(
    settings: Settings, engine: Engine, limiters: dict[str, RateLimiter]
) -> Channel | None:
    if not settings.web_chat:
        return None
    from bot.channels.web import WebChannel, WebChatOptions

    return WebChannel(
        engine,
        WebChatOptions(
            allowed_origins=settings.web_chat_origins,
            trust_forwarded=settings.web_chat_trust_proxy,
            upload_dir=settings.data_dir / "web-uploads",
            keep_days=settings.web_chat_keep_days,
        ),
        # Where the other channels' replies go through the outbox (PostgreSQL), the web chat
        # stores a turn's replies in the turn's transaction (bot/channels/web/channel.py).
        stores_replies=settings.queues_replies(engine.dialect.name),
    )


def _through_outbox(
    channel: Channel | None, settings: Settings, engine: Engine, limiters: dict[str, RateLimiter]
) -> Channel | None:
    """A Zalo channel's replies through the outbox where replies are queued (PostgreSQL, issue
    12), sent by the elected sender under the channel's own limiter: a 429 or Zalo OA's quota
    pauses that channel's sends only. Zalo publishes no rate; the outbox's default pace (30 a
    second, 1 a second per chat) is kept per channel."""
    if channel is None:
        return None
    limiters.setdefault(channel.name, RateLimiter(30, 1))
    channel.queues_replies = settings.queues_replies(  # type: ignore[attr-defined]
        engine.dialect.name
    )
    return channel


def zalo_oa(settings: Settings, engine: Engine, limiters: dict[str, RateLimiter]) -> Channel | None:
    from bot.channels import zalo_oa as zalo_oa_channel

    return _through_outbox(
        zalo_oa_channel.from_settings(settings, engine), settings, engine, limiters
    )


def zalo_bot(
    settings: Settings, engine: Engine, limiters: dict[str, RateLimiter]
) -> Channel | None:
    from bot.channels import zalo_bot as zalo_bot_channel

    return _through_outbox(
        zalo_bot_channel.from_settings(settings, engine), settings, engine, limiters
    )


# One line per channel; the order is the order they start in.
FACTORIES: list[Factory] = [
    telegram,
    zalo_oa,
    zalo_bot,
    web_chat,
]


def configured_channels(
    settings: Settings,
    engine: Engine,
    factories: list[Factory] | None = None,
    limiters: dict[str, RateLimiter] | None = None,
) -> list[Channel]:
    """The channels whose settings are present, in :data:`FACTORIES` order; ``limiters`` collects
    the rate limiters of the channels that have one."""
    channels: list[Channel] = []
    shared = limiters if limiters is not None else {}
    for factory in FACTORIES if factories is None else factories:
        channel = factory(settings, engine, shared)
        if channel is not None:
            channels.append(channel)
    return channels
