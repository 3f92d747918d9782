"""The inventory of Vietnamese syllables, with frequencies, built from text underthesea ships.

Sources, all inside the installed underthesea wheel (read as data files: no underthesea module
is imported, nothing is downloaded, no hand-picked word list):

- the VLSP 2013 tagged text of the POS tagger's model folder (``test_output.txt``: one token a
  line, blank lines between sentences): syllable counts and bigrams of running text, and how
  often each syllable is capitalised inside a sentence (names);
- the word lists ``corpus/data/Viet{11,22,39,74}K.txt``: every syllable of every word, and the
  syllable pairs inside multi-syllable words (weighted lower than running text);
- the names of provinces, districts and wards in the address data (``mapping.json``);
- the frequency-ranked stopword lists (a Zipf prior for the commonest words of general text)
  and the sentence starters the Punkt sentence tokenizer learnt (``punkt_params.json``): the
  tagged text is legal prose, these pull the model towards everyday Vietnamese;
- the TTS lexicon (``lexicon.txt``): accented syllables the other sources may miss.

Besides these, the names of today's wards and provinces (the ``vietnam_provinces`` package)
give the LOAN SYLLABLES: words of Tây Nguyên names that the spelling rules of Vietnamese
refuse but that carry its marks (``Đắk``, ``Lắk``, ``Krông``, ``Búk``). They are read as
syllables (``canonical``), so that ``Dak Lak`` can be restored to ``Đắk Lắk``; and syllables
of the ward, province and street names that no other source holds (``Duẩn``) are added with a
small weight.

Every syllable is lower case with its tone in the canonical (new-style) place. The inventory is
built once per process on first use (about half a second) and never written to disk.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from nlp.loading import built_once
from nlp.orthography import canonical_syllable, has_vietnamese_marks, strip_vietnamese

TAGGED_TEXT = "pipeline/pos_tag/models/pos_crf_vlsp2013_20230303/test_output.txt"
WORD_LISTS = ("Viet11K.txt", "Viet22K.txt", "Viet39K.txt", "Viet74K.txt")
LEXICON = "pipeline/tts/viettts_/assets/infore/lexicon.txt"
ADDRESSES = "address/data/mapping.json"
STOPWORD_LISTS = ("stopwords.txt", "stopwords_dev.txt")
PUNKT_PARAMETERS = "pipeline/sent_tokenize/punkt_params.json"

#: Chain boundaries in the bigram table: start and end of a run of syllables.
START = "<s>"
END = "</s>"

#: Weight of one occurrence in a word list, relative to one occurrence in running text.
LIST_WEIGHT = 0.3
#: Weight of a syllable pair inside a listed word, relative to a pair in running text.
LIST_PAIR_WEIGHT = 0.5
#: Weight of a syllable in a unit name of the address data (Phường Bến Nghé).
PLACE_WEIGHT = 0.05
#: Weight of a syllable pair in a unit name (phường Bến, Bến Nghé).
PLACE_PAIR_WEIGHT = 1.0
#: The stopword lists are ranked by frequency in general text (news, social media): rank r
#: adds this share of the most frequent syllable's count divided by r (Zipf's law).
STOPWORD_WEIGHT = 1.0
#: The sentence tokenizer's parameters list words that often start a sentence in general text
#: (tôi, bạn, hãy, …); each adds this share of all run starts to the pair (START, word).
STARTER_WEIGHT = 0.003
#: Pseudo-count of the even prior on whether a syllable is written capitalised.
CASE_PRIOR = 1.0
#: Weight of an accented syllable that only the TTS lexicon knows.
LEXICON_WEIGHT = 0.1
#: Weight of a syllable of a current ward, province or street name that no other source knows.
NAME_WEIGHT = 0.1
#: The street names (``nlp/data``), a source of syllables (``NAME_WEIGHT``).
STREET_NAMES = Path(__file__).with_name("data") / "street_names.txt"


def underthesea_root() -> Path:
    """The folder of the installed underthesea package (found without importing it)."""
    spec = importlib.util.find_spec("underthesea")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("underthesea is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _place_names(root: Path) -> set[str]:
    """Names of provinces, districts and wards, before and after the 2025 merger."""
    data = json.loads((root / ADDRESSES).read_text("utf-8"))
    names: set[str] = set()
    for row in data.get("ward_mapping", ()):
        names.update(
            value
            for key, value in row.items()
            if key.startswith(("old_", "new_")) and not key.endswith("_key") and value
        )
    for table in ("province_names", "old_province_names"):
        names.update(entry["name"] for entry in data.get(table, {}).values())
    return names


def current_unit_names() -> list[str]:
    """The names of today's wards and provinces (``vietnam_provinces``), with their unit word
    (``Xã Krông Búk``, ``Tỉnh Đắk Lắk``), sorted, each once."""
    spec = importlib.util.find_spec("vietnam_provinces")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("vietnam_provinces is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    rows = json.loads((folder / "data" / "flat-divisions.json").read_text("utf-8"))
    names = {" ".join(row[key].split()) for row in rows for key in ("name", "province_name")}
    return sorted(names)


_LETTERS_ONLY = re.compile(r"[^\W\d_]+")


#: A loan syllable is read as one only when at least this many of today's unit names hold it:
#: one name alone (``Đal``, ``SRó``) is too little to restore every word typed that way to it.
LOAN_NAMES = 2


@cache
def loan_syllables() -> frozenset[str]:
    """Words of today's unit names, lower case, that ``canonical_syllable`` refuses but that
    carry a Vietnamese mark, in at least ``LOAN_NAMES`` names: ``đắk``, ``lắk``, ``krông``,
    ``ngọk``. A name word that is one of them without its marks (``Krong``) is a loan too, so
    that both readings are weighed. (Other unmarked words, ``Ea``, ``Kon``, stay foreign:
    there is nothing to restore in them.)"""
    marked: dict[str, int] = {}
    plain: set[str] = set()
    for name in current_unit_names():
        for lower in set(name.lower().split()):
            if not _LETTERS_ONLY.fullmatch(lower) or canonical_syllable(lower) is not None:
                continue
            if has_vietnamese_marks(lower):
                marked[lower] = marked.get(lower, 0) + 1
            else:
                plain.add(lower)
    loans = {word for word, names in marked.items() if names >= LOAN_NAMES}
    bare = {strip_vietnamese(word) for word in loans}
    return frozenset(loans | (plain & bare))


@lru_cache(maxsize=1 << 16)
def canonical(word: str) -> str | None:
    """``canonical_syllable``, or the word in lower case when it is a loan syllable
    (``loan_syllables``); None for anything else."""
    value = canonical_syllable(word)
    if value is not None:
        return value
    lower = word.lower()
    return lower if lower in loan_syllables() else None


def _sentence_starters(root: Path) -> list[str]:
    """Words the shipped Punkt sentence tokenizer learnt as frequent sentence starters."""
    data = json.loads((root / PUNKT_PARAMETERS).read_text("utf-8"))
    return [word for word in data.get("sent_starters", ()) if isinstance(word, str)]


def _unit_length(name: str) -> int:
    """Words of the unit type that opens an official name: 1 in "Phường Bến Nghé", 2 in
    "Thị trấn Cờ Đỏ" (the words before the first capitalised one after the first).

    Unit types are lower case inside a sentence ("ở phường Bến Nghé"), unlike the name.
    """
    words = name.split()
    return next((i for i, word in enumerate(words) if i and _capitalised(word)), len(words))


@built_once
def tagged_sentences() -> tuple[tuple[str, ...], ...]:
    """The sentences of the shipped VLSP 2013 tagged text, as tuples of tokens.

    A token may hold several syllables joined by spaces or underscores (``pháp luật``).
    """
    sentences: list[tuple[str, ...]] = []
    tokens: list[str] = []
    for line in (underthesea_root() / TAGGED_TEXT).read_text("utf-8").splitlines():
        token = line.split("\t", 1)[0].strip()
        if token:
            tokens.append(token)
        elif tokens:
            sentences.append(tuple(tokens))
            tokens = []
    if tokens:
        sentences.append(tuple(tokens))
    return tuple(sentences)


class _Canon(dict[str, str]):
    """Memo of ``canonical`` (lower case; empty string when not a syllable)."""

    def __missing__(self, word: str) -> str:
        value = canonical(word) or ""
        self[word] = value
        return value


def _runs(tokens: Iterable[str], canon: _Canon) -> Iterator[list[tuple[str, str]]]:
    """Runs of consecutive syllables as (syllable, as written); anything else breaks a run."""
    run: list[tuple[str, str]] = []
    for token in tokens:
        for piece in token.replace("_", " ").split():
            syllable = canon[piece.lower()]
            if syllable:
                run.append((syllable, piece))
            elif run:
                yield run
                run = []
    if run:
        yield run


def _capitalised(written: str) -> bool:
    return written[:1].isupper() and not written.isupper()


@dataclass(slots=True)
class Inventory:
    """Syllables with frequencies, their stripped readings, and syllable bigrams."""

    counts: dict[str, float] = field(repr=False)
    bigrams: dict[str, dict[str, float]] = field(repr=False)
    #: Occurrences whose case tells something (not starting a sentence, not ALL CAPS) …
    cased: dict[str, float] = field(default_factory=dict, repr=False)
    #: … and how many of them were capitalised: proper names (Lê Lợi, Bến Nghé).
    capitalised: dict[str, float] = field(default_factory=dict, repr=False)
    readings: dict[str, tuple[str, ...]] = field(init=False, repr=False)
    total: float = field(init=False)
    _left_total: dict[str, float] = field(init=False, repr=False)
    _followers: dict[str, int] = field(init=False, repr=False)
    _unigram: dict[str, float] = field(init=False, repr=False)
    _unknown: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_stripped: defaultdict[str, list[str]] = defaultdict(list)
        for syllable in self.counts:
            by_stripped[strip_vietnamese(syllable)].append(syllable)
        self.readings = {
            bare: tuple(sorted(options, key=lambda s: (-self.counts[s], s)))
            for bare, options in by_stripped.items()
        }
        self.total = sum(self.counts.values())
        denominator = self.total + 0.5 * (len(self.counts) + 1)
        self._unigram = {s: (count + 0.5) / denominator for s, count in self.counts.items()}
        self._unknown = 0.5 / denominator
        end_total = sum(right.get(END, 0.0) for right in self.bigrams.values())
        self._unigram[END] = (end_total + 0.5) / (self.total + end_total + 0.5)
        self._left_total = {left: sum(right.values()) for left, right in self.bigrams.items()}
        self._followers = {left: len(right) for left, right in self.bigrams.items()}

    def __repr__(self) -> str:
        return (
            f"Inventory({len(self.counts)} syllables, {len(self.readings)} stripped forms, "
            f"{sum(map(len, self.bigrams.values()))} pairs, total={self.total:.0f})"
        )

    def __contains__(self, syllable: object) -> bool:
        return syllable in self.counts

    def count(self, syllable: str) -> float:
        """Weighted frequency of a canonical lower-case syllable (0 when unknown)."""
        return self.counts.get(syllable, 0.0)

    def candidates(self, bare: str) -> tuple[str, ...]:
        """Accented syllables whose stripped form is ``bare`` (lower case), most frequent first."""
        return self.readings.get(bare, ())

    def log_unigram(self, syllable: str) -> float:
        """Smoothed log probability of a syllable in running text."""
        return math.log(self._unigram.get(syllable, self._unknown))

    def log_case(self, syllable: str, capitalised: bool) -> float:
        """Log probability that the syllable, inside a sentence, is written capitalised or not.

        Smoothed towards an even chance, so an unseen syllable says little either way.
        """
        share = (self.capitalised.get(syllable, 0.0) + CASE_PRIOR / 2) / (
            self.cased.get(syllable, 0.0) + CASE_PRIOR
        )
        return math.log(share if capitalised else 1.0 - share)

    def log_bigram(self, left: str, right: str) -> float:
        """Witten–Bell smoothed log P(right | left); ``left`` may be START, ``right`` END."""
        unigram = self._unigram.get(right, self._unknown)
        followers = self._followers.get(left)
        if not followers:
            return math.log(unigram)
        seen = self.bigrams[left].get(right, 0.0)
        return math.log((seen + followers * unigram) / (self._left_total[left] + followers))


class _Counts:
    """Weighted syllable and pair counts, filled source by source."""

    def __init__(self) -> None:
        self.canon = _Canon()
        self.syllables: defaultdict[str, float] = defaultdict(float)
        self.pairs: defaultdict[str, defaultdict[str, float]] = defaultdict(
            lambda: defaultdict(float)
        )
        self.cased: defaultdict[str, float] = defaultdict(float)
        self.capitalised: defaultdict[str, float] = defaultdict(float)

    def _case(self, syllable: str, written: str, weight: float) -> None:
        if len(written) > 1 and written.isupper():
            return  # ALL CAPS says nothing about names
        self.cased[syllable] += weight
        if _capitalised(written):
            self.capitalised[syllable] += weight

    def running_text(self, sentence: Iterable[str]) -> None:
        """A sentence of running text: syllables, pairs with the run ends, and case.

        The first syllable of a run may be capitalised for starting a sentence: its case is
        not counted.
        """
        for run in _runs(sentence, self.canon):
            syllables = [syllable for syllable, _ in run]
            for left, right in itertools.pairwise((START, *syllables, END)):
                self.pairs[left][right] += 1.0
            for syllable in syllables:
                self.syllables[syllable] += 1.0
            for syllable, written in run[1:]:
                self._case(syllable, written, 1.0)

    def entry(self, text: str, weight: float, pair_weight: float, case_from: int = 0) -> None:
        """A word or a name from a list: its syllables, their case, and the pairs inside it.

        The case of the first ``case_from`` syllables is not counted.
        """
        for run in _runs((text,), self.canon):
            for index, (syllable, written) in enumerate(run):
                self.syllables[syllable] += weight
                if index >= case_from:
                    self._case(syllable, written, weight)
            for (left, _), (right, _) in itertools.pairwise(run):
                self.pairs[left][right] += pair_weight


def _lines(path: Path) -> list[str]:
    return path.read_text("utf-8").splitlines()


def build_inventory(exclude: Collection[int] = ()) -> Inventory:
    """Build the inventory; ``exclude`` holds indices of tagged sentences to leave out.

    Tests hold sentences out this way so that what they measure was not learnt from.
    """
    root = underthesea_root()
    counts = _Counts()
    for index, sentence in enumerate(tagged_sentences()):
        if index not in exclude:
            counts.running_text(sentence)
    top = max(counts.syllables.values(), default=1.0)

    for name in WORD_LISTS:
        for line in _lines(root / "corpus" / "data" / name):
            if "-" not in line:  # transliterated loanwords (a-ba-giua) are not syllables
                counts.entry(line, LIST_WEIGHT, LIST_PAIR_WEIGHT)
    for place in _place_names(root):
        counts.entry(place, PLACE_WEIGHT, PLACE_PAIR_WEIGHT, case_from=_unit_length(place))
    for name in STOPWORD_LISTS:
        for rank, line in enumerate(_lines(root / "datasets" / "stopwords" / name), start=1):
            counts.entry(line, STOPWORD_WEIGHT * top / rank, 0.0)
    starts = sum(counts.pairs[START].values())
    for word in _sentence_starters(root):
        syllable = counts.canon[word]
        if syllable:
            counts.pairs[START][syllable] += STARTER_WEIGHT * starts
    for line in _lines(root / LEXICON):
        word = line.split("\t", 1)[0].strip()
        syllable = counts.canon[word] if word and not word.isascii() else ""
        if syllable and syllable not in counts.syllables:
            counts.syllables[syllable] = LEXICON_WEIGHT
    streets = [line for line in _lines(STREET_NAMES) if line.strip() and line[0] != "#"]
    for name in (*current_unit_names(), *streets):
        for run in _runs((name,), counts.canon):
            for syllable, written in run:
                if syllable not in counts.syllables:
                    counts.syllables[syllable] = NAME_WEIGHT
                    counts._case(syllable, written, NAME_WEIGHT)

    return Inventory(
        counts=dict(counts.syllables),
        bigrams={left: dict(right) for left, right in counts.pairs.items()},
        cased=dict(counts.cased),
        capitalised=dict(counts.capitalised),
    )


@built_once
def inventory() -> Inventory:
    """The inventory built from everything shipped, once per process."""
    return build_inventory()
