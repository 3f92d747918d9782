"""The commands shown in Telegram's menu (setMyCommands), described in Vietnamese."""

from __future__ import annotations

from handlers.conversations import MENU_COMMANDS
from texts import t


def menu_commands() -> list[tuple[str, str]]:
    return [(name, t(f"chat.commands.{name}")) for name in MENU_COMMANDS]
