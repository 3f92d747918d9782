"""Building the large tables of the language layer without the garbage collector walking them.

Reading the restoration table makes about a million tuples and floats at once; each of them
counts towards the collector's next run, and its full runs walk everything made so far again:
about a second of a process's first restoration (issue 12: a new worker's first petition). None
of these objects can form a cycle, so nothing is missed by pausing the collector while they are
made; it runs as before afterwards (``doithoai run`` then sets the heap aside, bot/runner.py).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
