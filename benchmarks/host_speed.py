"""The speed of this host's cores at the moment a benchmark runs, for reading its seconds.

A shared machine's core is not always as fast: on the two-core host these benchmarks run on, with
nothing in the code changed, ``doithoai workdays add`` took 0.46 s (median of five) and, half an
hour later, 0.27 s; ``doithoai run`` with aiogram answered its first message in 3.55-3.74 s, then
in 2.44-2.79 s (2 December 2026). A benchmark that compares two programs in one run
(``telegram_throughput``, ``load_and_failure``) prints ratios, which such a change leaves alone;
one that prints seconds against a goal (``startup``) prints this reference beside them, before and
after, so that its seconds can be read against the host's speed then.
"""

from __future__ import annotations

import time

ADDITIONS = 2_000_000


def reference_milliseconds(repeat: int = 3) -> float:
    """Milliseconds of ``ADDITIONS`` additions in a Python loop in this process, the best of
    ``repeat`` runs (the best is the one least disturbed)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        total = 0
        for number in range(ADDITIONS):
            total += number
        best = min(best, time.perf_counter() - started)
    return 1000 * best


def describe(moment: str) -> str:
    return (
        f"host speed {moment}: {ADDITIONS:,} additions in a Python loop took "
        f"{reference_milliseconds():.0f} ms (best of 3; the less, the faster the host)"
    )
