"""The language layer's large tables: built once per process whichever thread asks first, and
loaded ahead of a petition, off the thread that runs the conversations.

The first text a worker judges builds the syllable inventory and its arrays (about a second
here), the first search for similar petitions reads the word lists and the gazetteer, and the
first text typed without diacritics reads the restoration table and builds its arrays (about two
seconds more). All of that ran in the one thread that runs every conversation's turns
(bot/runner.py), so every resident of that worker waited for it (issue 12). A resident who
begins a petition chooses a session, a kind and a topic before sending its text:
:func:`load_in_background`, called then, builds the tables in a thread of its own, and the turn
that needs them finds them built, or waits only for the one being built.

Every builder of such a table is :func:`built_once` (or takes :data:`BUILDING` around its own
memo): a second thread that asks for a table while another builds it waits for that build,
instead of building a second copy. One lock for all of them: a builder that needs another
(the inventory reads the tagged text) takes it again in the same thread (it is reentrant), and
two threads can never each hold a part the other needs.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Held while a table is being built (reentrant: a builder may call another).
BUILDING = threading.RLock()

# A text each, as a resident would type it: judging them and restoring the second builds what a
# petition's text needs.
_WITH_DIACRITICS = "Đường Lê Lợi, phường Bến Thành ngập nước mỗi khi mưa lớn."
_WITHOUT_DIACRITICS = "duong le loi phuong ben thanh ngap nuoc moi khi mua lon"

_started = threading.Lock()
_thread: threading.Thread | None = None


def built_once(build: Callable[[], T]) -> Callable[[], T]:
    """``functools.cache`` for a function without arguments that builds a large table, safe
    between threads: built once, under :data:`BUILDING`; afterwards returned without a lock."""
    done: list[T] = []

    @functools.wraps(build)
    def once() -> T:
        if done:
            return done[0]
        with BUILDING:
            if not done:
                done.append(build())
            return done[0]

    return once


def load_in_background() -> None:
    """Start building what a petition's text needs, in a thread of its own; once per process
    (later calls do nothing)."""
    global _thread
    with _started:
        if _thread is not None:
            return
        _thread = threading.Thread(
            target=_load_for_a_petition, name="doithoai-language-data", daemon=True
        )
        _thread.start()


def background_loading() -> threading.Thread | None:
    """The thread :func:`load_in_background` started in this process, if any."""
    return _thread


def _load_for_a_petition() -> None:
    try:
        from nlp.diacritics import judge, restore
        from nlp.places import gazetteer
        from nlp.similarity import lexicon

        judge(_WITH_DIACRITICS)  # the syllable inventory and its arrays
        lexicon()  # the similar petitions' word lists
        gazetteer()
        restore(_WITHOUT_DIACRITICS)  # the restoration table, its arrays, the names
    except Exception:  # the turn that needs a table builds it, as without this thread
        log.exception("building the language data ahead of a petition failed")
