"""P2, P3: the words that say at a glance what a group of petitions is about.

A candidate is a content word of the petitions' problems or a place they name. The problems
are read for display rather than for speed: a text with diacritics is segmented by underthesea
(imported on first use), so that compounds come out whole (``bảo hiểm y tế``), and one typed
without them is read as ``nlp.similarity`` reads it (a restoration's errors would make
compounds of their own: ``đoàn tụ`` for ``đoạn từ``); stopwords, function words and formulae are
dropped as ``nlp.similarity`` drops them. A candidate scores by the share of the petitions that
use it times its inverse document frequency against the whole collection (a ``PetitionIndex``;
a compound it does not read as a word counts the petitions having all its syllables), or, without
one, against the VLSP 2013 sentences shipped with underthesea. Words of several syllables are
preferred (``ngập nước`` over ``nước``), a word inside one already chosen is not repeated, and
every keyword is shown with diacritics (``ngập nước``, ``Lê Lợi``): as the petitions write it,
else as the collection writes it, else as restored (``nlp.diacritics.suggest``) in a petition
typed without them.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from nlp.diacritics import suggest
from nlp.similarity import (
    Gazetteer,
    PetitionIndex,
    Place,
    content_words,
    match_key,
    place_names,
    problem_and_places,
    segment,
    typed_without_diacritics,
)
from nlp.syllables import tagged_sentences

_LETTERS = re.compile(r"[^\W\d_]+")

#: Score factor of a word of several syllables.
COMPOUND_BONUS = 1.5
#: At most this many petitions of a group are read (evenly spread over it).
SAMPLE = 200


@dataclass
class _Candidate:
    #: Petitions using it.
    petitions: int = 0
    #: How it is written by petitions that typed diacritics, and by those that did not.
    written: Counter[str] = field(default_factory=Counter)
    typed: Counter[str] = field(default_factory=Counter)
    #: The petitions typed without diacritics that use it.
    bare_texts: list[str] = field(default_factory=list)

    def shown(self, collection: PetitionIndex[Any] | None, key: str) -> str:
        """With diacritics: as the petitions, the collection or a restoration writes it."""
        forms = self.written or self.typed
        best = max(forms, key=lambda f: (not f.isascii(), f[:1].isupper(), forms[f], f))
        if self.written:
            return best
        known = collection.accented(key) if collection is not None else None
        return known or _restored(key, self.bare_texts) or best


def _restored(key: str, texts: Sequence[str]) -> str | None:
    """A word (its key) as restored in the first of ``texts`` whose restoration has it."""
    wanted = key.split()
    for text in texts:
        suggestion = suggest(text)
        if suggestion is None:
            continue
        syllables = _LETTERS.findall(suggestion.lower())
        keys = [match_key(syllable) for syllable in syllables]
        for at in range(len(keys) - len(wanted) + 1):
            if keys[at : at + len(wanted)] == wanted:
                return " ".join(syllables[at : at + len(wanted)])
    return None


@cache
def _segmenter() -> Callable[[str], list[str]]:
    """underthesea's word segmentation, imported on first use (it loads a CRF model)."""
    from underthesea import word_tokenize

    return word_tokenize  # type: ignore[no-any-return]


def _analyse(text: str, gazetteer: Gazetteer) -> tuple[list[str], bool, list[Place]]:
    """The content words of a petition's problem, whether it was typed without diacritics,
    and its places (module docstring)."""
    problem, places = problem_and_places(text, gazetteer)
    if typed_without_diacritics(problem):
        return content_words(segment(problem), bare=True), True, places
    words = [word.lower() for word in _segmenter()(problem)] if problem.strip() else []
    return content_words(words), False, places


def _collection_df(collection: PetitionIndex[Any], key: str) -> int:
    """In how many petitions of the collection a word occurs; a compound the collection does
    not read as a word: in how many all its syllables occur."""
    found = collection.document_frequency("w:" + key)
    if found or " " not in key:
        return found
    return collection.syllable_frequency(key.split())


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
        found, bare, named = _analyse(text, gazetteer)
        for word in dict.fromkeys(found):
            candidate = words[match_key(word)]
            (candidate.typed if bare else candidate.written)[word] += 1
            if bare:
                candidate.bare_texts.append(text)
        for key in {match_key(word) for word in found}:
            words[key].petitions += 1
        for place in named:
            places[place.key].written[place.written] += 1
        for key in {place.key for place in named}:
            places[key].petitions += 1

    if collection is not None:
        size = len(collection)

        def word_df(key: str) -> int:
            return _collection_df(collection, key)

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
        scored.append((candidate.petitions >= shared, score, key, ""))
    for key, candidate in places.items():
        score = candidate.petitions / len(sample) * idf(place_df(key))
        shown = gazetteer.written(key) or candidate.shown(None, key)
        if shown.islower() and not any(char.isdigit() for char in shown):
            shown = shown.title()  # a street typed in lower case: le loi -> Le Loi
        scored.append((candidate.petitions >= shared, score, key, shown))
    scored.sort(key=lambda item: (not item[0], -item[1], item[2]))

    chosen: list[str] = []
    chosen_keys: list[str] = []
    for _, _, key, shown in scored:
        if any(_inside(key, other) or _inside(other, key) for other in chosen_keys):
            continue
        chosen.append(shown or words[key].shown(collection, key))
        chosen_keys.append(key)
        if len(chosen) == limit:
            break
    return chosen


def _inside(part: str, whole: str) -> bool:
    """Whether the syllables of ``part`` occur in a row in ``whole``."""
    return f" {part} " in f" {whole} "
