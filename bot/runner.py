"""``doithoai run``: every configured channel in one process (bot/app.py: Telegram through
aiogram or python-telegram-bot when a token is set, the web chat unless switched off);
``doithoai chat``: the console chat."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import queue
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, Future
from functools import partial
from typing import TypeVar

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
    from bot.first_try import wards_for_a_new_console

    imported = wards_for_a_new_console(conversations.engine)
    if imported is not None:  # a new install: a ward to answer "which ward?" with
        name, added = imported
        print(t("cli.province_imported", name=name, added=added))
        print(t("console.first_try_hint"))
    chat = ConsoleChat(conversations, image_dir=settings.data_dir / "console-images")
    chat.deliver = console_delivery(settings, conversations)
    return run_console(chat, sys.stdin, sys.stdout)


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
_DATABASE_THREAD: DatabaseThread | None = None

T = TypeVar("T")
A = TypeVar("A")


class DatabaseThread(Executor):
    """One thread that runs what it is handed, in order; an executor (``run_in_executor``) and,
    for the turns, :meth:`run`, which costs less per call: no concurrent future wrapped in an
    asyncio one, and the results that finish while the event loop is busy are handed back with
    one wake-up of the loop instead of one each (issue 12: the hop was ~0.1 ms of CPU a turn)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._finished: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="database", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        from storage.unit_of_work import keep_connection_on_this_thread

        keep_connection_on_this_thread()  # one SQLite connection for every turn's transaction
        while (job := self._queue.get()) is not None:
            job()

    def submit(  # type: ignore[override]
        self, fn: Callable[..., T], /, *args: object, **kwargs: object
    ) -> Future[T]:
        future: Future[T] = Future()

        def job() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)

        self._queue.put(job)
        return future

    async def run(self, fn: Callable[[A], T], argument: A) -> T:
        """``fn(argument)`` on the thread; not run at all if the caller is cancelled before."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()

        def job() -> None:
            if waiter.cancelled():
                return
            try:
                outcome: tuple[T | None, BaseException | None] = (fn(argument), None)
            except BaseException as error:
                outcome = (None, error)
            self._hand_back(loop, partial(_settle, waiter, outcome))

        self._queue.put(job)
        return await waiter

    def _hand_back(self, loop: asyncio.AbstractEventLoop, settle: Callable[[], None]) -> None:
        with self._lock:
            first = not self._finished
            self._finished.append(settle)
        if first:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(self._settle_finished)

    def _settle_finished(self) -> None:
        with self._lock:
            finished, self._finished = self._finished, []
        for settle in finished:
            settle()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._queue.put(None)
        if wait:
            self._thread.join()


def _settle(waiter: asyncio.Future[T], outcome: tuple[T | None, BaseException | None]) -> None:
    if waiter.cancelled():
        return
    result, error = outcome
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(result)  # type: ignore[arg-type]


def database_thread() -> DatabaseThread:
    global _DATABASE_THREAD
    if _DATABASE_THREAD is None:
        _DATABASE_THREAD = DatabaseThread()
    return _DATABASE_THREAD


# Container objects allocated (net of those freed) before a young collection, instead of 700:
# a turn's objects mostly die by reference counting; what a collection finds is the objects
# alive at that moment (the conversations under way), walked again at every collection.
YOUNG_COLLECTION_AT = 10_000


def settle_heap() -> None:
    """Set what the process holds once started (the frameworks, SQLAlchemy, the catalogue, the
    place tables: hundreds of thousands of objects that live as long as the process) out of the
    garbage collector's sight (``gc.freeze``), and collect the young generation less often.

    Measured in benchmarks/telegram_throughput.py (aiogram, 1,200 updates): two full collections
    walking the whole heap took 0.4 s of CPU, a third of a millisecond an update, and stopped
    every chat ~0.2 s each; the young collections, one every 700 objects, another 0.06-0.1 s.
    After this: 2-3 collections, 0.02 s. Cyclic garbage is still collected, after 10,000 new
    objects instead of 700. A process that serves calls it through
    :func:`settle_heap_after_first_turn` (the first turn imports what a conversation needs). The
    test suite freezes after every test instead, once what the test left behind is collected
    (tests/conftest.py), and keeps the default thresholds.

    ``doithoai run`` pauses the collector while it imports and starts (bot/cli.py): until this
    is called, a second after the first answer, or :data:`SETTLE_AT_THE_LATEST` seconds after
    the start if no one writes. The imports of the frameworks, SQLAlchemy, the tables and the
    catalogue create ~250,000 objects that live as long as the process; the collector, set off
    every 700 new ones, walked them about 390 times: 0.27-0.32 s of a 2-2.8 s start
    (benchmarks/startup.py). Objects still die by reference counting meanwhile; the cycles the
    imports leave (about 90,000 objects) wait for this one collection."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_AT, middle, old)
    gc.enable()  # ``doithoai run`` starts with it paused


_SETTLE_AFTER_FIRST_TURN: list[bool] = []
SETTLE_AFTER_SECONDS = 1.0
SETTLE_AT_THE_LATEST = 30.0


def settle_heap_after_first_turn() -> None:
    """In a process that serves (``doithoai run``, benchmarks/telegram_throughput.py): a second
    after the first turn was answered, :func:`settle_heap`."""
    _SETTLE_AFTER_FIRST_TURN[:] = [True]


def settle_heap_if_no_turn_yet() -> None:
    """:func:`settle_heap` now unless the first turn has scheduled it (a bot no one writes to
    keeps no garbage collector paused)."""
    if _SETTLE_AFTER_FIRST_TURN:
        _SETTLE_AFTER_FIRST_TURN.clear()
        settle_heap()


def handler_for(conversations: Conversations) -> Callable[[Incoming], Awaitable[list[Outgoing]]]:
    async def handle(incoming: Incoming) -> list[Outgoing]:
        # The store is synchronous: keep the event loop free while a turn runs.
        replies = await database_thread().run(conversations.handle, incoming)
        if _SETTLE_AFTER_FIRST_TURN:
            _SETTLE_AFTER_FIRST_TURN.clear()
            # A second later: the first answer goes out first (a full collection takes ~0.2 s).
            asyncio.get_running_loop().call_later(SETTLE_AFTER_SECONDS, settle_heap)
        return replies

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
