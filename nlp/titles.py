"""P2: the title of a group of repeated petitions — a readable phrase, not a list of keywords.

The title is the subject of the group's most representative petition: the one sharing most
syllables with the others (mean Jaccard overlap, a medoid), preferring one written with
diacritics; its first sentence that is not a greeting or an introduction ("Tôi là cư dân
…"), cut at its first clause when long, first letter capitalised, no final punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

#: Longest title, in characters; a longer first clause is cut at a word with "…".
MAX_TITLE = 90
#: A sentence longer than this is cut at its first clause (at a comma).
LONG_SENTENCE = 60
#: A clause shorter than this is kept with what follows it.
MIN_CLAUSE = 25

_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")
_SYLLABLES = re.compile(r"[^\W_]+")
#: Openings of a sentence that introduce the writer or greet, folded.
_INTRODUCTIONS = (
    "toi la ",
    "toi ten ",
    "em la ",
    "chau la ",
    "kinh gui",
    "kinh thua",
    "xin chao",
    "chao ",
    "toi xin phan anh",
    "toi xin trinh bay",
)


def _base_letters() -> dict[int, int | None]:
    """Latin letters with diacritics -> their base letter; combining marks -> nothing."""
    table: dict[int, int | None] = {ord("đ"): ord("d"), ord("Đ"): ord("D")}
    for code in range(0xC0, 0x2000):
        char = chr(code)
        if unicodedata.combining(char):
            table[code] = None
            continue
        decomposed = unicodedata.normalize("NFD", char)
        if len(decomposed) > 1 and decomposed[0].isascii() and decomposed[0].isalpha():
            table[code] = ord(decomposed[0])
    return table


_BASE = _base_letters()


def _fold(text: str) -> str:
    """Lower case, without diacritics."""
    return text.lower().translate(_BASE)


def _has_diacritics(text: str) -> bool:
    return _fold(text) != text.lower()


def _syllables(text: str) -> frozenset[str]:
    return frozenset(_SYLLABLES.findall(_fold(text)))


#: From this many petitions, the overlaps of a group are computed as one matrix product.
BATCH_FROM = 64


def representative(texts: Sequence[str]) -> int:
    """The position of the petition that best stands for the group."""
    sets = [_syllables(text) for text in texts]
    overlaps = _mean_overlaps(sets)
    return max(
        range(len(texts)),
        key=lambda i: (_has_diacritics(texts[i]), round(overlaps[i], 3), -len(texts[i])),
    )


def _mean_overlaps(sets: Sequence[frozenset[str]]) -> list[float]:
    """For each set, its mean Jaccard overlap with the others (0 when alone)."""
    if len(sets) < BATCH_FROM:
        return [_mean_overlap(sets, i) for i in range(len(sets))]
    import numpy as np

    columns: dict[str, int] = {}
    rows = [[columns.setdefault(syllable, len(columns)) for syllable in s] for s in sets]
    matrix = np.zeros((len(sets), len(columns)), np.float32)  # counts: exact in float32
    for i, row in enumerate(rows):
        matrix[i, row] = 1.0
    sizes = matrix.sum(axis=1, dtype=np.float64)
    means: list[float] = []
    for start in range(0, len(sets), 256):
        shared = (matrix[start : start + 256] @ matrix.T).astype(np.float64)
        union = sizes[start : start + 256, None] + sizes[None, :] - shared
        union[union == 0] = 1.0
        fractions = shared / union
        for at, row_fractions in enumerate(fractions):
            others = np.delete(row_fractions, start + at)
            # summed one after the other, as sum() does: the same float as the loop
            means.append(float(np.cumsum(others)[-1]) / len(others))
    return means


def _mean_overlap(sets: Sequence[frozenset[str]], i: int) -> float:
    others = [s for j, s in enumerate(sets) if j != i]
    if not others:
        return 0.0
    return sum(len(sets[i] & s) / (len(sets[i] | s) or 1) for s in others) / len(others)


def subject(text: str) -> str:
    """The first clause of a petition that says what it is about, cleaned for a title."""
    sentences = [s.strip() for s in _SENTENCES.split(" ".join(text.split()) if text else "")]
    sentences = [s for s in sentences if s]
    chosen = next(
        (s for s in sentences if not _fold(s).startswith(_INTRODUCTIONS)),
        sentences[0] if sentences else "",
    )
    if len(chosen) > LONG_SENTENCE:
        cut = chosen.find(", ", MIN_CLAUSE)
        if 0 < cut <= MAX_TITLE:
            chosen = chosen[:cut]
        elif len(chosen) > MAX_TITLE:
            chosen = chosen[: MAX_TITLE - 1].rsplit(" ", 1)[0].rstrip(",;: ") + "…"
    chosen = chosen.rstrip(" .!?;,:")
    return chosen[:1].upper() + chosen[1:]


def group_title(texts: Sequence[str]) -> str:
    """A readable title for a group of petitions (their texts, any order)."""
    if not texts:
        return ""
    return subject(texts[representative(texts)])
