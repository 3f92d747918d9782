"""P2, P3: near-duplicate petitions — the same problem at the same place, in other words, with
or without diacritics.

A petition is read as its **places** and its **problem** (``analyse``):

- places: the names after place words (``đường Lê Lợi``, ``hẻm 42 Cô Giang``, ``chợ Bến
  Thành``, ``khu phố 3``, ``kp3``), and the names the collection writes that way wherever they
  occur (``mưa là Hàm Nghi ngập``, ``ham nghi ngap``). Keys are lower case without diacritics;
  a key one letter away from a more frequent one is that one (``Cống Quình``);
- the problem is the rest of the text, read two ways:

  - **content words**: each run of syllables (between punctuation and numbers) split into
    the words most likely to make it (a unigram model of the VLSP 2013 word segmentation
    shipped with underthesea), read without diacritics: a text and the same text typed
    without them are split alike, with no restoration and no CRF segmenter (both cost
    milliseconds a petition; this costs tens of microseconds). Stopwords (underthesea's
    shipped list), function words (those the tagged text tags mostly as prepositions,
    conjunctions, adverbs, pronouns, determiners, numerals or particles), the formulae every
    petition uses (``đề nghị``, ``bà con``), numbers and punctuation are dropped, all compared
    without diacritics. A word is matched by its form without diacritics; the syllables of a
    compound count too, at a lower weight (``đèn đường`` meets ``đèn``);
  - **character n-grams** (3 to 5 letters, within syllables) of those words without
    diacritics: typos (``nươc``, ``thu gôm``) still share most of them.

Both parts are TF-IDF weighted over the collection (sublinear term frequency) and L2-normalised;
the score of two petitions is ``WORD_WEIGHT`` times the cosine of their words plus the rest
times the cosine of their n-grams. The place is left out of the vectors — naming the same street
says nothing about having the same problem (flooding and street lights on Lê Lợi) — and acts on
the score instead: two petitions that both name places but no common one are different issues
(flooding on Lê Lợi is not flooding on Hàm Nghi); two that name the same place have their score
raised (``PLACE_BOOST``).

``PetitionIndex`` builds the vectors once and answers ``similar`` (one query: the petitions of
the same place, and the others through an inverted index on their words, rarest first — never a
scan of the collection) and ``groups`` (average-link clusters, ``nlp.grouping``, over the pairs
the same blocking finds — never all pairs). Of underthesea only shipped data files are read
(on first use); none of its code is imported.
"""

from __future__ import annotations

import math
import multiprocessing
import re
import sys
import unicodedata
from array import array
from collections import Counter, defaultdict
from collections.abc import (
    Callable,
    Collection,
    Hashable,
    Iterable,
    Mapping,
    MutableMapping,
    Sequence,
)
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from operator import mul
from typing import Generic, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from nlp.grouping import Vector, average_link
from nlp.loading import built_once
from nlp.syllables import TAGGED_TEXT, underthesea_root
from nlp.text import fold_tone_placement, normalise, strip_diacritics

Id = TypeVar("Id", bound=Hashable)

# Tuned on the labelled set of tests/test_nlp_similarity.py and checked on the synthetic
# petitions of benchmarks/petition_grouping.py; the threshold chosen again on the tuning half
# only when words stopped being read by underthesea's CRF after a restoration (best tuning F1
# 0.940 for thresholds 0.15 to 0.20, as with the CRF).

#: Share of the score that comes from the content words; the rest from character n-grams.
WORD_WEIGHT = 0.5
#: Weight of each syllable of a compound word, relative to the compound.
SYLLABLE_WEIGHT = 0.5
#: Character n-gram lengths (within syllables, padded with a space on both sides).
NGRAM_SIZES = (3, 4, 5)
#: Only the most weighted n-grams of a petition are kept (its rarest): the common ones carry
#: little and would make vectors and indexes several times larger.
NGRAMS_KEPT = 80
#: Two petitions that name the same place are more likely the same issue than two that name
#: none: their score ``s`` becomes ``1 - (1 - s) ** (1 + PLACE_BOOST)`` (about
#: ``s * (1 + PLACE_BOOST)`` for a small ``s``, never above 1).
PLACE_BOOST = 1.5
#: Default score from which two groups of petitions are the same issue (``groups``: the mean
#: score over all pairs across them). Chosen on the tuning half of the labelled petitions only
#: (tests/test_nlp_grouping_split.py): the middle of the thresholds with the best pairwise F1.
THRESHOLD = 0.18
#: Default score from which ``similar`` shows an earlier petition to a resident: one pair is
#: weaker evidence than a group's mean.
SIMILAR_THRESHOLD = 0.3

# Blocking (how candidates are found; the scores themselves are exact).

#: Candidates scored per petition, best first by the weight of the words they share with it.
CANDIDATES = 30
#: Postings read per petition when looking for candidates for ``groups``, rarest words first.
POSTINGS_BUDGET = 5_000
#: Postings read for one ``similar`` query.
QUERY_POSTINGS_BUDGET = 50_000
#: ``similar`` scores every petition of a place named by the query up to this many; beyond,
#: the best candidates among them.
BLOCK_SCAN = 2_000
#: Fewer texts to segment than this are segmented in the calling process whatever ``workers``.
PARALLEL_MINIMUM = 1_000
#: Below this share of marked words a text is taken as typed without diacritics and restored
#: before segmentation (accented running text has at least 46 % marked words; 72 % at the 1st
#: percentile of the VLSP 2013 sentences shipped with underthesea).
MARKED_SHARE = 0.5

# -------------------------------------------------------------------------------------------
# Keys and normalisation

_LETTERS = re.compile(r"[^\W\d_]+")
_NON_ALNUM = re.compile(r"[\W_]+")
_GLUED = re.compile(r"(?i)\b(kp)\.?(?=\d)")


@lru_cache(maxsize=1 << 18)
def match_key(word: str) -> str:
    """How a word or a name is matched: lower case, no diacritics."""
    return strip_diacritics(word).lower()


_fold_word = lru_cache(maxsize=1 << 18)(fold_tone_placement)


def _clean(text: str) -> str:
    """Normalised, tone placement folded (word by word, cached), ``kp3`` read as ``kp 3``."""
    text = normalise(text)
    if not text.isascii():
        text = _LETTERS.sub(lambda m: _fold_word(m.group()), unicodedata.normalize("NFC", text))
    return _GLUED.sub(r"\1 ", text)


# -------------------------------------------------------------------------------------------
# Words

