"""P2, P3: the words that say at a glance what a group of petitions is about.

A candidate is a content word of the petitions' problems (segmented by underthesea, as
``nlp.similarity`` reads them) or a place they name. It scores by the share of the petitions
that use it times its inverse document frequency against the whole collection (a
``PetitionIndex``), or, without one, against the VLSP 2013 sentences shipped with underthesea.
Words of several syllables are preferred (``ngập nước`` over ``nước``), a word inside one
already chosen is not repeated, and every keyword is shown as the petitions write it with
diacritics (``ngập nước``, ``Lê Lợi``), restored ones only when no petition wrote it so.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from nlp.similarity import (
    Gazetteer,
    PetitionIndex,
    analyse,
    content_words,
    match_key,
    place_names,
)
from nlp.syllables import tagged_sentences

#: Score factor of a word of several syllables.
COMPOUND_BONUS = 1.5
#: At most this many petitions of a group are read (evenly spread over it).
SAMPLE = 200


@dataclass
class _Candidate:
    #: Petitions using it.
    petitions: int = 0
    #: How it is written with diacritics, by petitions that typed them (and restored ones).
    written: Counter[str] = field(default_factory=Counter)
    restored: Counter[str] = field(default_factory=Counter)

    def shown(self) -> str:
        forms = self.written or self.restored
        return max(forms, key=lambda f: (not f.isascii(), f[:1].isupper(), forms[f], f))


@cache
def _background() -> tuple[int, Counter[str]]:
    """Document frequencies of words (without diacritics) over the shipped tagged sentences."""
    frequencies: Counter[str] = Counter()
    sentences = tagged_sentences()
    for sentence in sentences:
        words = content_words(token.replace("_", " ").lower() for token in sentence)
        frequencies.update({match_key(word) for word in words})
    return len(sentences), frequencies


def keywords(
    texts: Sequence[str], *, limit: int = 5, collection: PetitionIndex[Any] | None = None
) -> list[str]:
    """The ``limit`` words (and place names) that best describe ``texts``, best first.

    ``collection`` is the index the texts were grouped in: words common to the whole
    collection weigh little. Without it, general Vietnamese text is the contrast.
    """
    if not texts or limit <= 0:
        return []
    step = max(1, len(texts) // SAMPLE)
    sample = list(texts[::step])[:SAMPLE]
    gazetteer = collection.gazetteer if collection is not None else Gazetteer(place_names(sample))
    words: defaultdict[str, _Candidate] = defaultdict(_Candidate)
    places: defaultdict[str, _Candidate] = defaultdict(_Candidate)
    for text in sample:
        analysis = analyse(text, gazetteer)
        for word in dict.fromkeys(analysis.words):
            candidate = words[match_key(word)]
            (candidate.restored if analysis.restored else candidate.written)[word] += 1
        for key in {match_key(word) for word in analysis.words}:
            words[key].petitions += 1
        for place in analysis.places:
            places[place.key].written[place.written] += 1
        for key in {place.key for place in analysis.places}:
            places[key].petitions += 1

    if collection is not None:
        size = len(collection)

        def word_df(key: str) -> int:
            return collection.document_frequency("w:" + key)

        def place_df(key: str) -> int:
            return collection.place_frequency(key)

    else:
        size, background = _background()

        def word_df(key: str) -> int:
            return background[key]

        def place_df(key: str) -> int:
            return 0

    def idf(df: int) -> float:
        return math.log((size + 1) / (df + 1)) + 1.0

    scored: list[tuple[bool, float, str, str]] = []
    shared = 2 if len(sample) > 1 else 1
    for key, candidate in words.items():
        bonus = COMPOUND_BONUS if " " in key else 1.0
        score = candidate.petitions / len(sample) * idf(word_df(key)) * bonus
        scored.append((candidate.petitions >= shared, score, key, candidate.shown()))
    for key, candidate in places.items():
        score = candidate.petitions / len(sample) * idf(place_df(key))
        shown = gazetteer.written(key) or candidate.shown()
        if shown.islower() and not any(char.isdigit() for char in shown):
            shown = shown.title()  # a street typed in lower case: le loi -> Le Loi
        scored.append((candidate.petitions >= shared, score, key, shown))
    scored.sort(key=lambda item: (not item[0], -item[1], item[2]))

    chosen: list[str] = []
    chosen_keys: list[str] = []
    for _, _, key, shown in scored:
        if any(_inside(key, other) or _inside(other, key) for other in chosen_keys):
            continue
        chosen.append(shown)
        chosen_keys.append(key)
        if len(chosen) == limit:
            break
    return chosen


def _inside(part: str, whole: str) -> bool:
    """Whether the syllables of ``part`` occur in a row in ``whole``."""
    return f" {part} " in f" {whole} "
