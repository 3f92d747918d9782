"""What both Telegram shims share on the receiving side: the Channel's start/stop, the webhook
route with its secret token (bot/webhook.py), and one update's way through the conversation
and back.

An update (the Bot API's JSON, whichever framework received it) becomes one ``Incoming``; the
chat's turn (:class:`~bot.reply_sender.ChatTurns`) is taken, a pressed button is acknowledged,
the conversation answers, and then, in a task of its own (so that a webhook is answered as soon
as the turn is stored, not after a 429 storm), its replies are sent through the shared rate
limiter, piece by piece, exactly once (:class:`~bot.reply_sender.ReplySender`), before the
chat's turn ends. Updates of different chats are handled at once; one chat's updates one after
the other, in the order they came. Stopping lets replies under way finish (a grace period).

With several workers (issue 12: ``WORKERS`` > 1, a webhook behind nginx), the webhook stores each
update in the inbox (bot/channels/inbox.py: UNIQUE (channel, update id), so an update delivered
to two workers is stored once) and answers at once; any worker's inbox task claims it and feeds
it to the framework. An update is marked handled once its replies went out; a chat's next
update is claimed only then, and no sooner than a second later (Telegram's one message a second
per chat, kept between the workers), so one chat's updates are handled in order by whichever
worker takes them.

Replies through the outbox (``queues_replies``, on PostgreSQL by default): the conversation
queues the replies in the turn's own transaction (handlers/reply_queue.py) and this channel sends
none of them; the one elected outbox sender does, so a worker killed after the commit loses no
reply and all Telegram messages keep one global limit.

Telegram out of reach at start (bot/channels/reconnect.py) never stops the process: the web chat
and Zalo channels of the same ``doithoai run`` keep serving while the start (the framework's,
the command menus, the webhook or long polling) is tried again in the background; long polling
that ends by itself (its first call failed) starts again the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from bot.channels.base import Handle
from bot.channels.inbox import LEASE_SECONDS, Inbox
from bot.channels.reconnect import FailedPolls, cancel, describe, start_or_retry
from bot.channels.telegram.delivery import TelegramDelivery
from bot.channels.telegram.menu import ChatMenus, Commands, menu_changed
from bot.channels.telegram.updates import CHANNEL, incoming_from_update
from bot.rate_limit import RateLimiter
from bot.reply_sender import ChatTurns, ReplySender
from bot.webhook import WEBHOOK_PATH, webhook_handler
from handlers.channel import Outgoing
from handlers.reply_queue import QueuedReplies

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
# Called once an update is fully handled and answered (metrics, tests).
Done = Callable[[str], Awaitable[None]]
Acknowledge = Callable[[], Awaitable[object]]
# How long an update taken from the inbox is its worker's (bot/channels/inbox.py).
INBOX_LEASE_SECONDS = LEASE_SECONDS
# How long stopping waits for updates being handled and replies being sent.
STOP_GRACE_SECONDS = 10.0
# Long polling that ran this long before it stopped had worked: its restart starts the delays
# (bot/channels/reconnect.py) again from the first, rather than where an earlier outage left them.
POLLED_LONG_SECONDS = 300.0


def chat_of_update(update: Mapping[str, Any]) -> str:
    """The chat an update belongs to (the inbox keeps a chat's updates in order); an update
    that is no message of a chat is a chat of its own."""
    incoming = incoming_from_update(update)
    return incoming.chat_id if incoming is not None else f"update:{update.get('update_id')}"


def webhook_address(url: str) -> str:
    """The address given to setWebhook: ``url`` ending in the webhook route's path."""
    url = url.rstrip("/")
    return url if url.endswith(WEBHOOK_PATH) else url + WEBHOOK_PATH


class TelegramChannel(TelegramDelivery):
    """One bot token as a :class:`~bot.channels.base.Channel`: long polling, or a webhook when
    ``webhook_url`` is set (the route is then in :meth:`routes`)."""

    # Replies queued in the outbox by the conversation, in the turn's transaction, and sent by
    # the elected outbox sender (issue 12, bot/app.py tells the conversations); not sent here.
    queues_replies = False

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        limiter: RateLimiter | None = None,
        on_done: Done | None = None,
        menus: ChatMenus | None = None,
        inbox: Engine | None = None,
        chat_spacing_seconds: float = 0.0,
    ) -> None:
        self.webhook_url = webhook_url
        self.menus = menus
        self.webhook_secret = webhook_secret or secrets.token_urlsafe(32)
        self.replies = ReplySender(limiter or RateLimiter())
        self._on_done = on_done
        self._handle: Handle | None = None
        self._turns = ChatTurns()
        self._polling: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Webhook updates through the inbox (several workers): ``inbox`` is the database.
        self.inbox = (
            Inbox(
                inbox,
                CHANNEL,
                self._from_inbox,
                chat_of_update,
                chat_spacing_seconds=chat_spacing_seconds,
                # A worker killed while it held an update: another takes it after this.
                lease_seconds=INBOX_LEASE_SECONDS,
                # The inbox wakes itself when a chat's next update is due (a second after the
                # last); looking again each second is for claims left by dead workers.
                idle_seconds=1.0,
            )
            if inbox is not None and webhook_url
            else None
        )
        self._replying: dict[str, asyncio.Task[None]] = {}
        # Reaching Telegram again after a failed start (None: reached, or not tried yet).
        self._connecting: asyncio.Task[None] | None = None
        self._staff_menus: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def limiter(self) -> RateLimiter:
        return self.replies.limiter

    # -- the Channel ------------------------------------------------------------------------------

    async def start(self, handle: Handle) -> None:
        """Get the framework ready, register the command menu, then set the webhook or start
        long polling; when Telegram cannot be reached, return all the same and try again in
        the background (the module's docstring)."""
        self._handle = handle
        self._stopping = False
        if self.inbox is not None:
            await self.inbox.start()  # updates stored before a crash are handled now
        self._connecting = await start_or_retry("Telegram", self._connect)

    async def _connect(self) -> None:
        """Everything of a start that speaks to Telegram, in order; the staff chats' own menus
        once updates are received (one call a chat, hundreds in a city's deployment: made
        before, they kept every resident waiting at each start)."""
        await self._open()
        await self._register_commands()
        if self.webhook_url:
            await self._set_webhook(webhook_address(self.webhook_url), self.webhook_secret)
            log.info("Telegram webhook set")
        else:
            await self._delete_webhook()
            self._polling = asyncio.create_task(self._keep_polling(), name="telegram-polling")
        self._staff_menus = asyncio.create_task(self._set_staff_menus(), name="telegram-menus")

    async def _keep_polling(self) -> None:
        """Long polling until the channel stops; polling that ends by itself (its first call,
        such as aiogram's getMe, failed) starts again after a while."""
        polls = FailedPolls()
        while True:
            failure: Exception | None = None
            began = time.monotonic()
            try:
                await self._poll()
            except Exception as error:
                failure = error
            if self._stopping:
                return
            if time.monotonic() - began >= POLLED_LONG_SECONDS:
                # It had polled for a while: a new outage, tried again after the first delay.
                polls.reached()
            level, delay = polls.failure("it ended" if failure is None else failure)
            log.log(
                level,
                "Telegram long polling stopped (%s); polling again in %.0f s",
                "it ended" if failure is None else describe(failure),
                delay,
            )
            await asyncio.sleep(delay)

    async def stop(self) -> None:
        self._stopping = True
        connecting, self._connecting = self._connecting, None
        await cancel(connecting)
        menus, self._staff_menus = self._staff_menus, None
        await cancel(menus)
        polling, self._polling = self._polling, None
        if polling is not None:
            await self._stop_polling()
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
        if self.inbox is not None:
            await self.inbox.stop()
        await self._finish_tasks()
        await self._close()

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        if not self.webhook_url:
            return []
        return [web.post(WEBHOOK_PATH, webhook_handler(self.receive, self.webhook_secret))]

    async def receive(self, update: dict[str, Any]) -> None:
        """An update from the webhook: into the inbox (several workers), or handled now."""
        if self.inbox is None:
            await self.feed(update)
        else:
            await self.inbox.put(str(update["update_id"]), update)

    async def _from_inbox(self, update: dict[str, object]) -> None:
        """A stored update, claimed by this worker: through the framework, then its replies;
        the inbox marks it handled when this returns."""
        update_id = str(update.get("update_id"))
        await self.feed(update)
        replying = self._replying.pop(update_id, None)
        if replying is not None:
            await asyncio.shield(replying)

    # -- one update -------------------------------------------------------------------------------

    async def _process(self, update: Mapping[str, Any], acknowledge: Acknowledge | None) -> None:
        """Handle one update; return once the conversation has answered (its turn is stored),
        while the replies go out in a task of their own that still holds the chat's turn.
        ``acknowledge`` answers a pressed button."""
        update_id = str(update.get("update_id"))
        incoming = incoming_from_update(update)
        if incoming is None or self._handle is None:
            if incoming is not None:
                log.warning("update %s before the channel started: ignored", update_id)
            await self._done(update_id)
            return
        chat = incoming.chat_id
        await self._turns.begin(chat)
        try:
            if acknowledge is not None:
                try:
                    await acknowledge()
                except Exception as error:  # the reply matters more than the spinner
                    log.warning("could not answer a callback query: %s", error)
            replies = await self._handle(incoming)
            if self.menus is not None and menu_changed(replies):
                await self._set_menu(chat, incoming.user_id)
        except BaseException:
            self._turns.end(chat)
            await self._done(update_id)
            raise
        if isinstance(replies, QueuedReplies):  # committed with the turn: the outbox sends them
            self._turns.end(chat)
            await self._done(update_id)
            return
        replying = asyncio.create_task(self._reply(chat, replies, update_id), name="reply")
        self._track(replying)
        if self.inbox is not None:
            self._replying[update_id] = replying

    async def _reply(self, chat: str, replies: list[Outgoing], update_id: str) -> None:
        try:
            await self.replies.deliver(self, chat, replies)
        except Exception:
            log.exception("replies to update %s failed", update_id)
        finally:
            self._turns.end(chat)
            await self._done(update_id)

    async def _set_staff_menus(self) -> None:
        """Each staff chat gets the commands of its roles (issue 10: what each person sees);
        the other chats keep the residents' menu."""
        if self.menus is None:
            return
        try:
            staff = await asyncio.to_thread(self.menus.staff)
        except Exception:  # the database out of reach: each menu is set again as it changes
            log.warning("could not read the staff chats' command menus", exc_info=True)
            return
        for chat_id, commands in staff:
            await self._menu_call(chat_id, commands)

    async def _set_menu(self, chat_id: str, user_id: str) -> None:
        assert self.menus is not None
        commands = await asyncio.to_thread(self.menus.of_account, user_id)
        await self._menu_call(chat_id, commands)

    async def _menu_call(self, chat_id: str, commands: Commands) -> None:
        try:
            await self._set_chat_commands(chat_id, commands)
        except Exception as error:  # a menu is a convenience: never fail a turn for it
            log.warning("could not set the command menu of a chat: %s", type(error).__name__)

    async def _done(self, update_id: str) -> None:
        if self._on_done is not None:
            await self._on_done(update_id)

    def _track(self, task: asyncio.Task[None]) -> None:
        """Keep ``task`` until it ends; :meth:`stop` waits for it a while."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish_tasks(self) -> None:
        """Let updates being handled and replies being sent finish, for up to
        STOP_GRACE_SECONDS; cancel what is left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_GRACE_SECONDS
        while self._tasks and (left := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._tasks), timeout=left)
        pending = set(self._tasks)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("stopping: %s updates or replies cut short", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

    # -- what each framework does -----------------------------------------------------------------

    @abstractmethod
    async def feed(self, update: dict[str, Any]) -> None:
        """Handle one update received by the webhook route."""

    async def _open(self) -> None:
        """Get the framework ready to send and receive."""

    @abstractmethod
    async def _register_commands(self) -> None: ...

    @abstractmethod
    async def _set_chat_commands(self, chat_id: str, commands: Commands) -> None:
        """setMyCommands with the scope of one chat."""

    @abstractmethod
    async def _set_webhook(self, url: str, secret: str) -> None: ...

    @abstractmethod
    async def _delete_webhook(self) -> None: ...

    @abstractmethod
    async def _poll(self) -> None:
        """Long polling until stopped."""

    async def _stop_polling(self) -> None:
        """Ask the polling loop to end (it is cancelled right after)."""

    @abstractmethod
    async def _close(self) -> None: ...