#: POS tags of function words in the VLSP 2013 tag set: prepositions (E), conjunctions (C,
#: Cc), adverbs (R), pronouns (P), determiners (L), numerals (M), particles (T), interjections
#: (I), punctuation (CH).
FUNCTION_TAGS = frozenset({"E", "C", "Cc", "R", "P", "L", "M", "T", "I", "CH"})
#: A word is a function word when at least this share of its tags are function tags.
FUNCTION_SHARE = 0.6
STOPWORDS_FILE = "datasets/stopwords/stopwords.txt"
#: Words of the petition itself rather than of its problem: every petition asks, reports and
#: addresses someone, whatever it is about.
FORMULAE = frozenset(
    {
        "đề nghị",
        "kiến nghị",
        "kính",
        "xin",
        "hỏi",
        "mong",
        "phản ánh",
        "giải quyết",
        "xử lý",
        "xem xét",
        "trả lời",
        "tình trạng",
        "vấn đề",
        "bà con",
        "người dân",
        "nhân dân",
        "cư dân",
        "chúng tôi",
        "lãnh đạo",
        "chính quyền",
        "cơ quan",
        "chức năng",
        "phường",
        "hiện nay",
        "vì sao",
        "tại sao",
        "sớm",
        "hơn",
        "nhiều",
        "quá",
        "nay",
    }
)


#: Longest word, in syllables.
MAX_WORD = 4
#: Occurrences given to each petition formula in the word counts (they are words, so kept
#: whole, then dropped as formulae).
FORMULA_COUNT = 5


class Lexicon(NamedTuple):
    """What words are read with, all keyed by their form without diacritics (``match_key``)."""

    #: log P(word) of the words (one syllable or several) of the tagged text and the formulae.
    log_p: dict[tuple[str, ...], float]
    #: log P of a syllable the tagged text never has.
    unknown: float
    #: Stopwords, function words and formulae as written (lower case, tone placement folded),
    #: and without diacritics: those all of whose accented forms are (``den`` is not: ``đến``
    #: is a function word, ``đèn`` is not).
    function: frozenset[str]
    bare_function: frozenset[str]


@built_once
def lexicon() -> Lexicon:
    """Words and function words from the VLSP 2013 tagged text shipped with underthesea (its
    word segmentation of news text: how often each word occurs and with which tags), its
    stopword list and the petition formulae, without diacritics."""
    root = underthesea_root()
    counts: Counter[tuple[str, ...]] = Counter()
    tags: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for line in (root / TAGGED_TEXT).read_text("utf-8").splitlines():
        columns = line.split("\t")
        if len(columns) < 2 or not columns[0].strip():
            continue
        word = fold_tone_placement(columns[0].strip().replace("_", " ").lower())
        tag = columns[1].removeprefix("B-").removeprefix("I-")
        key = match_key(word)
        tags[word][tag] += 1
        syllables = tuple(key.split())
        if len(syllables) <= MAX_WORD and all(map(str.isalpha, syllables)):
            counts[syllables] += 1
    for formula in FORMULAE:
        counts[tuple(match_key(formula).split())] += FORMULA_COUNT
    extra = [
        line.strip().lower()
        for line in (root / STOPWORDS_FILE).read_text("utf-8").splitlines()
        if line.strip()
    ]
    extra += FORMULAE
    function = _mostly_function(tags) | {fold_tone_placement(word) for word in extra}
    variants: defaultdict[str, set[str]] = defaultdict(set)
    for word in tags:
        variants[match_key(word)].add(word)
    for word in extra:
        variants[match_key(word)].add(fold_tone_placement(word))
    bare = {key for key, words in variants.items() if words <= function}
    total = sum(counts.values())
    return Lexicon(
        {word: math.log(n / total) for word, n in counts.items()},
        math.log(0.5 / total),
        frozenset(function),
        frozenset(bare),
    )


def _mostly_function(tags: Mapping[str, Counter[str]]) -> set[str]:
    return {
        word
        for word, found in tags.items()
        if sum(n for tag, n in found.items() if tag in FUNCTION_TAGS)
        >= FUNCTION_SHARE * sum(found.values())
    }


@lru_cache(maxsize=1 << 16)
def _split(keys: tuple[str, ...]) -> tuple[int, ...]:
    """The most likely split of a run of syllables into words (unigram model): the lengths of
    the words, in order (runs recur: cached)."""
    log_p, unknown, _, _ = lexicon()
    best = [0.0] + [-math.inf] * len(keys)
    length = [0] * (len(keys) + 1)
    for end in range(1, len(keys) + 1):
        for size in range(1, min(MAX_WORD, end) + 1):
            score = log_p.get(tuple(keys[end - size : end]))
            if score is None:
                if size > 1:
                    continue
                score = unknown
            score += best[end - size]
            if score > best[end]:
                best[end], length[end] = score, size
    sizes: list[int] = []
    end = len(keys)
    while end:
        sizes.append(length[end])
        end -= length[end]
    return tuple(reversed(sizes))


_RUN = re.compile(r"[^\W\d_]+(?:[^\S\n]+[^\W\d_]+)*")


def typed_without_diacritics(text: str) -> bool:
    """Whether most words of a text lack the marks Vietnamese would have (a cheap check)."""
    words = _LETTERS.findall(text)
    marked = sum(not word.isascii() for word in words)
    return bool(words) and marked < MARKED_SHARE * len(words)


def segment(text: str) -> list[str]:
    """The words of a text, in lower case as written: each run of syllables (between
    punctuation and numbers) split into the words of the tagged text most likely to make it,
    read without diacritics, so that a text and the same text typed without them are split
    alike."""
    return _segment(_clean(text))


def _segment(clean: str) -> list[str]:
    words: list[str] = []
    for run in _RUN.finditer(clean.lower()):
        syllables = run.group().split()
        at = 0
        for size in _split(tuple(map(match_key, syllables))):
            words.append(" ".join(syllables[at : at + size]))
            at += size
    return words


def content_words(words: Iterable[str], bare: bool = False) -> list[str]:
    """The words that carry content: no stopword, function word, formula, number or
    punctuation. ``bare``: the text was typed without diacritics, and a word without them is
    compared without them (``Lexicon``)."""
    lex = lexicon()
    return [
        word
        for word in words
        if _LETTERS.search(word)
        and (
            match_key(word) not in lex.bare_function
            if bare and word.isascii()
            else _fold_word(word) not in lex.function
        )
    ]


#: What is read from a problem text: its content words, and whether it was typed without
#: diacritics (its words then carry none).
Reading = tuple[tuple[str, ...], bool]


def _read(problem: str) -> Reading:
    bare = typed_without_diacritics(problem)
    return tuple(content_words(_segment(problem), bare)), bare


def _read_all(problems: Sequence[str]) -> list[Reading]:
    return [_read(problem) for problem in problems]


# -------------------------------------------------------------------------------------------
# Places

