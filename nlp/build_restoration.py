"""Build the restoration table of Q4 (``nlp/data/restoration.tsv.gz``): ``python -m
nlp.build_restoration``. Deterministic; reads only material shipped with the code:

- the VLSP 2013 tagged text inside underthesea, WITHOUT every fourth sentence (index % 4 == 3):
  those sentences stay held out for ``tests/test_nlp_diacritics.py``;
- the word lists of underthesea (``Viet74K.txt``): syllable pairs inside words;
- the 3,321 wards and 34 provinces of vietnam-provinces, and the old units of underthesea's
  address table (``mapping.json``), each also after its unit word (``phường Bến Nghé``);
- the catalogue (``texts/vi*.toml``), the civic vocabulary, everyday phrases, street names
  and the petition sentences written for the model (``petition_sentences.txt``) of
  ``nlp/data``;
- the TUNING half of the labelled petitions (``nlp/gold.py``), never the held-out half.

Weights of the sources and the thresholds of the confidence rule are chosen by 4-fold
cross-validation inside the tuning half (each fold scored by a model built without it), so the
tuning figures reported are not scored on text the model learnt; the build prints them.
Nothing here reads the held-out half's figures: it is scored once, by the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nlp import gold
from nlp.orthography import canonical_syllable
from nlp.restoration import (
    CONTEXT_WORDS,
    NUMBER,
    TABLE,
    UNIT_ABBREVIATIONS,
    Counts,
    LanguageModel,
    Model,
    Params,
    write_table,
)
from nlp.syllables import ADDRESSES, tagged_sentences, underthesea_root
from nlp.text import strip_diacritics

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).with_name("data")
CATALOGUE = ROOT / "texts"
WORD_LIST = "corpus/data/Viet74K.txt"
FOLDS = 4

_WORD_OR_BREAK = re.compile(r"[^\W\d_]+|\d+(?:[/.,:]\d+)*| +|.", re.DOTALL)
_PLACEHOLDER = re.compile(r"\{[^}]*\}|<[^>]*>")


def text_runs(text: str) -> Iterator[tuple[list[str], tuple[bool, bool]]]:
    """Runs of syllables separated by spaces only, and whether each starts and ends at
    punctuation or the text's edge (True) or at a word that is no syllable (False). Numbers
    are ``NUMBER``; shorthand and unit abbreviations are the syllables they stand for (as
    ``nlp.diacritics`` reads them), and a dot after a unit abbreviation does not end a run."""
    run: list[str] = []
    starts = True
    unit = False
    for piece in _WORD_OR_BREAK.findall(text):
        if piece.startswith(" "):
            continue
        if unit and piece == ".":
            unit = False
            continue
        lower = piece.lower()
        unit = lower in UNIT_ABBREVIATIONS
        word = piece[0].isalnum()
        if piece[0].isdigit():
            run.append(NUMBER)
            continue
        if lower in CONTEXT_WORDS:
            run += CONTEXT_WORDS[lower]
            continue
        syllable = canonical_syllable(piece) if piece[0].isalpha() else None
        if syllable:
            run.append(syllable)
            continue
        if run:
            yield run, (starts, not word)
        run = []
        starts = not word
    if run:
        yield run, (starts, True)


#: What a listed entry adds to the frequency of its syllables (see ``Counts.add_run``).
LIST_UNIGRAM = 0.15
#: The same for the phrases written for the model (natural clauses, not a dictionary).
PHRASE_UNIGRAM = 1.0


def _counts(texts: Iterable[str], *, padded: bool, unigram: float | None = None) -> Counts:
    """Running text when ``padded``, else a list (syllable frequencies scaled by ``unigram``,
    by default ``LIST_UNIGRAM``)."""
    counts = Counts()
    share = 1.0 if padded else (LIST_UNIGRAM if unigram is None else unigram)
    for text in texts:
        for run, edges in text_runs(text):
            counts.add_run(run, padded=edges if padded else False, unigram=share)
    return counts


def _data_lines(name: str) -> list[str]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@cache
def sources() -> dict[str, Counts]:
    """Counts of every source except the gold petitions, unweighted."""
    root = underthesea_root()
    vlsp = Counts()
    for index, tokens in enumerate(tagged_sentences()):
        if index % 4 == 3:
            continue
        for run, edges in text_runs(" ".join(token.replace("_", " ") for token in tokens)):
            vlsp.add_run(run, padded=edges)
    words = [
        line
        for line in (root / WORD_LIST).read_text("utf-8").splitlines()
        if line.strip() and "-" not in line
    ]
    catalogue: list[str] = []
    for path in sorted(CATALOGUE.glob("vi*.toml")):
        catalogue += _strings(tomllib.loads(path.read_text("utf-8")))
    catalogue = [_PLACEHOLDER.sub(" , ", text) for text in catalogue]
    streets = _data_lines("street_names.txt")
    return {
        "vlsp": vlsp,
        "words": _counts(words, padded=False),
        "places": _counts(_place_names(root), padded=False),
        "streets": _counts([*streets, *(f"đường {s}" for s in streets)], padded=False),
        "catalogue": _counts(catalogue, padded=True),
        "vocabulary": _counts(
            _data_lines("civic_vocabulary.txt"), padded=False, unigram=PHRASE_UNIGRAM
        ),
        "phrases": _counts(
            _data_lines("everyday_phrases.txt"), padded=False, unigram=PHRASE_UNIGRAM
        ),
        "petitions": _counts(_data_lines("petition_sentences.txt"), padded=True),
    }


def _strings(table: object) -> list[str]:
    if isinstance(table, dict):
        return [s for value in table.values() for s in _strings(value)]
    return [table] if isinstance(table, str) else []


def _place_names(root: Path) -> list[str]:
    import json as _json

    names: set[str] = set()
    divisions = _provinces_data()
    for ward in divisions:
        names.add(ward["name"])
        names.add(ward["province_name"])
    mapping = _json.loads((root / ADDRESSES).read_text("utf-8"))
    for row in mapping.get("ward_mapping", ()):
        names.update(
            value
            for key, value in row.items()
            if key.startswith(("old_", "new_")) and not key.endswith("_key") and value
        )
    out: list[str] = []
    for name in sorted(names):
        out.append(name)
        bare = re.sub(
            r"^(Phường|Xã|Thị trấn|Đặc khu|Quận|Huyện|Thị xã|Tỉnh|Thành phố|Tp)\s+", "", name
        )
        if bare != name:
            out.append(bare)
    return out


def _provinces_data() -> list[dict[str, str]]:
    import importlib.util

    spec = importlib.util.find_spec("vietnam_provinces")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    data: list[dict[str, str]] = json.loads((folder / "data" / "flat-divisions.json").read_text())
    return data


# ---------------------------------------------------------------------------------------------
# Weights, cross-validation and thresholds.


@dataclass(frozen=True)
class Weights:
    """Weights of the sources; the defaults were chosen by 4-fold cross-validation on the
    tuning half (a coordinate search, one weight at a time; ``--tune`` searches ``GRID``)."""

    vlsp: float = 0.5
    words: float = 0.03
    places: float = 0.3
    streets: float = 1.0
    catalogue: float = 3.0
    vocabulary: float = 4.0
    phrases: float = 5.0
    petitions: float = 2.5
    gold: float = 1.0


#: Sources whose 4-grams go into the table (the civic text written for it; the news text and
#: the word lists give trigrams at most, which keeps the table small).
QUAD_SOURCES = frozenset({"catalogue", "phrases", "petitions", "vocabulary"})


def combine(weights: Weights, petitions: Sequence[str]) -> Counts:
    counts = Counts()
    for name, source in sources().items():
        counts.add(source, getattr(weights, name), quads=name in QUAD_SOURCES)
    counts.add(_counts(petitions, padded=True), weights.gold)
    return counts


def fold(sentence: str) -> int:
    """The cross-validation fold of a tuning sentence (second byte of its SHA-256)."""
    return hashlib.sha256(sentence.encode("utf-8")).digest()[1] % FOLDS


@dataclass
class Scored:
    """What the restoration of one gold sentence got right, and how sure it was."""

    sentence: str
    restored: str
    #: (right, confidence) for every restored word.
    words: list[tuple[bool, float]]


_WORD = re.compile(r"[^\W\d_]+")


def score(model: Model, sentences: Sequence[str]) -> list[Scored]:
    from nlp.diacritics import restore
    from nlp.text import fold_tone_placement

    out: list[Scored] = []
    for sentence in sentences:
        expected = fold_tone_placement(sentence)
        typed = strip_diacritics(sentence)
        result = restore(typed, model=model)
        restored = result.text if result else typed
        gold_words = {m.start(): m.group() for m in _WORD.finditer(expected)}
        words = []
        if result:
            for word in result.words:
                truth = gold_words.get(word.start)
                words.append((truth == fold_tone_placement(word.best), word.confidence))
        out.append(Scored(expected, fold_tone_placement(restored), words))
    return out


def accuracy(scored: Sequence[Scored]) -> tuple[float, float]:
    """Share of syllables (word tokens of the gold text) and of whole sentences right."""
    right = total = exact = 0
    for item in scored:
        expected, got = _WORD.findall(item.sentence), _WORD.findall(item.restored)
        total += len(expected)
        right += sum(a == b for a, b in zip(expected, got, strict=False))
        exact += item.sentence == item.restored
    return right / total, exact / len(scored)


def cross_validated(
    weights: Weights, temperatures: Sequence[float] = (1.0,)
) -> dict[float, list[Scored]]:
    """Every tuning sentence restored by a model built without its fold, per temperature."""
    tuning = gold.tuning()
    scored: dict[float, list[Scored]] = {t: [] for t in temperatures}
    for k in range(FOLDS):
        train = [s for s in tuning if fold(s) != k]
        test = [s for s in tuning if fold(s) == k]
        lm = LanguageModel(combine(weights, train))
        for temperature in temperatures:
            scored[temperature] += score(Model(lm, Params(temperature=temperature), {}), test)
    return scored


@dataclass(frozen=True)
class Safety:
    """The confidence rule applied to scored sentences."""

    suggestions: int
    wrong_shown_certain: int
    below_floor: int
    uncertain_words: int
    words: int

    @property
    def wrong_certain_share(self) -> float:
        return self.wrong_shown_certain / self.suggestions if self.suggestions else 0.0


def safety(scored: Sequence[Scored], params: Params) -> Safety:
    suggestions = wrong = floor = uncertain = words = 0
    for item in scored:
        flags = [(ok, conf < params.uncertain_below) for ok, conf in item.words]
        if not flags:
            continue
        doubtful = sum(1 for _, u in flags if u)
        weighed = len(flags)
        offered = doubtful <= params.floor_uncertain_count and (
            doubtful <= params.floor_uncertain_share * weighed
        )
        if not offered:
            floor += 1
            continue
        suggestions += 1
        uncertain += doubtful
        words += weighed
        wrong += any(not ok and not u for ok, u in flags)
    return Safety(suggestions, wrong, floor, uncertain, words)


TEMPERATURES = (1.0, 2.0, 3.0, 4.0, 6.0)
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999)
#: At most six words to confirm: more taps than that, and typing again is simpler.
FLOORS = ((0.25, 4), (0.34, 6), (0.5, 6))
#: Goal on wrong-and-shown-as-certain suggestions, with a margin under the 1 % of the issue.
#: The rule is chosen on the cross-validated tuning half only; nothing is adjusted after.
TARGET = 0.005
#: What one word to confirm costs, against one suggestion offered (a tap against retyping
#: a whole sentence).
WORD_COST = 0.1


def choose_params(scored: Mapping[float, Sequence[Scored]]) -> Params:
    """Temperature, threshold and floor under which the wrong-and-certain share stays under
    ``TARGET`` on the cross-validated tuning sentences, offering the most suggestions with the
    fewest words to confirm. Chosen there and only there: no held-out figure moves it."""
    best: tuple[float, Params] | None = None
    for temperature, items in scored.items():
        for threshold in THRESHOLDS:
            for share, count in FLOORS:
                params = Params(
                    uncertain_below=threshold,
                    floor_uncertain_share=share,
                    floor_uncertain_count=count,
                    temperature=temperature,
                )
                rule = safety(items, params)
                if rule.wrong_certain_share > TARGET:
                    continue
                value = rule.suggestions - WORD_COST * rule.uncertain_words
                if best is None or value > best[0]:
                    best = (value, params)
    if best is None:
        return Params(uncertain_below=THRESHOLDS[-1], temperature=TEMPERATURES[0])
    return best[1]


GRID = {
    "vlsp": (0.25, 0.5, 1.0),
    "words": (0.03, 0.1, 0.3),
    "petitions": (2.5, 4.0),
    "gold": (1.0, 2.0, 4.0),
}


def tune(verbose: bool = True) -> Weights:
    best: tuple[float, Weights] | None = None
    for values in itertools.product(*GRID.values()):
        weights = Weights(**dict(zip(GRID, values, strict=True)))
        syllables, sentences = accuracy(cross_validated(weights)[1.0])
        objective = syllables + 0.2 * sentences
        if verbose:
            print(f"{weights}  syllables {syllables:.4f}  sentences {sentences:.4f}", flush=True)
        if best is None or objective > best[0]:
            best = (objective, weights)
    assert best is not None
    return best[1]


def build(weights: Weights, params: Params, path: Path = TABLE) -> None:
    tuning = gold.tuning()
    counts = combine(weights, tuning)
    meta = {
        "weights": weights.__dict__,
        "tuning_sentences": len(tuning),
        "tuning_digest": hashlib.sha256("\n".join(tuning).encode("utf-8")).hexdigest(),
        "vlsp_held_out": "index % 4 == 3 left out",
    }
    write_table(path, counts, params, meta)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", action="store_true", help="search the weights (slow)")
    args = parser.parse_args(argv)
    weights = tune() if args.tune else Weights()
    by_temperature = cross_validated(weights, TEMPERATURES)
    params = choose_params(by_temperature)
    scored = by_temperature[params.temperature]
    syllables, sentences = accuracy(scored)
    rule = safety(scored, params)
    print(f"weights {weights}")
    print(f"params  {params}")
    print(
        f"tuning half, 4-fold cross-validated: syllables {syllables:.2%}, sentences "
        f"{sentences:.2%}; wrong shown as certain {rule.wrong_certain_share:.2%} of "
        f"{rule.suggestions} suggestions, {rule.below_floor} below the floor, "
        f"{rule.uncertain_words}/{rule.words} words to confirm"
    )
    build(weights, params)
    print(f"wrote {TABLE} ({TABLE.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
