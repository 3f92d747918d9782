"""``nlp.restoration.decode`` over arrays: the same forward–backward, vectorised with numpy.

The n-gram counts of a ``LanguageModel`` are copied once into sorted arrays of integer keys
(syllables as integer ids; a key of an n-gram is its ids in base V), so the probabilities a
line needs are looked up all at once (``numpy.searchsorted``) instead of one dictionary lookup
per history and candidate. The lattice is dense: at place i the forward values are a tensor
over (candidates of i-2, i-1, i), and a transition multiplies it with the tensor of
P(d | a b c) ** power over the four places. The probabilities are those of
``LanguageModel.bigram``/``prob``/``prob4`` (the same Witten–Bell formulas, evaluated in the same
order), the emissions and pruning those of the plain decoder: the results are the same up to
the rounding of sums taken in another order (``tests/test_nlp_check_reference.py``).

The arrays are checked against the model's own methods on a sample of n-grams when they are
built; if the model computes something else (another smoothing), ``Tables.usable`` is False
and ``decode`` returns None: the caller falls back to the dictionary decoder.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nlp import restoration
from nlp.restoration import END, START, UNKNOWN, Choice, LanguageModel, Place

Ids = NDArray[np.int64]
Floats = NDArray[np.float64]
Flags = NDArray[np.bool_]


class _Keyed:
    """Sorted integer keys with one or two float values each."""

    def __init__(self, keys: Ids, first: Floats, second: Floats | None = None) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.first = first[order]
        self.second = None if second is None else second[order]
        self.empty = len(self.keys) == 0

    def find(self, query: Ids) -> tuple[Flags, Floats, Floats | None]:
        """Whether each key is present, its first value (0.0 when absent) and its second
        (1.0 when absent, so that a formula divided by it stays finite)."""
        if self.empty:
            zeros = np.zeros(query.shape)
            return np.zeros(query.shape, dtype=bool), zeros, np.ones(query.shape)
        index = np.searchsorted(self.keys, query)
        np.minimum(index, len(self.keys) - 1, out=index)
        hit = self.keys[index] == query
        first = np.where(hit, self.first[index], 0.0)
        second = None if self.second is None else np.where(hit, self.second[index], 1.0)
        return hit, first, second


class Tables:
    """A ``LanguageModel``'s counts as arrays (see the module's docstring)."""

    def __init__(self, lm: LanguageModel) -> None:
        ids: dict[str, int] = {}
        for key in itertools.chain(lm.uni, lm._bi, lm._tri, lm._quad):
            for syllable in (key,) if isinstance(key, str) else key:
                if syllable not in ids:
                    ids[syllable] = len(ids)
        for syllable in (START, END, UNKNOWN):
            ids.setdefault(syllable, len(ids))
        self.ids = ids
        #: The id of every syllable the model has never seen (they all weigh the same).
        self.unseen = len(ids)
        size = self.size = len(ids) + 1
        self.usable = size**4 < 2**62
        if not self.usable:
            return
        unseen_word = "\x00"
        self.uni = np.array([lm.unigram(s) for s in ids] + [lm.unigram(unseen_word)])
        self.bi_total = np.ones(size)
        self.bi_types = np.zeros(size)
        self.bi_has = np.zeros(size, dtype=bool)
        for left, (total, types) in lm._bi_ctx.items():
            self.bi_total[ids[left]] = total
            self.bi_types[ids[left]] = types
            self.bi_has[ids[left]] = True
        self.bi = self._counts(lm._bi.items())
        self.tri = self._counts(lm._tri.items())
        self.quad = self._counts(lm._quad.items())
        self.tri_ctx = self._contexts(lm._tri_ctx.items())
        self.quad_ctx = self._contexts(lm._quad_ctx.items())
        self.usable = self._agrees(lm)

    def _key(self, columns: Ids) -> Ids:
        key = columns[:, 0].copy()
        for column in range(1, columns.shape[1]):
            key = key * self.size + columns[:, column]
        return key

    def _columns(self, keys: Iterable[tuple[str, ...]], order: int) -> Ids:
        flat = [self.ids[s] for key in keys for s in key]
        return np.array(flat, dtype=np.int64).reshape(-1, order)

    def _counts(self, items: Any) -> _Keyed:
        pairs = list(items)
        order = len(pairs[0][0]) if pairs else 1
        keys = self._key(self._columns((k for k, _ in pairs), order))
        return _Keyed(keys, np.array([v for _, v in pairs], dtype=np.float64))

    def _contexts(self, items: Any) -> _Keyed:
        pairs = list(items)
        order = len(pairs[0][0]) if pairs else 1
        keys = self._key(self._columns((k for k, _ in pairs), order))
        totals = np.array([v[0] for _, v in pairs], dtype=np.float64)
        types = np.array([v[1] for _, v in pairs], dtype=np.float64)
        return _Keyed(keys, totals, types)

    def id_of(self, syllable: str) -> int:
        return self.ids.get(syllable, self.unseen)

    # Probabilities of every combination of candidates (the formulas of LanguageModel).

    def bigram(self, left: Ids, right: Ids) -> Floats:
        """P(right | left) for every pair: shape (len(left), len(right))."""
        unigram = self.uni[right][None, :]
        total = self.bi_total[left][:, None]
        types = self.bi_types[left][:, None]
        _, count, _ = self.bi.find(left[:, None] * self.size + right[None, :])
        value = (count + types * unigram) / (total + types)
        return np.where(self.bi_has[left][:, None], value, unigram)

    def trigram(self, a: Ids, b: Ids, c: Ids, base: Floats) -> Floats:
        """P(c | a b) for every triple, from ``base`` = ``bigram(b, c)``: shape (A, B, C)."""
        context = a[:, None] * self.size + b[None, :]
        hit, total, types = self.tri_ctx.find(context)
        if not hit.any():
            return np.broadcast_to(base[None, :, :], (len(a), len(b), len(c)))
        assert types is not None
        _, count, _ = self.tri.find(context[:, :, None] * self.size + c[None, None, :])
        value = (count + types[:, :, None] * base[None, :, :]) / (total + types)[:, :, None]
        return np.where(hit[:, :, None], value, base[None, :, :])

    def fourgram(self, a: Ids, b: Ids, c: Ids, d: Ids, base: Floats) -> Floats:
        """P(d | a b c) for every quadruple, from ``base`` = ``trigram(b, c, d)``."""
        context = (a[:, None, None] * self.size + b[None, :, None]) * self.size + c[None, None, :]
        hit, total, types = self.quad_ctx.find(context)
        shape = (len(a), len(b), len(c), len(d))
        if not hit.any():
            return np.broadcast_to(base[None], shape)
        assert types is not None
        where = np.nonzero(hit)
        keys = context[where][:, None] * self.size + d[None, :]
        _, count, _ = self.quad.find(keys)
        rows = base[where[1], where[2]]
        value = np.array(np.broadcast_to(base[None], shape))
        value[where] = (count + types[where][:, None] * rows) / (total[where] + types[where])[
            :, None
        ]
        return value

    def _agrees(self, lm: LanguageModel) -> bool:
        """Whether the arrays give the model's own probabilities on a sample of n-grams."""
        rng = np.random.default_rng(0)
        words = list(self.ids)
        sample: list[tuple[str, ...]] = []
        for table in (lm._bi, lm._tri, lm._quad):
            keys = list(table)
            if keys:
                sample += [keys[i] for i in rng.integers(0, len(keys), 60)]
        for _ in range(60):
            picks = [words[i] for i in rng.integers(0, len(words), 4)]
            sample += [tuple(picks[:2]), tuple(picks[:3]), tuple(picks)]
        # a suffix of a seen 4-gram after another history, and a syllable never seen
        sample += [(k[0], k[1], k[2], "\x00") for k in list(lm._quad)[:20]]
        for gram in sample:
            arrays = [np.array([self.id_of(s)], dtype=np.int64) for s in gram]
            two = self.bigram(arrays[-2], arrays[-1])
            if len(gram) == 2:
                got, expected = two[0, 0], lm.bigram(*gram)
            else:
                three = self.trigram(arrays[-3], arrays[-2], arrays[-1], two)
                if len(gram) == 3:
                    got, expected = three[0, 0, 0], lm.prob(*gram)
                else:
                    four = self.fourgram(arrays[0], arrays[1], arrays[2], arrays[3], three)
                    got, expected = four[0, 0, 0, 0], lm.prob4(*gram)
            if not math.isclose(float(got), expected, rel_tol=1e-12, abs_tol=0.0):
                return False
        return True


