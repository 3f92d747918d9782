"""``doithoai run``: Telegram when a token is set (aiogram or python-telegram-bot, polling or a
webhook), otherwise the console chat."""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import Settings
from bot.console import ConsoleChat, run_console
from bot.database import open_database
from bot.webhook import WEBHOOK_PATH, webhook_app
from handlers.channel import Incoming, Outgoing
from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.use_cases.context import ProcedureContext
from texts import t

log = logging.getLogger(__name__)


def build_conversations(settings: Settings, *, console: bool) -> Conversations:
    engine = open_database(settings)
    verify = settings.verify_code_as or ("text" if console else "image")
    return Conversations(
        engine, ProcedureContext(periods=settings.periods), ChatSettings(verify_code_as=verify)
    )


def run_bot(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if settings.telegram_bot_token is None:
        print(t("cli.no_token"))
        chat = ConsoleChat(
            build_conversations(settings, console=True),
            image_dir=settings.data_dir / "console-images",
        )
        return run_console(chat, sys.stdin, sys.stdout)
    conversations = build_conversations(settings, console=False)
    asyncio.run(run_telegram(settings, conversations))
    return 0


def handler_for(conversations: Conversations) -> Callable[[Incoming], Awaitable[list[Outgoing]]]:
    async def handle(incoming: Incoming) -> list[Outgoing]:
        # The store is synchronous: keep the event loop free while a turn runs.
        return await asyncio.to_thread(conversations.handle, incoming)

    return handle


async def run_telegram(settings: Settings, conversations: Conversations) -> None:
    token = settings.telegram_bot_token
    assert token is not None
    handle = handler_for(conversations)
    if settings.telegram_framework == "ptb":
        from bot.telegram.ptb_channel import PtbChannel, make_application

        channel: object = PtbChannel(make_application(token, settings.telegram_api_url), handle)
    else:
        from bot.telegram.aiogram_channel import AiogramChannel, make_bot

        channel = AiogramChannel(make_bot(token, settings.telegram_api_url), handle)
    log.info("Telegram through %s", settings.telegram_framework)
    if settings.webhook_url:
        await _serve_webhook(settings, channel)
    else:
        await channel.run_polling()  # type: ignore[attr-defined]


async def _serve_webhook(settings: Settings, channel: object) -> None:
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    host, _, port = settings.webhook_listen.rpartition(":")
    app = webhook_app(channel.feed, secret)  # type: ignore[attr-defined]
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
    if hasattr(channel, "application"):
        await channel.application.initialize()  # type: ignore[attr-defined]
        await channel.application.start()  # type: ignore[attr-defined]
    await channel.register_commands()  # type: ignore[attr-defined]
    url = settings.webhook_url.rstrip("/")  # type: ignore[union-attr]
    await channel.bot.set_webhook(  # type: ignore[attr-defined]
        url if url.endswith(WEBHOOK_PATH) else url + WEBHOOK_PATH,
        secret_token=secret,
        allowed_updates=["message", "edited_message", "callback_query"],
    )
    log.info("webhook listening on %s", settings.webhook_listen)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
