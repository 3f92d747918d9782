"""Moved: bot/channels/telegram/text.py."""

from bot.channels.telegram.text import (  # noqa: F401
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    as_plain,
    split_html,
    telegram_pieces,
)
