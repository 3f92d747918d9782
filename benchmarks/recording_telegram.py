"""The fake Bot API server of the benchmarks, noting when each chat gets a message.

Both ``benchmarks/telegram_throughput.py`` and ``benchmarks/load_and_failure.py`` drive bots
against :class:`tests.fake_telegram.FakeTelegram` and need the same two things on top of it: the
moment every message reached a chat (latencies, what arrived after a kill) and a wake-up per chat
(a resident waits for its answer without polling). Times are ``time.monotonic()``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.fake_telegram import FakeTelegram, RecordedRequest, UploadedFile

# The Bot API methods that put a message in a chat (what a resident sees arrive).
MESSAGE_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument"})


class RecordingTelegram(FakeTelegram):
    """The fake server with the arrival time of every message and a wake-up per chat."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.arrivals: list[tuple[float, int]] = []  # (monotonic time, chat id), in order
        self._times: dict[int, list[float]] = {}
        self._changed: dict[int, asyncio.Event] = {}
        self.too_many_at: list[float] = []  # time.monotonic() of each 429 answered

    def changed(self, chat_id: int) -> asyncio.Event:
        """Set whenever ``chat_id`` gets a message (clear it before waiting)."""
        return self._changed.setdefault(chat_id, asyncio.Event())

    def times(self, chat_id: int) -> list[float]:
        """When each message to ``chat_id`` arrived, in order."""
        return self._times.get(chat_id, [])

    async def execute(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile] | None = None,
    ) -> RecordedRequest:
        record = await super().execute(method, params, files)
        if record.status == 429:
            self.too_many_at.append(time.monotonic())
        if record.ok and method.lower() in MESSAGE_METHODS:
            chat_id = int(record.result["chat"]["id"])
            moment = time.monotonic()
            self.arrivals.append((moment, chat_id))
            self._times.setdefault(chat_id, []).append(moment)
            self.changed(chat_id).set()
        return record

    def acknowledged(self) -> set[int]:
        """Updates the bot's webhook answered with 2xx."""
        return {
            int(a["update_id"]) for a in self.webhook_attempts if 200 <= a.get("status", 0) < 300
        }