_TABLES: weakref.WeakKeyDictionary[LanguageModel, Tables] = weakref.WeakKeyDictionary()


def tables(lm: LanguageModel) -> Tables:
    """The arrays of a model, built on first use (about half a second for the shipped one)."""
    found = _TABLES.get(lm)
    if found is None:
        found = _TABLES[lm] = Tables(lm)
    return found


def _normalised(values: Floats) -> Floats:
    norm = float(values.sum())
    return values / (norm or 1.0)


def _emissions(place: Place, scale: float) -> Floats:
    if not place.bonus:
        return np.ones(len(place.options))
    return np.array([math.exp(scale * place.bonus.get(o, 0.0)) for o in place.options])


def decode(
    places: Sequence[Place], model_: restoration.Model, *, starts: bool, ends: bool
) -> list[Choice] | None:
    """``restoration.decode`` (see there), or None when the arrays cannot stand in for the
    model (``Tables.usable``) or a place repeats a candidate."""
    if not places:
        return []
    if any(len(set(place.options)) != len(place.options) for place in places):
        return None
    lm, params = model_.lm, model_.params
    table = tables(lm)
    if not table.usable:
        return None
    power = 1.0 / params.temperature
    left = START if starts else UNKNOWN
    ids = [np.array([table.id_of(o) for o in p.options], dtype=np.int64) for p in places]
    start = np.array([table.id_of(left)], dtype=np.int64)
    end = np.array([table.id_of(END)], dtype=np.int64)

    # First pass: bigram posteriors, to prune the candidates.
    pairs = [table.bigram(start, ids[0])]
    pairs += [table.bigram(ids[i - 1], ids[i]) for i in range(1, len(places))]
    powered = [pair**power for pair in pairs]
    emits = [_emissions(place, 1.0) for place in places]
    alphas: list[Floats] = []
    previous = np.ones(1)
    for index in range(len(places)):
        previous = _normalised(emits[index] * (previous @ powered[index]))
        alphas.append(previous)
    after = table.bigram(ids[-1], end)[:, 0] ** power if ends else np.ones(len(ids[-1]))
    kept: list[Ids] = []
    for index in range(len(places) - 1, -1, -1):
        if index < len(places) - 1:
            after = _normalised(powered[index + 1] @ (emits[index + 1] * after))
        posterior = _normalised(alphas[index] * after)
        keep = np.flatnonzero(posterior >= params.keep)
        kept.append(keep if len(keep) else np.arange(len(ids[index])))
    kept.reverse()

    # Second pass: 4-gram forward–backward over the kept candidates.
    options = [tuple(places[i].options[k] for k in keep) for i, keep in enumerate(kept)]
    cand = [ids[i][keep] for i, keep in enumerate(kept)]
    emit4 = [_emissions(place, power)[keep] for place, keep in zip(places, kept, strict=True)]
    two = [pairs[0][:, kept[0]]]
    two += [pairs[i][np.ix_(kept[i - 1], kept[i])] for i in range(1, len(places))]
    padded = [start, start, start, *cand, end]
    steps: list[Floats] = []
    for index in range(len(places) + 1):
        a, b, c, d = padded[index : index + 4]
        base2 = two[index] if index < len(places) else table.bigram(c, d)
        three = table.trigram(b, c, d, base2)
        steps.append(table.fourgram(a, b, c, d, three) ** power)
    forward: list[Floats] = []
    state = np.ones((1, 1, 1))
    for index in range(len(places)):
        state = _normalised(np.einsum("abc,abcd->bcd", state, steps[index]) * emit4[index])
        forward.append(state)
    backward: list[Floats] = [np.empty(0)] * len(places)
    last = steps[-1][..., 0] if ends else np.ones(forward[-1].shape)
    backward[-1] = last
    for index in range(len(places) - 2, -1, -1):
        weighted = emit4[index + 1] * backward[index + 1]
        backward[index] = _normalised(np.einsum("abcd,bcd->abc", steps[index + 1], weighted))
    choices: list[Choice] = []
    for index in range(len(places)):
        marginal = _normalised((forward[index] * backward[index]).sum(axis=(0, 1)))
        ranked = tuple(
            sorted(
                zip(options[index], marginal.tolist(), strict=True),
                key=lambda kv: (-kv[1], kv[0]),
            )
        )
        choices.append(Choice(ranked[0][0], ranked[0][1], ranked))
    return choices
