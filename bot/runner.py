"""``doithoai run``: Telegram when a token is set (aiogram or python-telegram-bot, polling or a
webhook), otherwise the console chat."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.base import Channel
from bot.config import Settings
from bot.console import ConsoleChat, run_console
from bot.database import open_database
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
    if settings.telegram_bot_token is None:
        logging.basicConfig(level=logging.WARNING)
        print(t("cli.no_token"))
        conversations = build_conversations(settings, console=True)
        if not _has_org_units(conversations):
            print(t("console.empty_hint"))
        chat = ConsoleChat(conversations, image_dir=settings.data_dir / "console-images")
        chat.deliver = console_delivery(settings, conversations)
        return run_console(chat, sys.stdin, sys.stdout)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    conversations = build_conversations(settings, console=False)
    asyncio.run(run_telegram(settings, conversations))
    return 0


def _has_org_units(conversations: Conversations) -> bool:
    from procedure.use_cases.administration import children_of
    from storage.unit_of_work import UnitOfWork

    with UnitOfWork(conversations.engine) as uow:
        return bool(children_of(uow, None))


def console_delivery(settings: Settings, conversations: Conversations) -> Callable[[], list[str]]:
    """In the console, what the outbox holds for other personas (invitations, pushes, alerts)
    is delivered after each line and shown under it."""
    from bot.outbox_sender import OutboxSender
    from bot.scheduler import Scheduler
    from bot.transports import ConsoleTransport

    delivered: list[str] = []
    transport = ConsoleTransport(delivered.append)
    start, end = settings.alert_hours
    scheduler = Scheduler(conversations.engine, conversations.context, start=start, end=end)

    def deliver() -> list[str]:
        delivered.clear()
        scheduler.run_once()
        sender = OutboxSender(
            conversations.engine,
            {"console": transport},
            global_per_second=1000,
            per_chat_per_second=1000,
        )
        asyncio.run(sender.drain_once())
        return list(delivered)

    return deliver


def handler_for(conversations: Conversations) -> Callable[[Incoming], Awaitable[list[Outgoing]]]:
    async def handle(incoming: Incoming) -> list[Outgoing]:
        # The store is synchronous: keep the event loop free while a turn runs.
        return await asyncio.to_thread(conversations.handle, incoming)

    return handle


async def run_telegram(settings: Settings, conversations: Conversations) -> None:
    """The bot: the Telegram channel (polling, or a webhook route on the process's web
    application), the outbox sender and the scheduler, together; replies and the outbox share
    one rate limiter."""
    from bot.channels import telegram
    from bot.outbox_sender import OutboxSender
    from bot.rate_limit import RateLimiter
    from bot.scheduler import Scheduler

    limiter = RateLimiter()
    channel: Channel | None = telegram.from_settings(settings, limiter=limiter)
    if channel is None:
        raise ValueError("no Telegram bot token")
    log.info("Telegram through %s", settings.telegram_framework)
    stop = asyncio.Event()
    start, end = settings.alert_hours
    sender = OutboxSender(conversations.engine, {channel.name: channel}, limiter=limiter)
    scheduler = Scheduler(conversations.engine, conversations.context, start=start, end=end)
    runner: web.AppRunner | None = None
    background: list[asyncio.Task[None]] = []
    try:
        routes = channel.routes()
        if routes:
            app = web.Application()
            app.add_routes(routes)
            runner = web.AppRunner(app)
            await runner.setup()
            host, _, port = settings.webhook_listen.rpartition(":")
            await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
            log.info("webhook listening on %s", settings.webhook_listen)
        await channel.start(handler_for(conversations))
        background = [
            asyncio.create_task(sender.run_forever(stop), name="outbox-sender"),
            asyncio.create_task(scheduler.run_forever(stop), name="scheduler"),
        ]
        await asyncio.Event().wait()
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        await channel.stop()
        if runner is not None:
            await runner.cleanup()
