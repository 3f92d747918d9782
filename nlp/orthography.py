"""Vietnamese orthography: letters, tone marks and the shape of a written syllable.

A written syllable is an onset (``ngh``, ``qu``, ``gi``, …, or none), a vowel cluster with its
glides (``oa``, ``ươ``, ``uyê``, …) and a coda (``c ch m n ng nh p t`` or none), with one tone
mark on one vowel of the cluster. Everything here is pure and table-driven; no word list.
"""

from __future__ import annotations

import unicodedata
from enum import IntEnum
from functools import lru_cache
from typing import NamedTuple


class Tone(IntEnum):
    """The six tones; LEVEL (ngang) carries no mark."""

    LEVEL = 0
    GRAVE = 1  # huyền
    ACUTE = 2  # sắc
    HOOK = 3  # hỏi
    TILDE = 4  # ngã
    DOT = 5  # nặng


TONE_MARKS: dict[str, Tone] = {
    "\u0300": Tone.GRAVE,
    "\u0301": Tone.ACUTE,
    "\u0309": Tone.HOOK,
    "\u0303": Tone.TILDE,
    "\u0323": Tone.DOT,
}
_TONE_TO_MARK = {tone: mark for mark, tone in TONE_MARKS.items()}

#: Vowel letters without tone, with their hats (circumflex, breve, horn).
VOWELS = frozenset("aăâeêioôơuưy")
#: Letters of the Vietnamese alphabet (lower case, toneless).
LETTERS = frozenset("abcdđeghiklmnopqrstuvxyăâêôơư")
#: Vowels that carry a hat or a horn; the tone sits on them when present.
HATTED = frozenset("ăâêôơư")

_BASES = "aăâeêioôơuưy"


def _build_tables() -> tuple[dict[str, tuple[str, Tone]], dict[tuple[str, Tone], str]]:
    split: dict[str, tuple[str, Tone]] = {}
    compose: dict[tuple[str, Tone], str] = {}
    for base in _BASES + _BASES.upper():
        for tone in Tone:
            mark = _TONE_TO_MARK.get(tone, "")
            char = unicodedata.normalize("NFC", base + mark)
            split[char] = (base, tone)
            compose[(base, tone)] = char
    return split, compose


_SPLIT, _COMPOSE = _build_tables()
#: Every precomposed vowel that carries a tone mark (upper and lower case).
TONED_VOWELS = frozenset(char for char, (_, tone) in _SPLIT.items() if tone)
#: Characters that only Vietnamese diacritics produce (hats, horns, tones, đ).
MARKED_LETTERS = frozenset(
    {char for char, (base, tone) in _SPLIT.items() if tone or base.lower() in HATTED} | set("đĐ")
)

_STRIP = {
    char: unicodedata.normalize("NFD", char)[0]
    for char in _SPLIT
    if unicodedata.normalize("NFD", char)[0] != char
}
_STRIP.update({"đ": "d", "Đ": "D"})
_STRIP_TABLE = str.maketrans(_STRIP)


def split_letter(char: str) -> tuple[str, Tone]:
    """A letter and its tone: ``"ế"`` -> ``("ê", Tone.ACUTE)``; other characters are LEVEL."""
    return _SPLIT.get(char, (char, Tone.LEVEL))


def compose_letter(base: str, tone: Tone) -> str:
    """The precomposed letter for a toneless vowel and a tone (consonants stay as they are)."""
    return _COMPOSE.get((base, tone), base)


def strip_vietnamese(text: str) -> str:
    """Remove Vietnamese tone marks and hats, and write đ as d (NFC input, fast path)."""
    return text.translate(_STRIP_TABLE)


def has_vietnamese_marks(text: str) -> bool:
    """True when the text contains a Vietnamese hat, horn, tone mark or đ."""
    return any(char in MARKED_LETTERS for char in text)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ONSETS = (
    "ngh",
    "ch",
    "gh",
    "gi",
    "kh",
    "ng",
    "nh",
    "ph",
    "qu",
    "th",
    "tr",
    "b",
    "c",
    "d",
    "đ",
    "g",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "x",
)
CODAS = frozenset({"", "c", "ch", "m", "n", "ng", "nh", "p", "t"})
#: Vowel clusters (nucleus with its glides) that may end a syllable with no coda.
OPEN_CLUSTERS = _words(
    "a e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iu oa oe oi ôi ơi ua uê ui uơ uy ưa ưi ưu "
    "iêu oai oao oay oeo uây uôi uya uyu ươi ươu yêu"
)
#: Vowel clusters that may take a consonant coda.
CLOSED_CLUSTERS = _words("a ă â e ê i o ô ơ u ư y iê yê oa oă oe oo uâ uê uô uơ uy ươ uyê")
_STOP_CODAS = frozenset({"c", "ch", "p", "t"})
_FRONT = frozenset("eêiy")


