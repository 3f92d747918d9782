"""The one process: one aiohttp application on ``WEBHOOK_LISTEN`` with the routes of every
configured channel, each channel started with the conversations, and the outbox sender and the
scheduler beside them (C7, X4).

The outbox sender uses the channels themselves as its transports: a channel's ``send`` and
``pieces`` are the transport's, so replies and pushes go out the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bot.channels.base import Channel, Handle
from bot.channels.inbox import Inbox
from bot.config import EXIT_UNAVAILABLE, Settings
from bot.files import PublicFiles
from bot.logs import configure_logging
from bot.public import public_record
from bot.rate_limit import RateLimiter
from handlers.channel import Incoming, Outgoing
from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.use_cases.context import ProcedureContext
from texts import t

log = logging.getLogger(__name__)


def chat_settings(settings: Settings, channels: Sequence[Channel]) -> ChatSettings:
    """What the conversations need to know of the channels: where a phone can only be typed."""
    return ChatSettings(
        verify_code_as=settings.verify_code_as or "image",
        typed_phone_channels=frozenset(
            channel.name for channel in channels if not channel.capabilities.share_phone
        ),
    )


# Channels that send files and pictures by link (bot/files.py): without PUBLIC_URL they cannot.
LINKED_FILES = {"zalo_oa": "calendar files and spreadsheets", "zalo_bot": "files and pictures"}


def announce_file_links(files: PublicFiles, channels: Sequence[Channel]) -> None:
    """Say once at start where file links point, or what cannot be sent without them."""
    if files.enabled:
        log.info("file links: %s/tep/… (valid %d days)", files.public_url, files.lifetime // 86400)
        return
    for channel in channels:
        if channel.name in LINKED_FILES:
            log.warning(
                "PUBLIC_URL is not set: %s cannot send %s; residents are told in the chat how "
                "to get them instead",
                channel.name,
                LINKED_FILES[channel.name],
            )


class RouteProvider(Protocol):
    """Anything that adds routes to the application: each channel, and the operators' routes."""

    def routes(self) -> Sequence[web.AbstractRouteDef]: ...


