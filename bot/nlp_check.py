"""``doithoai nlp check``: the Q4 verdict of one line of text, as a JSON-ready dict.

The inventory and the restoration table are loaded once (on the first call) and kept for the
process, so a command streaming thousands of lines pays the load once.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from nlp import lattice, restoration, syllables
from nlp.diacritics import judge_and_restore


def warm_up() -> None:
    """Load the syllable inventory and the restoration table and build their arrays for the
    decoder (``nlp.lattice``) now (about two seconds), and move them out of the garbage
    collector's sight (``gc.freeze``: millions of long-lived objects it would otherwise walk
    again and again, and pages a forked worker would copy). Forked workers share them all."""
    lattice.inventory_tables(syllables.inventory())
    lattice.tables(restoration.model().lm)
    gc.freeze()


def check_object(text: str) -> dict[str, Any]:
    """The line ``doithoai nlp check`` prints for ``text``."""
    return {"input": text, **check_line(text)}


def check_stream(lines: Iterable[str], workers: int = 1) -> Iterator[dict[str, Any]]:
    """``check_object`` of every line, in the order of the lines. With ``workers`` > 1 the
    lines are checked by that many processes forked after ``warm_up`` (they share the loaded
    tables); each answer is still yielded in order, as soon as it and those before it are
    ready. A reader thread takes the lines as they come; they go to the workers in chunks as
    large as what is already waiting (a line typed alone goes alone and is answered at once,
    a piped file goes in chunks of up to ``MAX_CHUNK`` lines). What is read ahead is bounded
    (``_Feed``): a huge input is not held in memory."""
    if workers <= 1:
        yield from map(check_object, lines)
        return
    warm_up()
    feed = _Feed(workers)
    reader = threading.Thread(target=feed.read, args=(lines,), daemon=True)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        reader.start()
        try:
            for answers in pool.imap(_check_chunk, feed.chunks()):
                feed.done()
                yield from answers
        finally:
            feed.stop()


#: The most lines sent to a worker at once (enough to make the cost of sending negligible,
#: few enough that the last chunks of a bulk input keep every worker busy).
MAX_CHUNK = 256

_END = object()


class _Feed:
    """Lines from a reader thread to the pool's feeding thread, in chunks.

    At most ``4 * workers`` chunks are with the pool (sent, not yet yielded: ``done`` frees
    one) and ``4 * MAX_CHUNK * workers`` lines wait to be sent, so reading ahead stops there."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.waiting: queue.Queue[Any] = queue.Queue(maxsize=4 * MAX_CHUNK * workers)
        self.slots = threading.Semaphore(4 * workers)
        self.stopped = threading.Event()

    def read(self, lines: Iterable[str]) -> None:
        """Put every line on ``waiting`` as soon as it is read, then ``_END`` (or the error
        that stopped the reading, raised again by ``chunks``)."""
        try:
            for line in lines:
                if not self._put(line):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            self._put(error)
        self._put(_END)

    def _put(self, item: object) -> bool:
        while not self.stopped.is_set():
            try:
                self.waiting.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def chunks(self) -> Iterator[list[str]]:
        """Lists of consecutive lines: each waits for one line, then takes what else is
        already there, up to a share of it for each worker (at most ``MAX_CHUNK``)."""
        while True:
            self.slots.acquire()
            item = self.waiting.get()
            if item is _END or self.stopped.is_set():
                return
            if isinstance(item, BaseException):
                raise item
            chunk = [item]
            size = min(MAX_CHUNK, max(1, self.waiting.qsize() // self.workers))
            while len(chunk) < size:
                try:
                    item = self.waiting.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, BaseException):
                    yield chunk
                    raise item
                if item is _END:
                    yield chunk
                    return
                chunk.append(item)
            yield chunk

    def done(self) -> None:
        """The answers of one chunk are back."""
        self.slots.release()

    def stop(self) -> None:
        """Stopped (the input ended, an error, the caller gone): let the pool's feeding thread
        out of ``chunks`` even if the input is still open, or closing the pool would hang."""
        self.stopped.set()
        self.slots.release()
        with contextlib.suppress(queue.Full):  # then ``chunks`` is not waiting: sees ``stopped``
            self.waiting.put_nowait(_END)


def _check_chunk(chunk: list[str]) -> list[dict[str, Any]]:
    return [check_object(text) for text in chunk]


def check_line(text: str) -> dict[str, Any]:
    """The verdict, whether the text is refused, the suggestion offered (None when there is
    none, or below the confidence floor) and its uncertain words (to be confirmed before the
    suggestion may be used)."""
    report, restored = judge_and_restore(text)
    suggestion: str | None = None
    uncertain: list[str] = []
    if restored is not None and restored.offered:
        suggestion = restored.text
        uncertain = [word.best for word in restored.uncertain]
    return {
        "verdict": report.verdict.value,
        "refused": report.refused,
        "suggestion": suggestion,
        "uncertain": uncertain,
    }