#: Words that introduce the name (or number) of a place, in lower case; read as written in a
#: text with diacritics, and without diacritics in a text typed without them.
PLACE_WORDS = (
    "tổ dân phố",
    "khu dân cư",
    "khu phố",
    "công viên",
    "chung cư",
    "ngã tư",
    "ngã ba",
    "ngã năm",
    "ngã sáu",
    "ngã bảy",
    "vòng xoay",
    "bến xe",
    "bệnh viện",
    "nhà văn hoá",
    "đường",
    "phố",
    "hẻm",
    "ngõ",
    "ngách",
    "kiệt",
    "chợ",
    "cầu",
    "kênh",
    "rạch",
    "trường",
    "ấp",
    "kp",
)
#: Place words that may be followed by a number alone (hẻm 42, khu phố 3, công viên 23/9).
NUMBERED_PLACES = frozenset(
    {
        "tổ dân phố",
        "khu dân cư",
        "khu phố",
        "công viên",
        "chung cư",
        "đường",
        "hẻm",
        "ngõ",
        "ngách",
        "kiệt",
        "ấp",
        "kp",
    }
)
#: Short forms of place words, written before a number (kp3, KP.3).
ABBREVIATIONS = {"kp": "khu phố"}
#: Administrative units: their names are not where a problem is (an index usually holds one
#: unit's petitions); read so that they are not taken for places.
UNIT_WORDS = ("thành phố", "tp", "phường", "xã", "quận", "huyện", "tỉnh", "thị trấn")
#: Words that may stand between a place word and its name (trường Tiểu học Nguyễn Bỉnh Khiêm).
QUALIFIERS = (
    "trung học cơ sở",
    "trung học phổ thông",
    "tiểu học",
    "thcs",
    "thpt",
    "mầm non",
    "mẫu giáo",
    "đi bộ",
    "số",
)
#: Longest name, in syllables.
MAX_NAME = 5
#: A name read without a place word before it, or in lower case, must be known from the
#: collection and have at least this many syllables.
MIN_KNOWN_NAME = 2
#: A name of one syllable read in lower case must have been read this often after place words.
MIN_SHORT_NAME_COUNT = 3
#: Names shorter than this (letters, spaces aside) are not corrected to a near neighbour.
MIN_FUZZY_NAME = 6

_TOKEN = re.compile(r"\d+(?:/\d+)*[^\W\d_]?|[^\W\d_]+|[^\w\s]")


class _Token(NamedTuple):
    text: str
    lower: str
    key: str
    start: int
    end: int

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()

    @property
    def number(self) -> bool:
        return self.text[:1].isdigit()

    @property
    def word(self) -> bool:
        return self.text[:1].isalpha()


@lru_cache(maxsize=1 << 18)
def _forms(token: str) -> tuple[str, str]:
    return token.lower(), match_key(token)


def _tokens(text: str) -> list[_Token]:
    make = tuple.__new__  # _Token(...) without its Python-level __new__: built per token
    forms = _forms
    return [
        make(_Token, (token := match.group(), *forms(token), *match.span()))
        for match in _TOKEN.finditer(text)
    ]


class _Phrases:
    """Phrases (place words, units, qualifiers) by their first word, longest first: as written
    (lower case) for accented text, and without diacritics for bare text."""

    def __init__(self, phrases: Iterable[str]) -> None:
        folded = sorted((fold_tone_placement(p).split() for p in phrases), key=len, reverse=True)
        self.accented: defaultdict[str, list[tuple[str, ...]]] = defaultdict(list)
        self.bare: defaultdict[str, list[tuple[str, ...]]] = defaultdict(list)
        for words in folded:
            self.accented[words[0]].append(tuple(words))
            self.bare[match_key(words[0])].append(tuple(match_key(w) for w in words))

    def match(self, tokens: Sequence[_Token], at: int, bare: bool) -> int:
        """Length of the longest phrase at ``at`` (0 when none)."""
        first = tokens[at].key if bare else tokens[at].lower
        for phrase in (self.bare if bare else self.accented).get(first, ()):
            end = at + len(phrase)
            if end <= len(tokens) and all(
                (tok.key if bare else tok.lower) == word
                for tok, word in zip(tokens[at + 1 : end], phrase[1:], strict=True)
            ):
                return len(phrase)
        return 0


_PLACE_PHRASES = _Phrases(PLACE_WORDS)
_UNIT_PHRASES = _Phrases(UNIT_WORDS)
_QUALIFIER_PHRASES = _Phrases(QUALIFIERS)
_NUMBERED = frozenset(match_key(word) for word in NUMBERED_PLACES)
#: First words of the units and place words, as written and without diacritics.
_ACCENTED_FIRSTS = frozenset(_UNIT_PHRASES.accented) | frozenset(_PLACE_PHRASES.accented)
_BARE_FIRSTS = frozenset(_UNIT_PHRASES.bare) | frozenset(_PLACE_PHRASES.bare)


@dataclass(frozen=True, slots=True)
class Place:
    """A place a petition names: its key (canonical, lower case, no diacritics), how it was
    written, and where (offsets in the cleaned text, place word included)."""

    key: str
    written: str
    start: int
    end: int


def _deletions(key: str) -> set[str]:
    return {key} | {key[:i] + key[i + 1 :] for i in range(len(key))}


class Gazetteer:
    """The place names of a collection (key -> how it was written -> how often): the canonical
    key of each (a key one letter away from a more frequent one is that one: typos), the names
    read anywhere in a text, and how each is best written."""

    def __init__(self, names: Mapping[str, Mapping[str, int]]) -> None:
        self.forms = {key: dict(forms) for key, forms in names.items()}
        self.counts = {key: sum(forms.values()) for key, forms in self.forms.items()}
        self._variants: defaultdict[str, set[str]] = defaultdict(set)
        for key in self.counts:
            if self._fuzzy(key):
                for variant in _deletions(key):
                    self._variants[variant].add(key)
        self._canonical = {key: self._nearest(key) or key for key in self.counts}
        for key in self.counts:  # "Đường Tân Kỳ Tân Quý" read as a name is Tân Kỳ Tân Quý
            rest = _after_place_word(key)
            if rest in self.counts:
                self._canonical[key] = self._canonical[rest]
        named = [
            k for k, c in self._canonical.items() if k == c and not any(d.isdigit() for d in k)
        ]
        #: Names read anywhere in a text.
        self.names = frozenset(k for k in named if len(k.split()) >= MIN_KNOWN_NAME)
        #: Names of one syllable, read in lower case after a place word (đường pasteur).
        self.short_names = frozenset(
            k for k in named if " " not in k and self.counts[k] >= MIN_SHORT_NAME_COUNT
        )
        lengths: defaultdict[str, set[int]] = defaultdict(set)
        for name in self.names | self.short_names:
            words = name.split()
            lengths[words[0]].add(len(words))
        #: First syllable of a known name -> the lengths of such names, longest first.
        self.lengths = {first: sorted(n, reverse=True) for first, n in lengths.items()}

    @staticmethod
    def _fuzzy(key: str) -> bool:
        return len(key.replace(" ", "")) >= MIN_FUZZY_NAME and not any(c.isdigit() for c in key)

    def _nearest(self, key: str) -> str | None:
        if not self._fuzzy(key):
            return None
        near: set[str] = set()
        for variant in _deletions(key):
            near |= self._variants.get(variant, set())
        if not near:
            return None
        return max(near, key=lambda k: (self.counts.get(k, 0), k == key, k))

    def written(self, key: str) -> str | None:
        """How a place is best written: with diacritics and capitals when some petition wrote
        it so, else as written most often."""
        forms = self.forms.get(key)
        if not forms:
            return None
        return max(forms, key=lambda f: (not f.isascii(), f[:1].isupper(), forms[f], f))

    def canonical(self, key: str) -> str:
        """The key a name is known by in the collection (itself when unknown)."""
        found = self._canonical.get(key)
        if found is not None:
            return found
        nearest = self._nearest(key)
        return self._canonical.get(nearest, nearest) if nearest else key


