"""Q4: restoring the diacritics of text typed without them, with a confidence for every syllable.

The model is a syllable 4-gram language model (Witten–Bell interpolated with the trigram,
bigram and unigram; 4-grams from the civic text only) read from a table shipped in the
repository (``nlp/data/restoration.tsv.gz``, about 1 MB), built by ``python -m
nlp.build_restoration`` from the tagged text and word lists shipped with underthesea, the ward
and province names of vietnam-provinces, the catalogue, a civic vocabulary, petition sentences
written for it and the TUNING half of the labelled petitions (``nlp/gold.py``). Numbers read
as ``NUMBER`` and chat shorthand or unit abbreviations as the syllables they stand for
(``CONTEXT_WORDS``), as context only. It is loaded once, on first use.

A word-level layer (``nlp.word_layer``) adds a bonus to the syllables of a known name (a ward,
a province, a street, a person's name) spelt by a run of capitalised words; its bonuses ship in
``Params`` and reach the decoder as the places' emissions (``Place.bonus``).

``decode`` runs forward–backward over the candidate syllables of a run of words: the syllable
chosen at each place is the one with the highest posterior probability, and that probability
is its confidence. A restored syllable is shown as certain only when its confidence reaches a
threshold AND its ambiguity class (the word as typed, lower case: ``phuong`` for phường and
phương) is in the table's list of safe classes: classes whose restorations, measured by
cross-validation, were wrong rarely enough (``nlp.build_restoration`` says how). The thresholds,
the list and the floor under which no suggestion is offered at all were chosen without the
held-out sets and ship with the table.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp.heap import collection_paused, give_back_freed_memory
from nlp.loading import built_once

TABLE = Path(__file__).with_name("data") / "restoration.tsv.gz"

START = "<s>"
END = "</s>"
#: The context of a run that follows a word the model cannot read (a number, an acronym, a
#: foreign word): no context at all, so the first syllable is weighed by the unigram.
UNKNOWN = "<unk>"
#: A number (house number, hour, quantity) as one token of context: ``hẻm <num> nguyễn``.
NUMBER = "<num>"
#: Shorthand and abbreviations read as the syllables they stand for, for context only (the
#: typed word itself is kept): ``k`` is ``không``, ``P.`` is ``phường``, ``TP`` ``thành phố``.
CONTEXT_WORDS: Mapping[str, tuple[str, ...]] = {
    "k": ("không",),
    "ko": ("không",),
    "kh": ("không",),
    "khg": ("không",),
    "hok": ("không",),
    "dc": ("được",),
    "đc": ("được",),
    "dk": ("đăng", "ký"),
    "đk": ("đăng", "ký"),
    "ng": ("người",),
    "nc": ("nước",),
    "vs": ("với",),
    "mn": ("mọi", "người"),
    "p": ("phường",),
    "q": ("quận",),
    "tp": ("thành", "phố"),
}
#: Unit abbreviations that a dot follows without ending the clause (``P.7``, ``Q. 3``).
UNIT_ABBREVIATIONS = frozenset({"p", "q", "tp"})
#: Unigram add-constant for unseen syllables.
_ADD = 0.5


@dataclass(slots=True)
class Counts:
    """Weighted n-gram counts of runs of syllables (lower case, canonical tone place)."""

    uni: dict[str, float] = field(default_factory=dict)
    bi: dict[tuple[str, str], float] = field(default_factory=dict)
    tri: dict[tuple[str, str, str], float] = field(default_factory=dict)
    quad: dict[tuple[str, str, str, str], float] = field(default_factory=dict)

    def add_run(
        self,
        run: Sequence[str],
        weight: float = 1.0,
        *,
        padded: bool | tuple[bool, bool] = True,
        unigram: float = 1.0,
    ) -> None:
        """One run of syllables; ``padded`` adds the run's start and end (running text), a
        listed word or name is not padded (it says nothing about how runs start). A list
        gives every entry the same count: ``unigram`` scales what it adds to the syllable
        frequencies (``giũa`` is in the list as often as ``giữa``)."""
        for syllable in run:
            self.uni[syllable] = self.uni.get(syllable, 0.0) + weight * unigram
        starts, ends = padded if isinstance(padded, tuple) else (padded, padded)
        seq = [START] * starts + list(run) + [END] * ends
        for pair in itertools.pairwise(seq):
            self.bi[pair] = self.bi.get(pair, 0.0) + weight
        for triple in zip(seq, seq[1:], seq[2:], strict=False):
            self.tri[triple] = self.tri.get(triple, 0.0) + weight
        for four in zip(seq, seq[1:], seq[2:], seq[3:], strict=False):
            self.quad[four] = self.quad.get(four, 0.0) + weight

    def add(self, other: Counts, weight: float, *, quads: bool = True) -> None:
        """Add ``weight`` times another table of counts (its 4-grams only when ``quads``)."""
        if weight == 0:
            return
        for word, value in other.uni.items():
            self.uni[word] = self.uni.get(word, 0.0) + weight * value
        for pair, value in other.bi.items():
            self.bi[pair] = self.bi.get(pair, 0.0) + weight * value
        for triple, value in other.tri.items():
            self.tri[triple] = self.tri.get(triple, 0.0) + weight * value
        if quads:
            for quad, value in other.quad.items():
                self.quad[quad] = self.quad.get(quad, 0.0) + weight * value


def _contexts(grams: Mapping[Any, float], below: Mapping[Any, float]) -> dict[Any, list[float]]:
    """Witten–Bell's figures of each context of ``grams`` (an n-gram without its last
    syllable): the total count of what follows it, and how many follow it (a count under 1
    counted as what it is). A context's key is the tuple of the n-gram of the order below
    (``below``) when the table has it: one object, not one more per context (issue 12, a
    worker's memory)."""
    held = dict(zip(below, below, strict=True))
    contexts: dict[Any, list[float]] = {}
    for gram, value in grams.items():
        context = gram[:-1]
        found = contexts.get(context)
        if found is None:
            contexts[held.get(context, context)] = [value, min(1.0, value)]
        else:
            found[0] += value
            found[1] += min(1.0, value)
    return contexts


#: ``LanguageModel``'s dictionaries of counts, contexts and computed probabilities.
_COUNTED = (
    *("uni", "_bi", "_bi_ctx", "_tri", "_tri_ctx", "_quad", "_quad_ctx"),
    *("_memo", "_bi_memo", "_quad_memo"),
)


class LanguageModel:
    """Interpolated Witten–Bell 4-gram model over syllables (4-grams where the table has
    them, else trigram, bigram, unigram)."""

    def __init__(self, counts: Counts) -> None:
        self.uni = counts.uni
        total = sum(counts.uni.values())
        self._uni_den = total + _ADD * (len(counts.uni) + 1)
        end_total = sum(v for (_, right), v in counts.bi.items() if right == END)
        self._end = (end_total + _ADD) / (total + end_total + _ADD)
        self._bi: dict[tuple[str, str], float] = counts.bi
        self._bi_ctx: dict[str, list[float]] = {}
        for (left, _), value in counts.bi.items():
            entry = self._bi_ctx.setdefault(left, [0.0, 0.0])
            entry[0] += value
            entry[1] += min(1.0, value)
        self._tri: dict[tuple[str, str, str], float] = counts.tri
        self._tri_ctx: dict[tuple[str, str], list[float]] = _contexts(counts.tri, counts.bi)
        self._quad: dict[tuple[str, str, str, str], float] = counts.quad
        self._quad_ctx: dict[tuple[str, str, str], list[float]] = _contexts(counts.quad, counts.tri)
        self._memo: dict[tuple[str, str, str], float] = {}
        self._bi_memo: dict[tuple[str, str], float] = {}
        self._quad_memo: dict[tuple[str, str, str, str], float] = {}
        #: The counts are held by ``nlp.lattice``'s arrays only (``drop_counts``).
        self.counts_dropped = False

    def drop_counts(self) -> None:
        """Forget the counts, once ``nlp.lattice`` holds them as arrays that agree with them:
        the shipped model's dictionaries are about 70 MB of each worker's memory, and its
        decoding reads only the arrays (issue 12: a worker under 250 MB). The probabilities and
        the dictionary decoder refuse the model afterwards."""
        for name in _COUNTED:
            delattr(self, name)
        self.counts_dropped = True

    def unigram(self, syllable: str) -> float:
        if syllable == END:
            return self._end
        return (self.uni.get(syllable, 0.0) + _ADD) / self._uni_den

    def bigram(self, left: str, right: str) -> float:
        """P(right | left), interpolated down to the unigram."""
        key = (left, right)
        value = self._bi_memo.get(key)
        if value is not None:
            return value
        context = self._bi_ctx.get(left)
        value = self.unigram(right)
        if context is not None:
            total, types = context
            value = (self._bi.get(key, 0.0) + types * value) / (total + types)
        if len(self._bi_memo) > 500_000:
            self._bi_memo.clear()
        self._bi_memo[key] = value
        return value

    def prob(self, a: str, b: str, c: str) -> float:
        """P(c | a b), interpolated down to the unigram."""
        key = (a, b, c)
        value = self._memo.get(key)
        if value is not None:
            return value
        base = self.bigram(b, c)
        context = self._tri_ctx.get((a, b))
        if context is None:
            value = base
        else:
            total, types = context
            value = (self._tri.get(key, 0.0) + types * base) / (total + types)
        if len(self._memo) > 500_000:
            self._memo.clear()
        self._memo[key] = value
        return value

    def prob4(self, a: str, b: str, c: str, d: str) -> float:
        """P(d | a b c), interpolated down to the unigram."""
        key = (a, b, c, d)
        value = self._quad_memo.get(key)
        if value is not None:
            return value
        base = self.prob(b, c, d)
        context = self._quad_ctx.get((a, b, c))
        if context is None:
            value = base
        else:
            total, types = context
            value = (self._quad.get(key, 0.0) + types * base) / (total + types)
        if len(self._quad_memo) > 500_000:
            self._quad_memo.clear()
        self._quad_memo[key] = value
        return value


@dataclass(frozen=True, slots=True)
class Params:
    """What the build chose on the tuning half: thresholds of the confidence rule."""

    #: A restored syllable whose posterior is under this is shown as uncertain.
    uncertain_below: float = 0.9
    #: No suggestion when more than this share of the restored syllables is uncertain …
    floor_uncertain_share: float = 0.34
    #: … or more than this many syllables are uncertain (too many to confirm one by one).
    floor_uncertain_count: int = 6
    #: Candidates per place kept after the first (bigram) pass.
    keep: float = 1e-3
    #: Probabilities are raised to 1/temperature before forward–backward: n-gram products are
    #: overconfident, and a flatter posterior makes the confidence mean what it says.
    temperature: float = 1.0
    #: The level under which the upper confidence bound of a class's error rate must stay for
    #: the class to be safe (``Model.safe``; 1.0: every class is safe).
    class_bound: float = 1.0
    #: Log bonus of a syllable of a known name spelt by a run of capitalised words
    #: (``nlp.word_layer``; 0: no name layer).
    name_bonus: float = 0.0
    #: Log bonus of the syllables of a person's name at their places (surname, middle, given)
    #: in a run of capitalised words opened by a surname (``nlp.word_layer``; 0: none).
    person_bonus: float = 0.0


@dataclass(frozen=True, slots=True)
class Model:
    lm: LanguageModel
    params: Params
    meta: Mapping[str, object]
    #: Ambiguity classes (a word as typed, lower case) whose syllables may be shown as certain;
    #: None: every class.
    safe: frozenset[str] | None = None

    def uncertain(self, typed: str, confidence: float, options: int) -> bool:
        """Whether a restored syllable is shown as uncertain (``shown_uncertain``)."""
        return shown_uncertain(typed, confidence, options, self.params.uncertain_below, self.safe)


def shown_uncertain(
    typed: str, confidence: float, options: int, below: float, safe: frozenset[str] | None
) -> bool:
    """The confidence rule: a syllable with a choice of readings is certain only when its
    confidence reaches ``below`` and its class (``typed`` in lower case) is safe."""
    if options <= 1:
        return False
    return confidence < below or (safe is not None and typed.lower() not in safe)


def write_table(
    path: Path,
    counts: Counts,
    params: Params,
    meta: Mapping[str, object],
    safe: frozenset[str] | None = None,
) -> None:
    """Write counts and parameters as gzipped text (deterministic: sorted, fixed rounding)."""
    lines = ["#meta\t" + json.dumps(dict(meta), ensure_ascii=False, sort_keys=True)]
    lines.append("#params\t" + json.dumps(_params_dict(params), sort_keys=True))
    if safe is not None:
        lines.append("#safe\t" + json.dumps(sorted(safe), ensure_ascii=False))
    lines += (f"1\t{key}\t{value:.3g}" for key, value in sorted(counts.uni.items()))
    lines += (f"2\t{' '.join(key)}\t{value:.3g}" for key, value in sorted(counts.bi.items()))
    lines += (f"3\t{' '.join(key)}\t{value:.3g}" for key, value in sorted(counts.tri.items()))
    lines += (f"4\t{' '.join(key)}\t{value:.3g}" for key, value in sorted(counts.quad.items()))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(data)


def _params_dict(params: Params) -> dict[str, object]:
    return {name: getattr(params, name) for name in Params.__slots__}  # type: ignore[attr-defined]


def read_table(path: Path = TABLE) -> Model:
    """The table ``write_table`` wrote. Its n-gram lines are grouped by order (1 to 4, as
    written): each group is read at once (one split into fields, then the keys and values taken
    by stride), not line by line, which took most of a second of every process's first
    restoration (issue 12: a new worker's first petition). The groups are cut from the text as
    it is, without a list of its 570,000 lines: what reading leaves behind in the worker's
    memory grows with what it held at once."""
    with gzip.open(path, "rb") as raw:
        text = raw.read().decode("utf-8")
    meta: dict[str, object] = {}
    params = Params()
    safe: frozenset[str] | None = None
    counts = Counts()
    start = 0
    while text.startswith("#", start):
        line_end = text.find("\n", start)
        line_end = len(text) if line_end < 0 else line_end
        kind, value = text[start:line_end].split("\t", 1)
        if kind == "#meta":
            meta = json.loads(value)
        elif kind == "#params":
            params = Params(**json.loads(value))
        elif kind == "#safe":
            safe = frozenset(json.loads(value))
        start = line_end + 1
    end = len(text)
    while end > start and text[end - 1] == "\n":
        end -= 1
    grams: list[dict[tuple[str, ...], float]] = [
        counts.bi,  # type: ignore[list-item]
        counts.tri,  # type: ignore[list-item]
        counts.quad,  # type: ignore[list-item]
    ]
    # Each syllable and each value is kept once, however many n-grams hold it: read as they
    # are, the 570,000 n-grams held a string object for every syllable of each, and the table
    # took 310 MB of a worker (issue 12: a worker under 250 MB).
    syllables: dict[str, str] = {}
    numbers: dict[float, float] = {}
    for order in range(1, 5):
        stop = _group_end(text, start, end, order)
        if stop == start:
            continue
        group = text[start:stop]
        width = order + 2  # the order, the syllables, the value
        fields = group.replace(" ", "\t").replace("\n", "\t").split("\t")
        if len(fields) != width * (group.count("\n") + 1) or set(fields[::width]) != {str(order)}:
            raise ValueError(f"{path}: the lines of order {order} are not as written")
        del group
        floats = list(map(float, fields[width - 1 :: width]))
        values = map(numbers.setdefault, floats, floats)
        if order == 1:
            counts.uni = dict(zip(fields[1::width], values, strict=True))
            syllables.update((syllable, syllable) for syllable in counts.uni)
        else:
            columns = (fields[1 + i :: width] for i in range(order))
            keys = zip(*(map(syllables.setdefault, c, c) for c in columns), strict=True)
            grams[order - 2].update(zip(keys, values, strict=True))
        start = stop + 1
    if start < end:
        line = text.count("\n", 0, start) + 1
        raise ValueError(f"{path}: line {line} is of no known kind")
    return Model(LanguageModel(counts), params, meta, safe)


def _group_end(text: str, start: int, end: int, order: int) -> int:
    """Where the lines of ``order`` that begin at ``start`` end: before the first line of
    another kind (``start`` itself when the line there is of another kind), else at ``end``."""
    if not text.startswith(f"{order}\t", start):
        return start
    other = _OTHER_KIND[order].search(text, start, end)
    return end if other is None else other.start()


#: For each order, a line break followed by a line of another kind.
_OTHER_KIND = {order: re.compile(f"\n(?!{order}\t)") for order in range(1, 5)}


@built_once
def model() -> Model:
    """The shipped model, read once per process (about two seconds), its counts then held as
    ``nlp.lattice``'s arrays only (``LanguageModel.drop_counts``). ``read_table()`` reads a
    model that keeps them (the build, and the tests that look at the counts)."""
    from nlp import lattice

    with collection_paused():
        table = read_table()
        if lattice.tables(table.lm).usable:
            table.lm.drop_counts()
    give_back_freed_memory()
    return table


# ---------------------------------------------------------------------------------------------
# Decoding.


@dataclass(frozen=True, slots=True)
class Place:
    """One word to restore: its candidate syllables and a log bonus per candidate."""

    options: tuple[str, ...]
    bonus: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Choice:
    """The restored syllable of one place, its posterior, and the others best first."""

    best: str
    confidence: float
    ranked: tuple[tuple[str, float], ...]


def _bigram_pass(
    places: Sequence[Place], lm: LanguageModel, first: str, last: bool, power: float
) -> list[dict[str, float]]:
    """Posteriors under the bigram model (first pass, to prune the 4-gram lattice)."""
    alphas: list[dict[str, float]] = []
    previous: dict[str, float] = {first: 1.0}
    for place in places:
        alpha: dict[str, float] = {}
        for option in place.options:
            emit = math.exp(place.bonus.get(option, 0.0))
            alpha[option] = emit * sum(
                p * lm.bigram(left, option) ** power for left, p in previous.items()
            )
        norm = sum(alpha.values()) or 1.0
        previous = {key: value / norm for key, value in alpha.items()}
        alphas.append(previous)
    betas: list[dict[str, float]] = [dict.fromkeys(places[-1].options, 1.0)] * len(places)
    betas = list(betas)
    betas[-1] = {o: lm.bigram(o, END) ** power if last else 1.0 for o in places[-1].options}
    for index in range(len(places) - 2, -1, -1):
        after, nxt = betas[index + 1], places[index + 1]
        beta = {
            option: sum(
                lm.bigram(option, right) ** power
                * math.exp(nxt.bonus.get(right, 0.0))
                * after[right]
                for right in nxt.options
            )
            for option in places[index].options
        }
        norm = sum(beta.values()) or 1.0
        betas[index] = {key: value / norm for key, value in beta.items()}
    posteriors = []
    for alpha, beta in zip(alphas, betas, strict=True):
        joint = {key: alpha[key] * beta[key] for key in alpha}
        norm = sum(joint.values()) or 1.0
        posteriors.append({key: value / norm for key, value in joint.items()})
    return posteriors


def decode(
    places: Sequence[Place],
    model_: Model | None = None,
    *,
    starts: bool = True,
    ends: bool = True,
) -> list[Choice]:
    """Posterior of every candidate at every place under the 4-gram model (forward–backward
    over triples of syllables), after pruning candidates the bigram pass finds negligible.

    ``starts``/``ends``: the run starts/ends the text or a clause (punctuation); otherwise it
    touches a word the model cannot read, and nothing is assumed about that side.

    Computed over arrays by ``nlp.lattice`` (the same sums, vectorised); by
    ``decode_with_dicts`` when those arrays cannot stand in for the model.
    """
    from nlp import lattice

    current = model_ or model()
    # A candidate listed twice is one candidate (the arrays need each once).
    places = [
        place
        if len(set(place.options)) == len(place.options)
        else Place(tuple(dict.fromkeys(place.options)), place.bonus)
        for place in places
    ]
    fast = lattice.decode(places, current, starts=starts, ends=ends)
    if fast is not None:
        return fast
    return decode_with_dicts(places, current, starts=starts, ends=ends)


def decode_with_dicts(
    places: Sequence[Place],
    model_: Model | None = None,
    *,
    starts: bool = True,
    ends: bool = True,
) -> list[Choice]:
    """Posterior of every candidate at every place under the 4-gram model (forward–backward
    over triples of syllables), after pruning candidates the bigram pass finds negligible.

    ``starts``/``ends``: the run starts/ends the text or a clause (punctuation); otherwise it
    touches a word the model cannot read, and nothing is assumed about that side.
    """
    if not places:
        return []
    current = model_ or model()
    if current.lm.counts_dropped:
        raise ValueError("this model's counts are held as arrays only: decode it with decode()")
    lm, keep = current.lm, current.params.keep
    power = 1.0 / current.params.temperature
    left = START if starts else UNKNOWN
    first = _bigram_pass(places, lm, left, ends, power)
    pruned: list[Place] = []
    for place, post in zip(places, first, strict=True):
        options = tuple(o for o in place.options if post.get(o, 0.0) >= keep) or place.options
        pruned.append(Place(options, place.bonus))
    emits = [{o: math.exp(power * p.bonus.get(o, 0.0)) for o in p.options} for p in pruned]
    # Forward: states are the last three syllables (START/UNKNOWN before the run).
    # (START, START, START) has no 4-gram or trigram context: P falls back to
    # P(option | START); UNKNOWN has none at all: P falls back to the unigram.
    # Most histories (a, b, c) have no 4-gram context: then P(d | a b c) is P(d | b c), the
    # same for every a. Such histories are summed per (b, c) before the candidates are weighed
    # (forward), and their backward value is computed once per (b, c): the same sums, fewer
    # lookups (the figures may differ from weighing each history apart by rounding only).
    prob4, prob, quad_ctx = lm.prob4, lm.prob, lm._quad_ctx
    alphas: list[dict[tuple[str, str, str], float]] = []
    state: dict[tuple[str, str, str], float] = {(left, left, left): 1.0}
    for index, place in enumerate(pruned):
        alpha: dict[tuple[str, str, str], float] = {}
        emit = emits[index]
        options = place.options
        shared: dict[tuple[str, str], float] = {}
        for history, p in state.items():
            a, b, c = history
            if history in quad_ctx:
                for option in options:
                    key = (b, c, option)
                    value = p * prob4(a, b, c, option) ** power * emit[option]
                    alpha[key] = alpha.get(key, 0.0) + value
            else:
                shared[(b, c)] = shared.get((b, c), 0.0) + p
        for (b, c), p in shared.items():
            for option in options:
                key = (b, c, option)
                alpha[key] = alpha.get(key, 0.0) + p * prob(b, c, option) ** power * emit[option]
        norm = sum(alpha.values()) or 1.0
        state = {key: value / norm for key, value in alpha.items()}
        alphas.append(state)
    # Backward.
    betas: list[dict[tuple[str, str, str], float]] = [{} for _ in pruned]
    betas[-1] = {h: prob4(*h, END) ** power if ends else 1.0 for h in alphas[-1]}
    for index in range(len(pruned) - 2, -1, -1):
        nxt, emit, after = pruned[index + 1], emits[index + 1], betas[index + 1]
        beta: dict[tuple[str, str, str], float] = {}
        by_pair: dict[tuple[str, str], float] = {}
        for history in alphas[index]:
            a, b, c = history
            if history in quad_ctx:
                beta[history] = sum(
                    prob4(a, b, c, option) ** power * emit[option] * after[(b, c, option)]
                    for option in nxt.options
                )
                continue
            value = by_pair.get((b, c))
            if value is None:
                value = by_pair[(b, c)] = sum(
                    prob(b, c, option) ** power * emit[option] * after[(b, c, option)]
                    for option in nxt.options
                )
            beta[history] = value
        norm = sum(beta.values()) or 1.0
        betas[index] = {key: value / norm for key, value in beta.items()}
    choices: list[Choice] = []
    for alpha, beta in zip(alphas, betas, strict=True):
        marginal: dict[str, float] = {}
        for history, value in alpha.items():
            last = history[-1]
            marginal[last] = marginal.get(last, 0.0) + value * beta.get(history, 0.0)
        norm = sum(marginal.values()) or 1.0
        ranked = rank((k, v / norm) for k, v in marginal.items())
        choices.append(Choice(ranked[0][0], ranked[0][1], ranked))
    return choices


#: Posteriors equal to this many significant digits are ties (``rank``).
TIE_DIGITS = 12


def _tie_key(item: tuple[str, float]) -> tuple[float, str]:
    return (-float(f"{item[1]:.{TIE_DIGITS - 1}e}"), item[0])


def rank(posteriors: Iterable[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """Candidates with their posteriors, best first; posteriors equal to ``TIE_DIGITS``
    significant digits are ties, ranked by the syllable. Two candidates the model cannot tell
    apart (``chắt`` and ``chật`` before a word neither was seen with) then come in the same
    order whatever the order in which a decoder summed their paths (sums taken in another
    order differ in the last digits)."""
    return tuple(sorted(posteriors, key=_tie_key))


def runs_of(words: Iterable[str | None]) -> Iterable[list[str]]:
    """Runs of consecutive syllables; None breaks a run."""
    run: list[str] = []
    for word in words:
        if word is None:
            if run:
                yield run
            run = []
        else:
            run.append(word)
    if run:
        yield run
