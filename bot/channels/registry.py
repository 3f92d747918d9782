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

Factory = Callable[[Settings, Engine], Channel | None]


def web_chat(settings: Settings, engine: Engine) -> Channel | None:
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
    )


# One line per channel; the order is the order they start in.
FACTORIES: list[Factory] = [
    web_chat,
]


def configured_channels(
    settings: Settings, engine: Engine, factories: list[Factory] | None = None
) -> list[Channel]:
    """The channels whose settings are present, in :data:`FACTORIES` order."""
    channels: list[Channel] = []
    for factory in FACTORIES if factories is None else factories:
        channel = factory(settings, engine)
        if channel is not None:
            channels.append(channel)
    return channels
