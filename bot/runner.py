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

    reported: list[bool] = []

    def deliver() -> list[str]:
        delivered.clear()
        scheduler.run_once()
        sender = OutboxSender(
            conversations.engine,
            {"console": transport},
            global_per_second=1000,
            per_chat_per_second=1000,
            wait_without_account=True,
        )
        if not reported:
            # Messages for channels the console does not run (the demo's Telegram residents)
            # wait in the outbox, untouched: said once, in one line.
            reported.append(True)
            waiting = asyncio.run(sender.report_waiting())
            if waiting:
                delivered.append(
                    t(
                        "console.outbox_waiting",
                        count=sum(waiting.values()),
                        channels=", ".join(
                            channel or t("console.no_account") for channel in sorted(waiting)
                        ),
                    )
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
    """The bot: updates by polling or webhook, the outbox sender and the scheduler, together."""
    from bot.outbox_sender import OutboxSender
    from bot.scheduler import Scheduler

    token = settings.telegram_bot_token
    assert token is not None
    handle = handler_for(conversations)
    if settings.telegram_framework == "ptb":
        from bot.telegram.ptb_channel import PtbChannel, make_application
        from bot.transports import TelegramPtbTransport

        channel: object = PtbChannel(make_application(token, settings.telegram_api_url), handle)
        transport: object = TelegramPtbTransport(channel.bot)  # type: ignore[attr-defined]
    else:
        from bot.telegram.aiogram_channel import AiogramChannel, make_bot
        from bot.transports import TelegramAiogramTransport

        channel = AiogramChannel(make_bot(token, settings.telegram_api_url), handle)
        transport = TelegramAiogramTransport(channel.bot)  # type: ignore[attr-defined]
    log.info("Telegram through %s", settings.telegram_framework)
    stop = asyncio.Event()
    start, end = settings.alert_hours
    sender = OutboxSender(conversations.engine, {"telegram": transport})  # type: ignore[dict-item]
    scheduler = Scheduler(conversations.engine, conversations.context, start=start, end=end)
    background = [
        asyncio.create_task(sender.run_forever(stop), name="outbox-sender"),
        asyncio.create_task(scheduler.run_forever(stop), name="scheduler"),
    ]
    try:
        if settings.webhook_url:
            await _serve_webhook(settings, channel)
        else:
            await channel.run_polling()  # type: ignore[attr-defined]
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)


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
