"""Flood control like Telegram's: a global and a per-chat budget of messages.

Telegram documents about 30 messages per second overall, one per second in a chat (short
bursts tolerated) and 20 per minute in a group, and answers a call over budget with
``429 Too Many Requests: retry after N`` and ``parameters.retry_after = N``. Here each
budget is a sliding window; N is the whole number of seconds until the oldest message in
the full window leaves it (at least 1). Refused calls do not use up budget.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Window:
    size: int
    seconds: float
    times: deque[float] = field(default_factory=deque)

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.size:
            return 0.0
        return self.times[0] + self.seconds - now


def _window(per_second: float) -> tuple[int, float]:
    """``per_second`` as (messages, seconds): 1 -> (1, 1 s); 0.5 -> (1, 2 s); 2 -> (2, 1 s)."""
    seconds = max(1.0, 1.0 / per_second)
    return max(1, round(per_second * seconds)), seconds


class RateLimiter:
    """Decides whether one more message may go out now."""

    def __init__(
        self,
        global_per_second: float | None,
        per_chat_per_second: float | None,
        per_group_per_minute: float | None,
        clock: Callable[[], float],
    ) -> None:
        self._clock = clock
        self._global = _Window(*_window(global_per_second)) if global_per_second else None
        self._per_chat = _window(per_chat_per_second) if per_chat_per_second else None
        self._per_group = (
            (max(1, round(per_group_per_minute)), 60.0) if per_group_per_minute else None
        )
        self._chats: dict[int | str, _Window] = {}
        self._groups: dict[int | str, _Window] = {}

    def _chat_windows(self, chat_id: int | str | None) -> list[_Window]:
        if chat_id is None:
            return []
        windows = []
        if self._per_chat is not None:
            windows.append(self._chats.setdefault(chat_id, _Window(*self._per_chat)))
        is_group = isinstance(chat_id, str) or chat_id < 0
        if is_group and self._per_group is not None:
            windows.append(self._groups.setdefault(chat_id, _Window(*self._per_group)))
        return windows

    def retry_after(self, chat_id: int | str | None) -> int | None:
        """Seconds to wait before a message to ``chat_id`` fits the budget, or None."""
        now = self._clock()
        windows = [*self._chat_windows(chat_id), *([self._global] if self._global else [])]
        wait = max((window.wait(now) for window in windows), default=0.0)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def record(self, chat_id: int | str | None) -> None:
        """Count one message that went out."""
        now = self._clock()
        for window in [*self._chat_windows(chat_id), *([self._global] if self._global else [])]:
            window.times.append(now)
