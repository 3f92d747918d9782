"""``doithoai run``'s application (bot/app.py ``serve``) in the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from bot.app import Running, serve
from bot.channels.base import Channel
from bot.config import Settings
from handlers.conversations import Conversations


@asynccontextmanager
async def serving(
    settings: Settings, conversations: Conversations, channels: Sequence[Channel]
) -> AsyncIterator[tuple[Running, asyncio.Task[None]]]:
    """The running application (its address) and its task, stopped on leaving."""
    stop = asyncio.Event()
    ready: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(settings, conversations, list(channels), stop, on_ready=ready.set_result)
    )
    try:
        yield await asyncio.wait_for(ready, 15), task
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
