"""Q4: a word-level layer over the syllable model of ``nlp.restoration``: known names.

The syllable 4-gram model weighs one syllable at a time; a place name it has seen rarely loses
to a likelier neighbour (``Bến Thạnh`` for ``Ben Thanh``: ``thạnh`` follows ``bến`` in no text,
but it is frequent in southern place names). This layer looks for runs of typed words that,
without their diacritics, spell a known NAME (a current ward or province, without its unit
word, or a street of ``nlp/data/street_names.txt``), written capitalised as names are, and
gives the syllables of that name a bonus at each place (``restoration.Place.bonus``, a log
factor on the emission): the 4-gram model still decides between two names spelt alike.

The names are read from the packages and the data file on first use, never downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from nlp.loading import built_once
from nlp.orthography import strip_vietnamese
from nlp.syllables import STREET_NAMES, canonical, current_unit_names

#: The unit word that opens an official name (left out: the name is what follows it).
_UNIT = re.compile(r"^(Phường|Xã|Thị trấn|Đặc khu|Tỉnh|Thành phố)\s+")
#: The parts of a name written with a dash (``Cam Ly - Đà Lạt``), each a name.
_PARTS = re.compile(r"\s+[-–]\s+")
_LETTERS = re.compile(r"[^\W\d_]+")
#: The longest name matched, in syllables.
LONGEST = 5


def name_list() -> list[str]:
    """Every name of the layer: the current wards and provinces without their unit word, and
    the street names."""
    names = {_UNIT.sub("", name) for name in current_unit_names()}
    lines = STREET_NAMES.read_text("utf-8").splitlines()
    names.update(line.strip() for line in lines if line.strip() and not line.startswith("#"))
    return sorted(names)


def _index(names: Iterable[str]) -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    index: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for name in names:
        for part in _PARTS.split(name):
            words = part.split()
            if not 2 <= len(words) <= LONGEST or not all(map(_LETTERS.fullmatch, words)):
                continue
            # A word that is no syllable (``Wil`` in ``Đắk Wil``) is matched as it is typed,
            # and gets no bonus ("").
            syllables = tuple(canonical(word) or "" for word in words)
            if not any(syllables):
                continue
            pairs = zip(syllables, words, strict=True)
            key = tuple(strip_vietnamese(s or w.lower()) for s, w in pairs)
            index.setdefault(key, set()).add(syllables)
    return {key: tuple(sorted(values)) for key, values in index.items()}


@built_once
def names() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The known names by their syllables without diacritics (lower case)."""
    return _index(name_list())


def name_syllables(words: Sequence[str | None]) -> list[set[str]]:
    """For each typed word (None: a place that is not a typed word, e.g. a number), the
    syllables of the known names it may be part of: runs of capitalised words that, without
    diacritics, spell a known name. (Runs in lower case too: tried, fewer sentences right.)"""
    index = names()
    found: list[set[str]] = [set() for _ in words]
    keys = [
        strip_vietnamese(word.lower()) if word is not None and word[:1].isupper() else None
        for word in words
    ]
    for start in range(len(words)):
        for length in range(2, LONGEST + 1):
            span = keys[start : start + length]
            if len(span) < length or None in span:
                break
            for name in index.get(tuple(span), ()):  # type: ignore[arg-type]
                for place, syllable in enumerate(name):
                    if syllable:
                        found[start + place].add(syllable)
    return found


@built_once
def person_places() -> dict[str, dict[str, frozenset[str]]]:
    """The syllables of each place of a person's name (surname, middle, given) by their form
    without diacritics, from ``nlp/data/person_names.txt`` (``nlp.names``)."""
    from nlp.names import priors

    out: dict[str, dict[str, frozenset[str]]] = {}
    for place, weights in priors().items():
        by_key: dict[str, set[str]] = {}
        for syllable in weights:
            by_key.setdefault(strip_vietnamese(syllable), set()).add(syllable)
        out[place] = {key: frozenset(values) for key, values in by_key.items()}
    return out


def person_syllables(words: Sequence[str | None]) -> list[set[str]]:
    """For each typed word, the syllables a person's name would have there: in a run of two to
    four capitalised words whose first, without diacritics, is a listed surname, the listed
    surnames, middle names and given names at their places (``Dang Van Phuc``)."""
    places = person_places()
    found: list[set[str]] = [set() for _ in words]
    keys = [
        strip_vietnamese(word.lower()) if word is not None and word[:1].isupper() else None
        for word in words
    ]
    start = 0
    while start < len(words):
        end = start
        while end < len(words) and keys[end] is not None:
            end += 1
        run = keys[start:end]
        if 2 <= len(run) <= 4 and run[0] in places["surname"]:
            roles = ["surname", *(["middle"] * (len(run) - 2)), "given"]
            for offset, (key, role) in enumerate(zip(run, roles, strict=True)):
                found[start + offset] |= places[role].get(key or "", frozenset())
        start = end + 1
    return found
