"""Moved: bot/channels/telegram/ptb_shim.py."""

from bot.channels.telegram.ptb_shim import PtbChannel, make_application  # noqa: F401
