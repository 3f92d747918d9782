"""Telegram as a channel (C7), through aiogram 3 (default) or python-telegram-bot 22
(``TELEGRAM_FRAMEWORK=ptb``): one delivery module (:mod:`.delivery`) for both, and a thin shim per
framework that receives updates (long polling or the webhook route) and makes the calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import FRAMEWORKS, ConfigError

if TYPE_CHECKING:  # the frameworks and the channel are imported when a channel is made
    from sqlalchemy import Engine

    from bot.channels.telegram.channel import Done, TelegramChannel
    from bot.channels.telegram.menu import ChatMenus
    from bot.config import Settings
    from bot.rate_limit import RateLimiter


def from_settings(
    settings: Settings,
    *,
    limiter: RateLimiter | None = None,
    on_done: Done | None = None,
    menus: ChatMenus | None = None,
    engine: Engine | None = None,
) -> TelegramChannel | None:
    """The Telegram channel the settings ask for, or None without a bot token.

    ``limiter`` paces its replies; give it the outbox sender's, so that both share one budget.
    With several workers (``WORKERS`` > 1) and a webhook, updates go through the inbox in
    ``engine``, a chat's updates at least a second apart (see channel.py).
    """
    token = settings.telegram_bot_token
    if token is None:
        return None
    framework = settings.telegram_framework
    if framework not in FRAMEWORKS:
        raise ConfigError("TELEGRAM_FRAMEWORK", "one_of", choices=", ".join(FRAMEWORKS))
    url, secret = settings.webhook_url, settings.webhook_secret
    if settings.workers > 1 and not (url and secret):
        # Only one process may poll a token, and every worker must accept the one secret
        # Telegram was given (by whichever worker set the webhook last).
        raise ConfigError("WORKERS", "needs_webhook")
    inbox = engine if settings.workers > 1 else None
    # Telegram's one message a second per chat (TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND).
    spacing = 1.0 / settings.telegram_messages_per_chat_per_second if inbox is not None else 0.0
    if framework == "ptb":
        from bot.channels.telegram.ptb_shim import PtbChannel, make_application

        return PtbChannel(
            make_application(token, settings.telegram_api_url),
            webhook_url=url,
            webhook_secret=secret,
            limiter=limiter,
            on_done=on_done,
            menus=menus,
            inbox=inbox,
            chat_spacing_seconds=spacing,
        )
    from bot.channels.telegram.aiogram_shim import AiogramChannel, make_bot

    return AiogramChannel(
        make_bot(token, settings.telegram_api_url),
        webhook_url=url,
        webhook_secret=secret,
        limiter=limiter,
        on_done=on_done,
        menus=menus,
        inbox=inbox,
        chat_spacing_seconds=spacing,
    )