def _after_place_word(key: str) -> str | None:
    """The rest of a key that begins with a place word (``duong le loi`` -> ``le loi``)."""
    words = tuple(key.split())
    for phrase in _PLACE_PHRASES.bare.get(words[0], ()) if words else ():
        if len(words) > len(phrase) and words[: len(phrase)] == phrase:
            return " ".join(words[len(phrase) :])
    return None


_NO_PLACES = Gazetteer({})


def _known_at(
    tokens: Sequence[_Token], at: int, gazetteer: Gazetteer, shortest: int = MIN_KNOWN_NAME
) -> tuple[int, str]:
    """Length and key of the longest known name at ``at`` (0 when none); names of one
    syllable (``shortest`` 1) only when read often enough after place words."""
    lengths = gazetteer.lengths.get(tokens[at].key)
    if lengths is None:
        return 0, ""
    for length in lengths:
        if shortest <= length <= len(tokens) - at:
            words = tokens[at : at + length]
            if all(tok.word for tok in words):
                key = " ".join(tok.key for tok in words)
                if key in gazetteer.names or (length == 1 and key in gazetteer.short_names):
                    return length, gazetteer.canonical(key)
    return 0, ""


def _place(tokens: Sequence[_Token], key: str, start: int) -> Place:
    return Place(sys.intern(key), " ".join(t.text for t in tokens), start, tokens[-1].end)


def _in_sentence(tokens: Sequence[_Token], at: int) -> bool:
    """Whether the token at ``at`` follows a word or a number (not a sentence start, not a
    comma: some capitalise after one)."""
    return at > 0 and tokens[at - 1].text[:1].isalnum()


def _name_end(tokens: Sequence[_Token], at: int, bare: bool) -> int:
    """End of the run of capitalised words from ``at`` (a unit word ends it)."""
    end = at
    while (
        end < len(tokens)
        and end - at < MAX_NAME
        and tokens[end].word
        and tokens[end].capitalised
        and not _UNIT_PHRASES.match(tokens, end, bare)
    ):
        end += 1
    return end


def _find_places(clean: str, gazetteer: Gazetteer) -> list[Place]:
    tokens = _tokens(clean)
    bare = typed_without_diacritics(clean)
    places: list[Place] = []
    firsts = _BARE_FIRSTS if bare else _ACCENTED_FIRSTS
    lengths = gazetteer.lengths
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if (token.key if bare else token.lower) not in firsts and token.key not in lengths:
            i += 1  # begins no unit, place word or known name (most words): nothing to read
            continue
        if unit := _UNIT_PHRASES.match(tokens, i, bare):
            i += unit
            while i < len(tokens) and (tokens[i].capitalised or tokens[i].number):
                i += 1
            continue
        if gazetteer.lengths:  # a known name first: Trường Chinh, ngo gia tu are streets
            size, key = _known_at(tokens, i, gazetteer)
            if size:
                places.append(_place(tokens[i : i + size], key, tokens[i].start))
                i += size
                continue
        length = _PLACE_PHRASES.match(tokens, i, bare)
        if length and tokens[i].capitalised and _in_sentence(tokens, i):
            # a capitalised place word inside a sentence begins a name (ở Trường Chinh)
            end = _name_end(tokens, i, bare)
            if end > i + length:
                key = gazetteer.canonical(" ".join(tok.key for tok in tokens[i:end]))
                places.append(_place(tokens[i:end], key, tokens[i].start))
                i = end
                continue
        if not length:
            i += 1
            continue
        start = tokens[i].start
        trigger = " ".join(tok.key for tok in tokens[i : i + length])
        trigger = match_key(ABBREVIATIONS.get(trigger, trigger))
        i += length
        if i < len(tokens):
            i += _QUALIFIER_PHRASES.match(tokens, i, bare)
        number = ""
        if i < len(tokens) and tokens[i].number:
            number, i = tokens[i].key, i + 1
            # hẻm 12 đường Lê Lai: the alley is named by its street (not hẻm 135 Trường Chinh)
            if i < len(tokens) and not _known_at(tokens, i, gazetteer)[0]:
                word = _PLACE_PHRASES.match(tokens, i, bare)
                if word and not (tokens[i].capitalised and _name_end(tokens, i, bare) > i + 1):
                    i += word
        end = _name_end(tokens, i, bare)
        if end > i:
            key = gazetteer.canonical(" ".join(tok.key for tok in tokens[i:end]))
            places.append(_place(tokens[i:end], key, start))
            i = end
            continue
        size, key = _known_at(tokens, i, gazetteer, shortest=1) if i < len(tokens) else (0, "")
        if size:
            places.append(_place(tokens[i : i + size], key, start))
            i += size
        elif number and trigger in _NUMBERED:
            end = tokens[i - 1].end
            places.append(Place(sys.intern(f"{trigger} {number}"), clean[start:end], start, end))
    if any(not _numbered(place.key) for place in places):
        # a number (hẻm 42) next to a name is part of that place: alone it would link streets
        places = [place for place in places if not _numbered(place.key)]
    return places


def _numbered(key: str) -> bool:
    return any(char.isdigit() for char in key)


def find_places(text: str, gazetteer: Gazetteer | None = None) -> list[Place]:
    """The places a text names; offsets refer to the cleaned text (normalised, tone placement
    folded)."""
    return _find_places(_clean(text), gazetteer or _NO_PLACES)


def place_names(texts: Iterable[str]) -> dict[str, Counter[str]]:
    """The place names read after place words in ``texts``: key -> how it was written -> how
    often (what a ``Gazetteer`` is built from)."""
    return _place_names(_clean(text) for text in texts)


def _place_names(cleaned: Iterable[str]) -> dict[str, Counter[str]]:
    names: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for clean in cleaned:
        for place in _find_places(clean, _NO_PLACES):
            names[place.key][place.written] += 1
    return dict(names)


