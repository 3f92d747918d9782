"""The commands shown in Telegram's menu (setMyCommands), described in Vietnamese: the residents'
list for every chat, and a list per staff chat by role (BotCommandScopeChat)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from handlers.channel import Outgoing
from handlers.conversations import MENU_COMMANDS, MENU_HINT, menu_for_account, staff_menus
from texts import t

Commands = list[tuple[str, str]]


def menu_commands() -> Commands:
    return [(name, t(f"chat.commands.{name}")) for name in MENU_COMMANDS]


@dataclass(frozen=True)
class ChatMenus:
    """Where the per-chat menus come from: every staff chat's at start-up, and a chat's own
    after a reply that says its roles changed (an official enrolled)."""

    engine: Engine
    channel: str = "telegram"

    def staff(self) -> list[tuple[str, Commands]]:
        return staff_menus(self.engine, self.channel)

    def of_account(self, user_id: str) -> Commands:
        return menu_for_account(self.engine, self.channel, user_id)


def menu_changed(replies: list[Outgoing]) -> bool:
    return any(reply.extra.get(MENU_HINT) == "refresh" for reply in replies)
