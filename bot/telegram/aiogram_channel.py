"""Moved: bot/channels/telegram/aiogram_shim.py."""

from bot.channels.telegram.aiogram_shim import AiogramChannel, make_bot  # noqa: F401