# -------------------------------------------------------------------------------------------
# Analysis


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the similarity of a petition is computed from."""

    #: Content words of the problem (places left out), lower case, as written.
    words: tuple[str, ...]
    #: Whether the text was typed without diacritics (its words then carry none).
    bare: bool
    #: The places named.
    places: tuple[Place, ...]


def _problem(clean: str, places: Sequence[Place]) -> str:
    """The text with the places cut out (a comma in their stead)."""
    pieces: list[str] = []
    last = 0
    for place in sorted(places, key=lambda p: p.start):
        if place.start >= last:
            pieces += [clean[last : place.start], " , "]
            last = place.end
    pieces.append(clean[last:])
    return "".join(pieces)


def problem_and_places(text: str, gazetteer: Gazetteer | None = None) -> tuple[str, list[Place]]:
    """A text (normalised, tone placement folded) with its places cut out, and the places."""
    clean = _clean(text)
    places = _find_places(clean, gazetteer or _NO_PLACES)
    return _problem(clean, places), places


def analyse(text: str, gazetteer: Gazetteer | None = None) -> Analysis:
    """Read a petition as its places and the content words of its problem (module docstring);
    ``gazetteer`` holds the place names of the collection."""
    clean = _clean(text)
    places = _find_places(clean, gazetteer or _NO_PLACES)
    words, bare = _read(_problem(clean, places))
    return Analysis(words, bare, tuple(places))


def word_features(words: Iterable[str]) -> Counter[str]:
    """Word features: ``w:`` and each word without diacritics, ``s:`` and each syllable of a
    compound word."""
    features: Counter[str] = Counter()
    for word in words:
        key = match_key(word)
        features["w:" + key] += 1
        if " " in key:
            features.update("s:" + syllable for syllable in key.split())
    return features


def ngram_features(words: Iterable[str]) -> Counter[str]:
    """Character n-grams of the syllables of words without diacritics, each syllable padded
    with a space."""
    features: Counter[str] = Counter()
    for word in words:
        for syllable in _NON_ALNUM.split(match_key(word)):
            if syllable:
                features.update(_syllable_ngrams(syllable))
    return features


@lru_cache(maxsize=1 << 18)
def _parts(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A word's word features and n-grams, in the order ``word_features`` and
    ``ngram_features`` count them."""
    key = match_key(word)
    syllables = key.split() if " " in key else []
    return ("w:" + key, *("s:" + syllable for syllable in syllables)), tuple(
        gram
        for syllable in _NON_ALNUM.split(match_key(word))
        if syllable
        for gram in _syllable_ngrams(syllable)
    )


@lru_cache(maxsize=1 << 16)
def _syllable_ngrams(syllable: str) -> tuple[str, ...]:
    padded = f" {syllable} "
    return tuple(padded[i : i + n] for n in NGRAM_SIZES for i in range(len(padded) - n + 1))


#: 1 + ln(n), the sublinear weight of a count, for the small counts (most of them).
_TF = [0.0] + [1.0 + math.log(n) for n in range(1, 64)]


def _tf(n: int) -> float:
    return _TF[n] if n < 64 else 1.0 + math.log(n)


def _heaviest_first(item: tuple[int | None, float]) -> tuple[float, int]:
    return -item[1], -1 if item[0] is None else item[0]


def _same_place(score: float) -> float:
    """The score of two petitions (or groups) that name the same place (``PLACE_BOOST``)."""
    return 1.0 - max(0.0, 1.0 - score) ** (1.0 + PLACE_BOOST)


# -------------------------------------------------------------------------------------------
# The index


