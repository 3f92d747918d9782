"""Zalo Official Account (Open API v3): a signed webhook into the inbox, customer-service
messages out, tokens in the database (see channel.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.config import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.channels.base import Channel
    from bot.channels.zalo_oa.channel import TemplatePlan, ZaloOAChannel

__all__ = ["TemplatePlan", "ZaloOAChannel", "from_settings"]


def __getattr__(name: str) -> Any:
    """The channel's classes, imported on first use: ``doithoai`` commands that only register
    ``doithoai zalo`` (this package) load no database or web library (issue 12, starts)."""
    if name in {"TemplatePlan", "ZaloOAChannel"}:
        from bot.channels.zalo_oa import channel

        return getattr(channel, name)
    raise AttributeError(name)


def from_settings(
    settings: Settings, engine: Engine | None = None, **options: Any
) -> Channel | None:
    """The OA channel when ZALO_APP_ID, ZALO_APP_SECRET and ZALO_OA_SECRET_KEY are set."""
    if not (settings.zalo_app_id and settings.zalo_app_secret and settings.zalo_oa_secret_key):
        return None
    from bot.channels.zalo_oa.channel import TemplatePlan, ZaloOAChannel

    if engine is None:
        from bot.database import open_database

        engine = open_database(settings)
    from bot.files import PublicFiles

    options.setdefault("files", PublicFiles.from_settings(settings))
    return ZaloOAChannel(
        engine,
        app_id=settings.zalo_app_id,
        app_secret=settings.zalo_app_secret,
        oa_secret_key=settings.zalo_oa_secret_key,
        api_url=settings.zalo_api_url,
        oauth_url=settings.zalo_oauth_url,
        webhook_path=settings.zalo_oa_webhook_path,
        template=TemplatePlan.parse(
            settings.zalo_oa_template_id,
            settings.zalo_oa_template_params,
            settings.zalo_oa_template_url,
        ),
        **options,
    )