def web_application(
    channels: Sequence[Channel], providers: Sequence[RouteProvider] = ()
) -> web.Application:
    """The application the process serves: every channel's routes, and the other providers'
    (``/metrics`` and ``/healthz``, bot/ops.py)."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    for provider in [*channels, *providers]:
        app.add_routes(provider.routes())
    return app


def listen_address(settings: Settings) -> tuple[str, int]:
    host, _, port = settings.webhook_listen.rpartition(":")
    return host or "127.0.0.1", int(port)


class AddressUnavailable(Exception):
    """The listening address could not be opened (another program holds the port, or the host
    is not one of this machine's addresses)."""

    def __init__(self, host: str, port: int, reason: OSError) -> None:
        super().__init__(f"{host}:{port}: {reason.strerror or reason}")
        self.host, self.port, self.in_use = host, port, reason.errno == errno.EADDRINUSE


@dataclass
class Running:
    """The process while it runs: where it listens."""

    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"


async def serve(
    settings: Settings,
    conversations: Conversations,
    channels: Sequence[Channel],
    stop: asyncio.Event,
    *,
    on_ready: Callable[[Running], None] | None = None,
    handle: Handle | None = None,
    limiters: Mapping[str, RateLimiter] | None = None,
) -> None:
    """Serve until ``stop`` is set (or the task is cancelled), then stop everything cleanly:
    the channels stop receiving, the sender finishes what is on the wire, the site closes."""
    from bot.metrics import observed
    from bot.ops import OpsRoutes
    from bot.outbox_sender import OutboxSender
    from bot.runner import handler_for
    from bot.scheduler import FIRST_RUN_AFTER_SECONDS, Scheduler
    from handlers.reply_queue import QueuedReplies

    host, port = listen_address(settings)
    files = PublicFiles.from_settings(settings)
    announce_file_links(files, channels)
    # No channel with a route (Telegram by long polling alone) and no file links: no port is
    # opened, and the operators' routes are not served either.
    listening = files.enabled or any(channel.routes() for channel in channels)
    runner = web.AppRunner(
        web_application(
            channels,
            [OpsRoutes(conversations.engine), *public_record(conversations.engine), files],
        )
    )
    await runner.setup()
    started: list[Channel] = []
    background: list[asyncio.Task[None]] = []
    try:
        if listening:
            try:
                await web.TCPSite(runner, host, port).start()
            except OSError as refused:
                raise AddressUnavailable(host, port, refused) from refused
            if port == 0:  # tests: the port the system chose
                port = int(runner.addresses[0][1])
        # Channels whose replies go through the outbox (issue 12): the conversation queues them
        # in the turn's transaction; the outbox sender below sends them.
        conversations.queue_replies_for = frozenset(
            channel.name for channel in channels if getattr(channel, "queues_replies", False)
        )
        # Their inbox (several workers) marks an event handled in its turn's transaction.
        for channel in channels:
            inbox = getattr(channel, "inbox", None)
            if isinstance(inbox, Inbox) and channel.name in conversations.queue_replies_for:
                conversations.in_turn[channel.name] = inbox.finish_in_turn
        # The web chat stores its replies in the turn's transaction instead (same issue).
        conversations.reply_writers = {
            channel.name: channel.store_replies  # type: ignore[attr-defined]
            for channel in channels
            if getattr(channel, "stores_replies", False)
        }
        sender = OutboxSender(
            conversations.engine, {c.name: c for c in channels}, limiters=limiters
        )
        turn = observed(handle or handler_for(conversations))

        async def turn_then_wake(incoming: Incoming) -> list[Outgoing]:
            replies = await turn(incoming)
            if isinstance(replies, QueuedReplies):
                # Committed: this process's sender (if it is the elected one) sends them now,
                # without waiting for the NOTIFY (and on SQLite, which has none).
                sender.wake()
            return replies

        for channel in channels:
            await channel.start(turn_then_wake)
            started.append(channel)
            log.info("channel %s started", channel.name)
        start, end = settings.alert_hours
        scheduler = Scheduler(
            conversations.engine,
            conversations.context,
            start=start,
            end=end,
            first_run_after=FIRST_RUN_AFTER_SECONDS,
        )
        background = [
            asyncio.create_task(sender.run_forever(stop), name="outbox-sender"),
            asyncio.create_task(scheduler.run_forever(stop), name="scheduler"),
        ]
        if on_ready is not None:
            on_ready(Running(host, port))
        await stop.wait()
    finally:
        stop.set()
        if background:
            await asyncio.gather(*background, return_exceptions=True)
        for channel in reversed(started):
            with contextlib.suppress(Exception):
                await channel.stop()
        await runner.cleanup()


def run_app(settings: Settings) -> int:
    """``doithoai run``: every configured channel in one process (Telegram when a token is set,
    the web chat unless ``WEB_CHAT=off``, …), with the outbox sender and the scheduler."""
    from bot.channels.registry import configured_channels
    from bot.database import open_database

    configure_logging(settings.log_format, logging.INFO)
    engine = open_database(settings)
    limiters: dict[str, RateLimiter] = {}
    channels = configured_channels(settings, engine, limiters=limiters)
    from bot.files import file_link_for
    from bot.first_try import wards_for_a_first_try

    first_try = wards_for_a_first_try(engine, channels)
    context = ProcedureContext(periods=settings.periods, file_link=file_link_for(settings))
    conversations = Conversations(engine, context, chat_settings(settings, channels))

    def ready(running: Running) -> None:
        if any(channel.name == "web" for channel in channels):
            print(t("cli.web.serving", address=running.url), flush=True)
        if first_try is not None:
            name, added = first_try
            print(t("cli.province_imported", name=name, added=added), flush=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):  # a service manager stops with SIGTERM
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.call_later(SETTLE_AT_THE_LATEST, settle_heap_if_no_turn_yet)
        await serve(settings, conversations, channels, stop, on_ready=ready, limiters=limiters)

    from bot.runner import (
        SETTLE_AT_THE_LATEST,
        settle_heap_after_first_turn,
        settle_heap_if_no_turn_yet,
    )

    settle_heap_after_first_turn()  # the garbage collector's sight (issue 12)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
    except AddressUnavailable as unavailable:
        key = "cli.web.address_in_use" if unavailable.in_use else "cli.web.address_unavailable"
        print(t(key, address=f"{unavailable.host}:{unavailable.port}"), file=sys.stderr)
        return EXIT_UNAVAILABLE
    return 0
