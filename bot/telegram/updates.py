"""Moved: bot/channels/telegram/updates.py."""

from bot.channels.telegram.updates import CHANNEL, incoming_from_update  # noqa: F401
