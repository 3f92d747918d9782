"""``doithoai run``: every configured channel in one process (bot/app.py: Telegram through
aiogram or python-telegram-bot when a token is set, the web chat unless switched off);
``doithoai chat``: the console chat."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from bot.config import Settings
from bot.console import ConsoleChat, run_console
from bot.database import open_database
from bot.logs import configure_logging
from bot.rate_limit import RateLimiter
from handlers.channel import Incoming, Outgoing
from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.use_cases.context import ProcedureContext
from texts import t

log = logging.getLogger(__name__)


def build_conversations(settings: Settings, *, console: bool) -> Conversations:
    engine = open_database(settings)
    verify = settings.verify_code_as or ("text" if console else "image")
    from bot.files import file_link_for

    context = ProcedureContext(periods=settings.periods, file_link=file_link_for(settings))
    return Conversations(engine, context, ChatSettings(verify_code_as=verify))


def run_bot(settings: Settings) -> int:
    """``doithoai run``: every configured channel in one process (bot/app.py)."""
    from bot.app import run_app

    return run_app(settings)


def run_chat(settings: Settings) -> int:
    """``doithoai chat``: the conversations in this terminal, nothing else needed."""
    configure_logging(settings.log_format, logging.WARNING)
    conversations = build_conversations(settings, console=True)
    if not _has_org_units(conversations):
        print(t("console.empty_hint"))
    chat = ConsoleChat(conversations, image_dir=settings.data_dir / "console-images")
    chat.deliver = console_delivery(settings, conversations)
    return run_console(chat, sys.stdin, sys.stdout)


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
    elsewhere: list[bool] = []  # said once: another process is the active sender

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
        if asyncio.run(sender.drain_once_if_elected()) is None and not elsewhere:
            # PostgreSQL, and a `doithoai run` is the active sender: it sends, not the console.
            elsewhere.append(True)
            log.warning(
                "outbox: another process (doithoai run) is the active sender; this console "
                "sends nothing while it runs, and its own messages wait in the outbox"
            )
        return list(delivered)

    return deliver


# Every conversation turn runs on this one thread: SQLite has one writer, and a pool of threads
# would only fight over its lock (and over the GIL); the event loop stays free meanwhile. Turns
# run in the order they are handed over, so one chat's updates (handed over one after the other
# by the channel's ChatTurns) are also handled in order.
_DATABASE_THREAD: ThreadPoolExecutor | None = None


def database_thread() -> ThreadPoolExecutor:
    global _DATABASE_THREAD
    if _DATABASE_THREAD is None:
        _DATABASE_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database")
    return _DATABASE_THREAD


def handler_for(conversations: Conversations) -> Callable[[Incoming], Awaitable[list[Outgoing]]]:
    async def handle(incoming: Incoming) -> list[Outgoing]:
        # The store is synchronous: keep the event loop free while a turn runs.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(database_thread(), conversations.handle, incoming)

    return handle


async def run_telegram(settings: Settings, conversations: Conversations) -> None:
    """Telegram alone, served as ``doithoai run`` serves every channel (bot/app.py): the channel
    (long polling, or its webhook route), the outbox sender and the scheduler, replies and outbox
    on one rate limiter. Runs until cancelled."""
    from bot.app import serve
    from bot.channels.registry import telegram

    limiters: dict[str, RateLimiter] = {}
    channel = telegram(settings, conversations.engine, limiters)
    if channel is None:
        raise ValueError("no Telegram bot token")
    log.info("Telegram through %s", settings.telegram_framework)
    await serve(settings, conversations, [channel], asyncio.Event(), limiters=limiters)
