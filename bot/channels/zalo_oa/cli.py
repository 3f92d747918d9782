"""``doithoai zalo token --access … --refresh … --expires-in …``: the OA's first tokens, typed
by an administrator after approving the app (never read from a file in the repository)."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from bot.config import Settings
from texts import format_datetime, t


def add_commands(commands: Any) -> None:
    """Register ``zalo`` on the CLI's subcommands."""
    zalo = commands.add_parser("zalo", help=t("cli.help.zalo"))
    zalo_commands = zalo.add_subparsers(dest="zalo_command", required=True)
    token = zalo_commands.add_parser("token", help=t("cli.help.zalo_token"))
    token.add_argument("--access", required=True)
    token.add_argument("--refresh", required=True)
    token.add_argument("--expires-in", type=int, default=90000)
    token.add_argument("--app-id", default=None)
    token.set_defaults(handler=save_token)


def save_token(args: argparse.Namespace, settings: Settings) -> int:
    from bot.database import open_database
    from storage import channel_store
    from storage.types import utc_now
    from storage.unit_of_work import UnitOfWork

    app_id = args.app_id or settings.zalo_app_id
    if not app_id:
        print(t("cli.zalo_no_app"))
        return 2
    expires = utc_now() + timedelta(seconds=args.expires_in)
    with UnitOfWork(open_database(settings)) as uow:
        channel_store.save_tokens(uow, app_id, args.access, args.refresh, expires, utc_now())
    print(t("cli.zalo_tokens_saved", app_id=app_id, expires=format_datetime(expires)))
    return 0