class PetitionIndex(Generic[Id]):
    """Petitions ready to be compared, vectors built once over the whole collection.

    ``workers`` > 1 segments in that many processes (segmentation is most of the build time;
    each process loads underthesea and the syllable inventory first, a few seconds).
    ``cache`` maps a problem text to its segmentation (content words, restored): pass a
    persistent mapping (a ``shelve``, a table) to segment each petition once across rebuilds;
    identical texts are segmented once in any case.
    """

    def __init__(
        self,
        petitions: Iterable[tuple[Id, str]],
        *,
        workers: int = 1,
        cache: MutableMapping[str, Reading] | None = None,
    ) -> None:
        ids: list[Id] = []
        cleaned: list[str] = []
        for pid, text in petitions:
            ids.append(pid)
            cleaned.append(_clean(text))
        self._ids = ids
        self._size = len(ids)
        self._positions: dict[Id, int] | None = None
        self.gazetteer = Gazetteer(_place_names(cleaned))
        places = [_find_places(clean, self.gazetteer) for clean in cleaned]
        problems = [_problem(c, p) for c, p in zip(cleaned, places, strict=True)]
        del cleaned
        readings = _read_many(problems, workers, {} if cache is None else cache)
        del problems
        self._places: list[frozenset[str]] = [frozenset(p.key for p in ps) for ps in places]
        del places

        # Features as ids and counts (a Counter per petition would weigh gigabytes at 100,000).
        vocabulary: dict[str, int] = {}
        self._vocabulary = vocabulary
        counted: list[tuple[array[int], array[int]]] = []
        self._accented: dict[str, str] = {}
        intern = vocabulary.setdefault
        for words, bare in readings:
            if not bare:
                for word in words:
                    if not word.isascii():
                        self._accented.setdefault(match_key(word), word)
            features: Counter[str] = Counter()
            grams: Counter[str] = Counter()
            for word in words:  # as word_features and ngram_features, a word's parts cached
                word_parts, gram_parts = _parts(word)
                features.update(word_parts)
                grams.update(gram_parts)
            fids = array("i", [intern(f, len(vocabulary)) for f in features])
            fids.extend([intern(f, len(vocabulary)) for f in grams])
            counts = array("i", features.values())
            counts.extend(grams.values())
            counted.append((fids, counts))
        del readings
        #: Per feature id: 1 for a syllable of a compound; 1 for a character n-gram.
        self._syllables = bytearray(key.startswith("s:") for key in vocabulary)
        self._grams = bytearray(not key.startswith(("w:", "s:")) for key in vocabulary)
        everything = np.frombuffer(b"".join(fids.tobytes() for fids, _ in counted), np.intc)
        df = array("i", np.bincount(everything, minlength=len(vocabulary)).astype(np.intc))
        del everything
        self._df = df
        unseen = math.log(self._size + 1) + 1.0
        self._unseen_idf = unseen
        self._idfs = array("d", (unseen - math.log(n + 1) for n in df))
        self._vectors: list[Vector] = []
        self._words: list[array[int]] = []
        grams_of = self._grams
        for fids, counts in counted:
            pairs = list(zip(fids, counts, strict=True))
            vector = self._weigh(
                [(f, n) for f, n in pairs if not grams_of[f]],
                [(f, n) for f, n in pairs if grams_of[f]],
            )
            self._vectors.append((array("i", vector.keys()), array("f", vector.values())))
            self._words.append(array("i", (fid for fid in fids if not self._grams[fid])))
        del counted

        self._blocks: defaultdict[str, array[int]] = defaultdict(lambda: array("i"))
        for doc, keys in enumerate(self._places):
            for key in keys:
                self._blocks[key].append(doc)
        self._placeless = array("i", (d for d, keys in enumerate(self._places) if not keys))
        self._postings = _postings(range(self._size), self._words)
        self._placeless_postings = _postings(self._placeless, self._words)
        self._pack()

    # -- vectors ----------------------------------------------------------------------------

    def _idf(self, feature: int | None) -> float:
        """ln((N + 1) / (df + 1)) + 1; a feature unknown to the collection has df 0."""
        return self._unseen_idf if feature is None else self._idfs[feature]

    def _intern(self, feature: str, gram: int) -> int:
        fid = self._vocabulary.get(feature)
        if fid is None:
            fid = self._vocabulary[feature] = len(self._vocabulary)
            self._syllables.append(feature.startswith("s:"))
            self._grams.append(gram)
        return fid

    def _weigh(
        self,
        words: Iterable[tuple[int | None, int]],
        grams: Iterable[tuple[int | None, int]],
    ) -> dict[int, float]:
        """The unit vector of a petition (feature id -> weight) from the counts of its word
        features and its n-grams, weighted and normalised apart. A feature unknown to the
        collection (id None: a query's) counts in the norm and is then dropped."""
        idfs, unseen, syllables = self._idfs, self._unseen_idf, self._syllables
        word_weights = [
            (
                fid,
                _tf(n)
                * (unseen if fid is None else idfs[fid])
                * (SYLLABLE_WEIGHT if fid is not None and syllables[fid] else 1.0),
            )
            for fid, n in words
        ]
        gram_weights = [
            (fid, _tf(n) * (unseen if fid is None else idfs[fid])) for fid, n in grams
        ]
        if len(gram_weights) > NGRAMS_KEPT:
            gram_weights.sort(key=_heaviest_first)
            del gram_weights[NGRAMS_KEPT:]
        vector: dict[int, float] = {}
        for part, share in ((word_weights, WORD_WEIGHT), (gram_weights, 1.0 - WORD_WEIGHT)):
            weights = [weight for _, weight in part]
            norm = math.sqrt(sum(map(mul, weights, weights)))
            if norm:
                scale = math.sqrt(share) / norm
                for fid, weight in part:
                    if fid is not None:
                        vector[fid] = weight * scale
        return vector

    def _syllable_weight(self, fid: int | None) -> float:
        return SYLLABLE_WEIGHT if fid is not None and self._syllables[fid] else 1.0

    # -- a petition added -------------------------------------------------------------------

    def add(self, pid: Id, text: str) -> int:
        """Add one petition without rebuilding (its position is returned): read with the
        collection's place names, weighted with the collection's word frequencies as built
        (those of the words it brings anew are counted from it), and indexed for ``similar``
        and ``nearest_groups``. A rebuild (a full regrouping) weighs everything afresh."""
        clean = _clean(text)
        places = _find_places(clean, self.gazetteer)
        words, bare = _read(_problem(clean, places))
        if not bare:
            for word in words:
                if not word.isascii():
                    self._accented.setdefault(match_key(word), word)
        features = word_features(words)
        grams = ngram_features(words)
        word_pairs = [(self._intern(f, 0), n) for f, n in features.items()]
        gram_pairs = [(self._intern(f, 1), n) for f, n in grams.items()]
        unseen = self._unseen_idf
        while len(self._df) < len(self._vocabulary):  # its new features: weighed as unseen
            self._df.append(0)
            self._idfs.append(unseen)
        for fid, _ in word_pairs + gram_pairs:
            self._df[fid] += 1
        vector = self._weigh(word_pairs, gram_pairs)
        doc = self._size
        self._ids.append(pid)
        if self._positions is not None:
            self._positions[pid] = doc
        self._size += 1
        self._vectors.append((array("i", vector.keys()), array("f", vector.values())))
        word_ids = array("i", (fid for fid, _ in word_pairs))
        self._words.append(word_ids)
        keys = frozenset(place.key for place in places)
        self._places.append(keys)
        for key in keys:
            self._blocks[key].append(doc)
        if not keys:
            self._placeless.append(doc)
        for fid in word_ids:
            self._postings.setdefault(fid, array("i")).append(doc)
            if not keys:
                self._placeless_postings.setdefault(fid, array("i")).append(doc)
        return doc

    def position(self, pid: Id) -> int | None:
        """Where a petition is in the index (None when it is not there)."""
        if self._positions is None or len(self._positions) != self._size:
            self._positions = {pid: doc for doc, pid in enumerate(self._ids)}
        return self._positions.get(pid)

    def nearest_groups(
        self,
        pid: Id,
        members_of: Callable[[Id], Collection[Id]],
        *,
        threshold: float = THRESHOLD,
    ) -> list[tuple[list[Id], float]]:
        """The groups a petition of the index may join, best first: those of its neighbours
        (the petitions ``similar`` would score, each scoring ``threshold`` or more with it),
        each group as ``members_of`` a neighbour gives it (the neighbour alone when in none),
        kept when the mean score over all pairs between the petition and the group is
        ``threshold`` or more (average link, as ``groups`` decides a merge, places included)."""
        doc = self.position(pid)
        if doc is None:
            raise KeyError(pid)
        ids, weights = self._vectors[doc]
        query = dict(zip(ids, weights, strict=True))
        named = self._places[doc]
        neighbours = self._neighbours(doc, query, named)
        seen: set[int] = set()
        found: list[tuple[list[Id], float]] = []
        for other, score in sorted(neighbours.items(), key=lambda item: (-item[1], item[0])):
            if score < threshold or other in seen:
                continue
            positions = [
                at
                for member in members_of(self._ids[other])
                if (at := self.position(member)) is not None and at != doc
            ] or [other]
            seen.update(positions)
            places: frozenset[str] = frozenset().union(*(self._places[at] for at in positions))
            if named and places and not named & places:
                continue
            mean = sum(self._scores(query, positions)) / len(positions)
            if named & places:
                mean = _same_place(mean)
            if mean >= threshold:
                found.append(([self._ids[at] for at in sorted(positions)], mean))
        found.sort(key=lambda item: -item[1])
        return found

    def _neighbours(
        self, doc: int, query: Mapping[int, float], named: frozenset[str]
    ) -> dict[int, float]:
        """The petitions ``similar`` would score for petition ``doc`` (itself left out), with
        their scores (raised for a shared place)."""
        word_ids = self._words[doc]
        budget = QUERY_POSTINGS_BUDGET
        scores: dict[int, float] = {}
        for key in named:
            others = [d for d in self._of_place(key, word_ids, budget) if d != doc]
            for other, score in zip(others, self._scores(query, others), strict=True):
                scores.setdefault(other, _same_place(score))
        postings = self._placeless_postings if named else self._postings
        others = self._candidates(word_ids, postings, budget, _other_than(doc))
        others = [other for other in others if other not in scores]
        for other, score in zip(others, self._scores(query, others), strict=True):
            scores[other] = _same_place(score) if named & self._places[other] else score
        return scores

    # -- the collection ---------------------------------------------------------------------

    def __len__(self) -> int:
        return self._size

    @property
    def ids(self) -> list[Id]:
        """The ids, in the order given."""
        return list(self._ids)

    def document_frequency(self, feature: str) -> int:
        """In how many petitions a feature occurs (``w:`` and a word without diacritics)."""
        fid = self._vocabulary.get(feature)
        return self._df[fid] if fid is not None else 0

    def syllable_frequency(self, syllables: Iterable[str]) -> int:
        """In how many petitions all these syllables (without diacritics) occur, each as a word
        or in one: how often a compound the collection does not read as a word occurs."""
        found: set[int] | None = None
        for syllable in syllables:
            docs: set[int] = set()
            for feature in ("w:" + syllable, "s:" + syllable):
                fid = self._vocabulary.get(feature)
                if fid is not None:
                    docs.update(self._postings.get(fid, ()))
            found = docs if found is None else found & docs
            if not found:
                return 0
        return len(found) if found else 0

    def accented(self, key: str) -> str | None:
        """How the collection writes a word (its key: without diacritics) with diacritics,
        when some petition did."""
        return self._accented.get(key)

    def place_frequency(self, key: str) -> int:
        """How many petitions name a place (its canonical key)."""
        block = self._blocks.get(key)
        return len(block) if block is not None else 0

    # -- candidates and scores --------------------------------------------------------------

    def _pack(self) -> None:
        """The vectors as one compressed sparse row matrix (numpy arrays), scored many at a
        time; petitions added later are scored one by one until the next build."""
        lengths = np.fromiter((len(ids) for ids, _ in self._vectors), np.int64, self._size)
        self._indptr = np.zeros(self._size + 1, np.int64)
        np.cumsum(lengths, out=self._indptr[1:])
        self._indices = np.frombuffer(
            b"".join(ids.tobytes() for ids, _ in self._vectors), dtype=np.intc
        )
        self._data = np.frombuffer(
            b"".join(weights.tobytes() for _, weights in self._vectors), dtype=np.float32
        ).astype(np.float64)
        self._packed = self._size
        self._dense = np.zeros(len(self._vocabulary), np.float64)
        self._queries = np.zeros((0, 0), np.float64)

    def _candidates(
        self,
        words: Collection[int],
        postings: Mapping[int, array[int]],
        budget: int,
        keep: Mask | None = None,
        limit: int | None = None,
    ) -> list[int]:
        """The petitions that share the most words with a petition, reading the rarest words
        first within ``budget`` postings (ties: the one met first); ``keep`` filters (a mask
        over an array of petitions)."""
        limit = CANDIDATES if limit is None else limit
        chosen: list[array[int]] = []
        read = 0
        for length, feature in sorted((len(postings[f]), f) for f in words if f in postings):
            if read + length > budget and read:
                break
            read += length
            chosen.append(postings[feature])
        if not chosen:
            return []
        met = np.concatenate([np.frombuffer(found, dtype=np.intc) for found in chosen])
        docs, first, counts = np.unique(met, return_index=True, return_counts=True)
        if keep is not None:
            kept = keep(docs)
            docs, first, counts = docs[kept], first[kept], counts[kept]
        order = np.lexsort((first, -counts))[:limit]
        return docs[order].tolist()  # type: ignore[no-any-return]

    def _score(self, query: Mapping[int, float], doc: int) -> float:
        ids, weights = self._vectors[doc]
        return float(sum(map(mul, map(query.get, ids, repeat(0.0)), weights)))

    def _scores(self, query: Mapping[int, float], docs: Sequence[int]) -> list[float]:
        """``_score`` of many petitions at once (the same sums, in the same order)."""
        if not docs:
            return []
        rows = np.asarray(docs, dtype=np.int64)
        if rows.max() >= self._packed:  # added since the build: scored one by one
            packed = rows < self._packed
            found = dict(
                zip(
                    rows[packed].tolist(),
                    self._scores(query, rows[packed].tolist()),
                    strict=True,
                )
            )
            return [
                found[doc] if doc in found else self._score(query, doc) for doc in rows.tolist()
            ]
        if len(self._dense) < len(self._vocabulary):
            self._dense = np.zeros(len(self._vocabulary), np.float64)
        dense = self._dense
        ids = np.fromiter(query.keys(), np.int64, len(query))
        dense[ids] = np.fromiter(query.values(), np.float64, len(query))
        starts = self._indptr[rows]
        lengths = self._indptr[rows + 1] - starts
        at = _ranges(starts, lengths)
        products = self._data[at] * dense[self._indices[at]]
        dense[ids] = 0.0
        owners = np.repeat(np.arange(len(rows)), lengths)
        return np.bincount(owners, weights=products, minlength=len(rows)).tolist()  # type: ignore[no-any-return]

    def similar(
        self, text: str, *, limit: int = 5, threshold: float = SIMILAR_THRESHOLD
    ) -> list[tuple[Id, float]]:
        """Earlier petitions on the same issue as ``text``, best first: at most ``limit``,
        scoring ``threshold`` or more (scores from 0 to 1).

        Scored: the petitions that name a place ``text`` names (all of them up to
        ``BLOCK_SCAN``, else the candidates sharing most words), and the candidates sharing most
        words among those that name no place (among all petitions when ``text`` names no
        place). Petitions naming only other places are not the same issue.
        """
        analysis = analyse(text, self.gazetteer)
        words = word_features(analysis.words)
        grams = ngram_features(analysis.words)
        vocabulary = self._vocabulary
        query = self._weigh(
            [(vocabulary.get(f), n) for f, n in words.items()],
            [(vocabulary.get(f), n) for f, n in grams.items()],
        )
        if not query:
            return []
        word_ids = [vocabulary[f] for f in words if f in vocabulary]
        budget = QUERY_POSTINGS_BUDGET
        places = {place.key for place in analysis.places}
        scores: dict[int, float] = {}
        for key in places:
            docs = self._of_place(key, word_ids, budget)
            for doc, score in zip(docs, self._scores(query, docs), strict=True):
                scores.setdefault(doc, _same_place(score))
        postings = self._placeless_postings if places else self._postings
        docs = [d for d in self._candidates(word_ids, postings, budget) if d not in scores]
        scores.update(zip(docs, self._scores(query, docs), strict=True))
        best = sorted(
            ((doc, score) for doc, score in scores.items() if score >= threshold),
            key=lambda item: (-item[1], item[0]),
        )[:limit]
        return [(self._ids[doc], round(score, 4)) for doc, score in best]

    def _of_place(self, key: str, words: Collection[int], budget: int) -> Sequence[int]:
        """The petitions naming a place, or the candidates among them when there are many."""
        block = self._blocks.get(key, array("i"))
        if len(block) <= BLOCK_SCAN:
            return block
        members = np.frombuffer(block, dtype=np.intc)
        return self._candidates(
            words,
            self._postings,
            budget,
            lambda docs: np.isin(docs, members, assume_unique=True),
            BLOCK_SCAN // 10,
        )

    # -- groups -----------------------------------------------------------------------------

    def groups(self, *, threshold: float = THRESHOLD) -> list[list[Id]]:
        """Near-duplicate petitions: groups of two or more, largest first, ids in the order
        given. Average link (``nlp.grouping``): two groups merge while the mean score over all
        pairs across them is ``threshold`` or more."""
        return [[self._ids[d] for d in group] for group in self.group_positions(threshold)]

    def group_positions(self, threshold: float = THRESHOLD) -> list[list[int]]:
        """``groups`` as positions in the order given."""
        return average_link(
            self._vectors, self._edges(threshold), self._places, threshold, _same_place
        )

    def _edges(self, threshold: float) -> Iterable[tuple[int, int, float]]:
        """Pairs scoring ``threshold`` or more: within each place through a local inverted
        index, and from each petition that names no place to its candidates anywhere."""
        for block in self._blocks.values():
            yield from self._block_edges(block, threshold)
        postings = self._postings
        yield from self._scored_edges(
            self._placeless,
            lambda doc: self._candidates(
                self._words[doc], postings, POSTINGS_BUDGET, _other_than(doc)
            ),
            threshold,
            same_place=False,
        )

    def _scored_edges(
        self,
        docs: Sequence[int],
        candidates_of: Callable[[int], list[int]],
        threshold: float,
        *,
        same_place: bool,
    ) -> Iterable[tuple[int, int, float]]:
        """The pairs of each petition and its candidates scoring ``threshold`` or more, the
        candidates of many petitions scored in one batch."""
        batch = self._batch()
        for start in range(0, len(docs), batch):
            chunk = list(docs[start : start + batch])
            lists = [candidates_of(doc) for doc in chunk]
            for doc, others, scores in zip(
                chunk, lists, self._pair_scores(chunk, lists), strict=True
            ):
                for other, score in zip(others, scores, strict=True):
                    if same_place:
                        score = _same_place(score)
                    if score >= threshold:
                        yield doc, other, score

    def _batch(self) -> int:
        """Petitions scored in one batch: ``_BATCH``, fewer for a large vocabulary (their
        vectors are held dense: at most ``_BATCH_CELLS`` weights)."""
        return max(1, min(_BATCH, _BATCH_CELLS // max(1, len(self._vocabulary))))

    def _pair_scores(self, docs: list[int], others: list[list[int]]) -> list[list[float]]:
        """``_scores`` of each petition of ``docs`` with its ``others``, all in one go (the
        same products summed in the same order)."""
        flat = [other for found in others for other in found]
        if not flat or max(max(docs), max(flat)) >= self._packed:
            return [
                self._scores(dict(zip(*self._vectors[doc], strict=True)), found)
                for doc, found in zip(docs, others, strict=True)
            ]
        rows = np.asarray(docs, dtype=np.int64)
        starts = self._indptr[rows]
        lengths = self._indptr[rows + 1] - starts
        entries = _ranges(starts, lengths)
        shape = (self._batch(), len(self._vocabulary))
        if self._queries.shape != shape:
            self._queries = np.zeros(shape, np.float64)
        queries = self._queries  # zero but where set here, and set back to zero below
        where = (np.repeat(np.arange(len(rows)), lengths), self._indices[entries])
        queries[where] = self._data[entries]
        counts = np.fromiter(map(len, others), np.int64, len(others))
        scored = np.asarray(flat, dtype=np.int64)
        starts = self._indptr[scored]
        lengths = self._indptr[scored + 1] - starts
        entries = _ranges(starts, lengths)
        owners = np.repeat(np.repeat(np.arange(len(rows)), counts), lengths)
        products = self._data[entries] * queries[owners, self._indices[entries]]
        pairs = np.repeat(np.arange(len(scored)), lengths)
        scores = np.bincount(pairs, weights=products, minlength=len(scored)).tolist()
        queries[where] = 0.0
        found: list[list[float]] = []
        at = 0
        for count in counts.tolist():
            found.append(scores[at : at + count])
            at += count
        return found

    def _block_edges(self, block: array[int], threshold: float) -> Iterable[tuple[int, int, float]]:
        small = len(block) <= CANDIDATES + 1
        if small and len(block) >= 2 and max(block) < self._packed:
            yield from self._small_block_edges(block, threshold)
            return
        postings = {} if small else _postings(block, self._words)
        if not small:
            yield from self._scored_edges(
                block,
                lambda doc: self._candidates(
                    self._words[doc], postings, POSTINGS_BUDGET, _after(doc)
                ),
                threshold,
                same_place=True,
            )
            return
        for at, doc in enumerate(block):
            ids, weights = self._vectors[doc]
            query = dict(zip(ids, weights, strict=True))
            if small:
                others: Sequence[int] = block[at + 1 :]
            else:
                others = self._candidates(
                    self._words[doc], postings, POSTINGS_BUDGET, _after(doc)
                )
            for other, score in zip(others, self._scores(query, others), strict=True):
                score = _same_place(score)
                if score >= threshold:
                    yield doc, other, score

    def _small_block_edges(
        self, block: array[int], threshold: float
    ) -> Iterable[tuple[int, int, float]]:
        """Every pair of a small block scored at once: for each pair, the products of the
        later petition's weights with the earlier one's, summed in the later one's order (the
        sums ``_score`` makes, pair by pair)."""
        rows = np.frombuffer(block, dtype=np.intc).astype(np.int64)
        starts = self._indptr[rows]
        lengths = self._indptr[rows + 1] - starts
        entries = _ranges(starts, lengths)
        features, local = np.unique(self._indices[entries], return_inverse=True)
        weights = self._data[entries]
        dense = np.zeros((len(rows), len(features)), np.float64)
        dense[np.repeat(np.arange(len(rows)), lengths), local] = weights
        first, second = np.triu_indices(len(rows), 1)
        offsets = np.cumsum(lengths) - lengths
        pair_lengths = lengths[second]
        within = _ranges(offsets[second], pair_lengths)
        products = weights[within] * dense[np.repeat(first, pair_lengths), local[within]]
        pairs = np.repeat(np.arange(len(first)), pair_lengths)
        scores = np.bincount(pairs, weights=products, minlength=len(first))
        for i, j, score in zip(first.tolist(), second.tolist(), scores.tolist(), strict=True):
            score = _same_place(score)
            if score >= threshold:
                yield block[i], block[j], score


def _ranges(starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The positions ``starts[k]``, ``starts[k] + 1``, … (``lengths[k]`` of them), for each
    ``k`` in turn."""
    at = np.arange(int(lengths.sum()), dtype=np.int64)
    at += np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return at


Mask = Callable[[npt.NDArray[np.intc]], npt.NDArray[np.bool_]]
#: Petitions whose candidates are scored in one batch when grouping.
_BATCH = 128
#: At most this many weights held dense for a batch (8 bytes each).
_BATCH_CELLS = 4_000_000


def _other_than(doc: int) -> Mask:
    """A filter of candidates: all but ``doc``."""
    return lambda docs: docs != doc  # type: ignore[no-any-return]


def _after(doc: int) -> Mask:
    """A filter of candidates: those after ``doc``."""
    return lambda docs: docs > doc  # type: ignore[no-any-return]


def _postings(docs: Iterable[int], words: Sequence[array[int]]) -> dict[int, array[int]]:
    """Inverted index: word feature -> the petitions (of ``docs``) that have it."""
    postings: defaultdict[int, array[int]] = defaultdict(lambda: array("i"))
    for doc in docs:
        for feature in words[doc]:
            postings[feature].append(doc)
    return dict(postings)


def _read_many(
    problems: Sequence[str], workers: int, cache: MutableMapping[str, Reading]
) -> list[Reading]:
    """Segment problem texts: each distinct one once, what ``cache`` lacks only, in
    ``workers`` processes when there is enough to do."""
    missing = list(dict.fromkeys(p for p in problems if p not in cache))
    if workers > 1 and len(missing) >= PARALLEL_MINIMUM:
        size = -(-len(missing) // (workers * 8))
        chunks = [missing[i : i + size] for i in range(0, len(missing), size)]
        # spawned, not forked: the caller may run threads (a bot, a web server)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for chunk, readings in zip(chunks, pool.map(_read_all, chunks), strict=True):
                cache.update(zip(chunk, readings, strict=True))
    else:
        cache.update(zip(missing, _read_all(missing), strict=True))
    return [cache[problem] for problem in problems]
