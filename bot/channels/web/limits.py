"""Token buckets for the web chat: frames per connection and per address (C7)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Buckets of addresses not seen for this long are forgotten, when this many are kept.
_FORGET_AFTER_SECONDS = 600.0
_PRUNE_AT = 10_000


@dataclass
class Bucket:
    """``rate`` tokens a second, at most ``burst`` saved up; a frame takes one."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.updated = self.clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class AddressBuckets:
    """One bucket per client address, shared by all its connections."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate, self._burst, self._clock = rate, burst, clock
        self._buckets: dict[str, Bucket] = {}

    def take(self, address: str) -> bool:
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= _PRUNE_AT:
                self._prune()
            bucket = self._buckets[address] = Bucket(self._rate, self._burst, self._clock)
        return bucket.take()

    def _prune(self) -> None:
        now = self._clock()
        for address, bucket in list(self._buckets.items()):
            if now - bucket.updated > _FORGET_AFTER_SECONDS:
                del self._buckets[address]
