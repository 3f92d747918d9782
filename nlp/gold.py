"""The labelled petitions of Q4 (``nlp/data/petitions_gold.txt``) and their one fixed split.

A line is HELD OUT when the first byte of SHA-256 of its NFC text (UTF-8) is odd; the others
are the TUNING half. The rule was decided once, before any model was built, and is never
changed: the tuning half may feed the restoration tables and the choice of weights and
thresholds, the held-out half is only ever scored.

A second held-out set (``nlp/data/petitions_fresh.txt``, ``fresh_held_out``) was written after
the first held-out half's safety figure had been seen, and committed before any rule was scored
on it: it is never used for any choice either, only scored.

A third held-out set (``nlp/data/petitions_fresh_2.txt``, ``second_fresh_held_out``) was written
on 30/11/2026 after both sets above had been scored, without reading any other sentence file and
before any model was evaluated on it: never used for any choice, only scored.

A fourth held-out set (``nlp/data/petitions_fresh_3.txt``, ``third_fresh_held_out``) was written
on 30/11/2026 by helper i11fresh3 while other helpers were improving the model, without reading
any other sentence file and before any model was evaluated on it: never used for any choice,
only scored, once.

A fifth held-out set (``nlp/data/petitions_fresh_4.txt``, ``fourth_fresh_held_out``) was written
on 01/12/2026 by helper i11fresh4 while other helpers were improving the model and writing
training text, without reading any other sentence file and before any model was evaluated on it:
never used for any choice, only scored, once, at the end of the session.
"""

from __future__ import annotations

import hashlib
import unicodedata
from functools import cache
from pathlib import Path

GOLD = Path(__file__).with_name("data") / "petitions_gold.txt"
FRESH = Path(__file__).with_name("data") / "petitions_fresh.txt"
FRESH_2 = Path(__file__).with_name("data") / "petitions_fresh_2.txt"
FRESH_3 = Path(__file__).with_name("data") / "petitions_fresh_3.txt"
FRESH_4 = Path(__file__).with_name("data") / "petitions_fresh_4.txt"


def held_out(sentence: str) -> bool:
    """Whether a gold sentence belongs to the held-out half (the fixed rule above)."""
    digest = hashlib.sha256(unicodedata.normalize("NFC", sentence).encode("utf-8")).digest()
    return digest[0] % 2 == 1


def _lines(path: Path) -> tuple[str, ...]:
    lines = path.read_text("utf-8").splitlines()
    return tuple(
        unicodedata.normalize("NFC", line.strip())
        for line in lines
        if line.strip() and not line.startswith("#")
    )


@cache
def sentences() -> tuple[str, ...]:
    """Every gold sentence, in file order (comments and blank lines left out)."""
    return _lines(GOLD)


def tuning() -> tuple[str, ...]:
    """The half that tables, weights and thresholds may be built and chosen on."""
    return tuple(s for s in sentences() if not held_out(s))


def held_out_half() -> tuple[str, ...]:
    """The half that is only ever scored."""
    return tuple(s for s in sentences() if held_out(s))


@cache
def fresh_held_out() -> tuple[str, ...]:
    """The second held-out set, written after the first one's figures were seen: only ever
    scored."""
    return _lines(FRESH)


@cache
def second_fresh_held_out() -> tuple[str, ...]:
    """The third held-out set, written after the other two had been scored: only ever scored."""
    return _lines(FRESH_2)


@cache
def third_fresh_held_out() -> tuple[str, ...]:
    """The fourth held-out set, written while the model was being improved, before any model
    was evaluated on it: only ever scored."""
    return _lines(FRESH_3)


@cache
def fourth_fresh_held_out() -> tuple[str, ...]:
    """The fifth held-out set, written while the model was being improved and training text
    written, before any model was evaluated on it: only ever scored, once."""
    return _lines(FRESH_4)
