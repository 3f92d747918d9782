"""The Zalo Bot platform: Telegram-shaped, numbered text instead of buttons (see channel.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from bot.channels.base import Channel
from bot.channels.zalo_bot.channel import ZaloBotChannel
from bot.config import Settings

__all__ = ["ZaloBotChannel", "from_settings"]


def from_settings(
    settings: Settings, engine: Engine | None = None, **options: Any
) -> Channel | None:
    """The Zalo Bot channel when ZALO_BOT_TOKEN is set: a webhook when ZALO_BOT_WEBHOOK_URL is
    set, long polling otherwise."""
    if not settings.zalo_bot_token:
        return None
    if engine is None:
        from bot.database import open_database

        engine = open_database(settings)
    from bot.files import PublicFiles

    options.setdefault("files", PublicFiles.from_settings(settings))
    return ZaloBotChannel(
        engine,
        token=settings.zalo_bot_token,
        api_url=settings.zalo_bot_api_url,
        webhook_url=settings.zalo_bot_webhook_url,
        webhook_path=settings.zalo_bot_webhook_path,
        webhook_secret=settings.zalo_bot_webhook_secret,
        **options,
    )
