"""``doithoai run``: the Telegram bot when a token is set, otherwise a chat in the terminal."""

from __future__ import annotations

import sys

from bot.config import Settings
from bot.console import ConsoleSession
from bot.database import open_database
from texts import t


def run_bot(settings: Settings) -> int:
    engine = open_database(settings)
    if settings.telegram_bot_token is None:
        print(t("cli.no_token"))
        return ConsoleSession(engine, settings).run(sys.stdin, sys.stdout)
    raise SystemExit(t("cli.error", message=t("cli.telegram_not_built")))
