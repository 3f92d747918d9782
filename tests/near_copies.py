"""Near copies between a held-out set and the other data files (Q4): a line is a near copy when
its syllable set and another line's overlap by Jaccard ≥ a threshold.

Exact, without comparing every pair: if J(A, B) ≥ t then |A ∩ B| ≥ t·|A|, so B holds at least
one of any |A| − ⌈t·|A|⌉ + 1 syllables of A. Only the lines holding one of A's rarest such
syllables are compared (a prefix filter on an inverted index)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from nlp.text import fold_tone_placement

_SYLLABLE = re.compile(r"[^\W\d_]+")
#: The sentence files of the restoration model and its held-out sets.
DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"


def lines_of_other_files(*names: str) -> list[str]:
    """Every sentence line (no comment, no blank) of the data files but those named."""
    return [
        line.strip()
        for path in sorted(DATA.glob("*.txt"))
        if path.name not in names
        for line in path.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def syllable_set(line: str) -> frozenset[str]:
    """The syllables of a line, lower case, tone marks placed the one way (numbers left out)."""
    return frozenset(_SYLLABLE.findall(fold_tone_placement(line).lower()))


def near_copies(
    lines: Sequence[tuple[int, str]], others: Iterable[str], threshold: float
) -> list[int]:
    """The numbers of ``lines`` (number, text) whose syllable set is a near copy of one of
    ``others``'."""
    sets = list({syllable_set(line) for line in others})
    postings: dict[str, list[int]] = {}
    for index, syllables in enumerate(sets):
        for syllable in syllables:
            postings.setdefault(syllable, []).append(index)
    has_empty = frozenset() in sets
    sizes = [len(syllables) for syllables in sets]
    near: list[int] = []
    for number, line in lines:
        mine = syllable_set(line)
        if not mine:
            if has_empty:  # J(∅, ∅) counts as a copy, as 0 ≥ t·0
                near.append(number)
            continue
        rarest = sorted(mine, key=lambda syllable: len(postings.get(syllable, ())))
        prefix = rarest[: len(mine) - math.ceil(threshold * len(mine) - 1e-9) + 1]
        candidates = {index for syllable in prefix for index in postings.get(syllable, ())}
        # J(A, B) ≤ min(|A|, |B|) / max(|A|, |B|): only sets of a size within t of A's can reach t.
        low, high = threshold * len(mine) - 1e-9, len(mine) / threshold + 1e-9
        if any(
            low <= sizes[index] <= high
            and len(mine & sets[index]) >= threshold * len(mine | sets[index])
            for index in candidates
        ):
            near.append(number)
    return near
