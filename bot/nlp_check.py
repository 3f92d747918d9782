"""``doithoai nlp check``: the Q4 verdict of one line of text, as a JSON-ready dict.

The inventory and the restoration table are loaded once (on the first call) and kept for the
process, so a command streaming thousands of lines pays the load once.
"""

from __future__ import annotations

import gc
import multiprocessing
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
    tables); each answer is still printed in order, as soon as it and those before it are
    ready (one line at a time is sent, so a tool writing a line and waiting is answered)."""
    if workers <= 1:
        yield from map(check_object, lines)
        return
    warm_up()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(check_object, lines, chunksize=1)


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