class Syllable(NamedTuple):
    """A parsed toneless syllable (lower case) and its tone."""

    onset: str
    cluster: str
    coda: str
    tone: Tone


def parse(word: str) -> Syllable | None:
    """Parse one lower-case syllable (NFC) into onset, vowel cluster, coda and tone.

    Returns None when the word is not a well-formed Vietnamese syllable: a letter outside the
    alphabet, more than one tone mark, an impossible onset, cluster or coda, a spelling rule
    broken (``k``/``gh``/``ngh`` before front vowels only), or a stop coda with a tone other
    than sắc or nặng (a toneless stop syllable is accepted: it is how stripped text looks).
    """
    letters: list[str] = []
    tone = Tone.LEVEL
    for char in word:
        base, mark = _SPLIT.get(char, (char, Tone.LEVEL))
        if base not in LETTERS:
            return None
        if mark:
            if tone:
                return None
            tone = mark
        letters.append(base)
    bare = "".join(letters)
    for onset in (*ONSETS, ""):
        if not bare.startswith(onset):
            continue
        rest = bare[len(onset) :]
        if onset in {"gi", "qu"} and not (rest and rest[0] in VOWELS):
            continue
        syllable = _split_rhyme(onset, rest, tone)
        if syllable is not None:
            return syllable
    return None


def _split_rhyme(onset: str, rest: str, tone: Tone) -> Syllable | None:
    end = 0
    while end < len(rest) and rest[end] in VOWELS:
        end += 1
    cluster, coda = rest[:end], rest[end:]
    if not cluster or coda not in CODAS:
        return None
    if coda:
        if cluster not in CLOSED_CLUSTERS:
            return None
        if coda in {"ch", "nh"} and cluster[-1] not in "aêiy":
            return None
        if coda in {"c", "ng"} and cluster[-1] in "iy":
            return None
        if coda in _STOP_CODAS and tone not in {Tone.LEVEL, Tone.ACUTE, Tone.DOT}:
            return None
    elif cluster not in OPEN_CLUSTERS:
        return None
    first = cluster[0]
    if onset in {"k", "gh", "ngh"} and first not in _FRONT:
        return None
    if onset in {"c", "g", "ng"} and first in _FRONT and not (onset == "g" and cluster == "i"):
        return None
    if onset == "gi" and first in "iy":
        return None
    if onset == "qu" and first == "u":
        return None
    return Syllable(onset, cluster, coda, tone)


def tone_index(syllable: Syllable) -> int:
    """Index, within the vowel cluster, of the vowel that carries the tone (new style).

    The new (1980s school) style puts the mark on the main vowel: ``hoà``, ``thuỷ``, ``khoẻ``;
    the older style writes ``hòa``, ``thủy``, ``khỏe``. Both fold to the new style here, which is
    also what the VLSP tagged text shipped with underthesea uses.
    """
    cluster = syllable.cluster
    hatted = [i for i, char in enumerate(cluster) if char in HATTED]
    if hatted:
        return hatted[-1]
    if len(cluster) == 1:
        return 0
    if len(cluster) == 3:
        return 1
    if syllable.coda or cluster in {"oa", "oe", "uy"}:
        return 1
    return 0


def render(syllable: Syllable) -> str:
    """Write a parsed syllable with its tone on the canonical vowel (lower case)."""
    cluster = syllable.cluster
    if syllable.tone:
        index = tone_index(syllable)
        toned = compose_letter(cluster[index], syllable.tone)
        cluster = cluster[:index] + toned + cluster[index + 1 :]
    return syllable.onset + cluster + syllable.coda


@lru_cache(maxsize=1 << 16)
def canonical_syllable(word: str) -> str | None:
    """The lower-case syllable with its tone in canonical place, or None when not a syllable.
    Kept per word (a few thousand make most text; parsing was most of a restoration's CPU)."""
    parsed = parse(word.lower())
    return None if parsed is None else render(parsed)
