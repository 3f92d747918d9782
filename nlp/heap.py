"""Building the large tables of the language layer without the garbage collector walking them,
and giving back the memory their building used for a while.

Reading the restoration table makes about a million tuples and floats at once; each of them
counts towards the collector's next run, and its full runs walk everything made so far again:
about a second of a process's first restoration (issue 12: a new worker's first petition). None
of these objects can form a cycle, so nothing is missed by pausing the collector while they are
made; it runs as before afterwards (``doithoai run`` then sets the heap aside, bot/runner.py).
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache


@contextmanager
def collection_paused() -> Iterator[None]:
    """No garbage collection inside the block (the collector's state is restored after it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def give_back_freed_memory() -> None:
    """Have the C library return to the system the memory freed in its heap (glibc's
    ``malloc_trim``; nothing elsewhere). Reading the restoration table frees about 50 MB of
    text and fields that glibc would keep for later, counted in the worker's memory (issue 12:
    a worker under 250 MB)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim  # type: ignore[no-any-return]
