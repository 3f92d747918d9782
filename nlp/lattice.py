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
from nlp.heap import collection_paused, give_back_freed_memory
from nlp.loading import BUILDING
from nlp.restoration import END, START, UNKNOWN, Choice, LanguageModel, Place
from nlp.syllables import Inventory

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
        index = self.keys.searchsorted(query)  # (the method: no wrapper call per lookup)
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
        #: Every 4-gram context (a, b, c) ends in a trigram context (b, c) (as when the counts
        #: come from runs of text): only those pairs need a look for a 4-gram context.
        self.nested = bool(self.tri_ctx.find(self.quad_ctx.keys % (size * size))[0].all())
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

    # Probabilities of every combination of candidates (the formulas of LanguageModel),
    # for every step of a run at once (one lookup per table).

    def _flat(self, *columns: Ids) -> Ids:
        """Keys of every combination of the columns' ids (row-major), flattened."""
        key = columns[0]
        for column in columns[1:]:
            key = (key[:, None] * self.size + column[None, :]).ravel()
        return key

    def bigrams(self, steps: Sequence[tuple[Ids, Ids]]) -> list[Floats]:
        """``bigram(left, right)`` of every step."""
        keys = np.concatenate([self._flat(left, right) for left, right in steps])
        left, right = np.divmod(keys, self.size)
        unigram = self.uni[right]
        types = self.bi_types[left]
        _, count, _ = self.bi.find(keys)
        value = (count + types * unigram) / (self.bi_total[left] + types)
        value = np.where(self.bi_has[left], value, unigram)
        parts: list[Floats] = []
        offset = 0
        for left, right in steps:
            end = offset + len(left) * len(right)
            parts.append(value[offset:end].reshape(len(left), len(right)))
            offset = end
        return parts

    def transitions(
        self, windows: Sequence[tuple[Ids, Ids, Ids, Ids]], bases: Sequence[Floats]
    ) -> list[Floats]:
        """P(d | a b c) of every window (a, b, c, d), from ``base`` = ``bigram(c, d)``: a
        tensor (A, B, C, D), or (B, C, D) when no history (a, b, c) has a 4-gram context (the
        same for every a), or ``base`` itself (C, D) when no (b, c) has a trigram context
        either.

        Only the histories with a context of their own are looked up: the pairs (b, c) with a
        trigram context, and the triples (a, b, c) with a 4-gram context among those (when
        every 4-gram context ends in a trigram context, ``nested``; else among all)."""
        size = self.size
        pairs = [self._flat(b, c) for _, b, c, _ in windows]
        hit, total, types = self.tri_ctx.find(np.concatenate(pairs))
        assert types is not None
        starts = list(itertools.accumulate((len(keys) for keys in pairs[:-1]), initial=0))
        seen = [
            hit[start : start + len(keys)].nonzero()[0]
            for start, keys in zip(starts, pairs, strict=True)
        ]
        threes: list[Floats] = list(bases)
        found = [i for i, rows in enumerate(seen) if len(rows)]
        if found:
            queries = [(pairs[i][seen[i]][:, None] * size + windows[i][3][None, :]) for i in found]
            _, counts, _ = self.tri.find(np.concatenate([q.ravel() for q in queries]))
            offset = 0
            for i, query in zip(found, queries, strict=True):
                _, _, c, d = windows[i]
                rows = seen[i]
                count = counts[offset : offset + query.size].reshape(query.shape)
                offset += query.size
                tot = total[starts[i] + rows][:, None]
                typ = types[starts[i] + rows][:, None]
                value = bases[i][None].repeat(len(pairs[i]) // len(c), axis=0)
                value.reshape(-1, len(d))[rows] = (count + typ * bases[i][rows % len(c)]) / (
                    tot + typ
                )
                threes[i] = value
        fours: list[Floats] = list(threes)
        histories: list[Ids] = []
        places: list[Ids] = []
        for (a, _, _, _), keys, rows in zip(windows, pairs, seen, strict=True):
            if not self.nested:
                rows = np.arange(len(keys))
            histories.append((a[:, None] * size * size + keys[rows][None, :]).ravel())
            places.append((np.arange(len(a))[:, None] * len(keys) + rows[None, :]).ravel())
        hit, total, types = self.quad_ctx.find(np.concatenate(histories))
        assert types is not None
        starts = list(itertools.accumulate((len(keys) for keys in histories[:-1]), initial=0))
        where = [
            hit[start : start + len(keys)].nonzero()[0]
            for start, keys in zip(starts, histories, strict=True)
        ]
        found = [i for i, rows in enumerate(where) if len(rows)]
        if not found:
            return fours
        queries = [histories[i][where[i]][:, None] * size + windows[i][3][None, :] for i in found]
        _, counts, _ = self.quad.find(np.concatenate([q.ravel() for q in queries]))
        offset = 0
        for i, query in zip(found, queries, strict=True):
            width = len(windows[i][3])
            count = counts[offset : offset + query.size].reshape(query.shape)
            offset += query.size
            rows = places[i][where[i]]
            tot = total[starts[i] + where[i]][:, None]
            typ = types[starts[i] + where[i]][:, None]
            a, b, c, _ = windows[i]
            three = threes[i]
            if three.ndim == 2:
                three = three[None].repeat(len(b), axis=0)
            value = three[None].repeat(len(a), axis=0)
            flat = value.reshape(-1, width)
            base = three.reshape(-1, width)[rows % len(pairs[i])]
            flat[rows] = (count + typ * base) / (tot + typ)
            fours[i] = value
        return fours

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
        unseen = np.array([self.unseen], dtype=np.int64)
        for gram in sample:
            arrays = [np.array([self.id_of(s)], dtype=np.int64) for s in gram]
            (two,) = self.bigrams([(arrays[-2], arrays[-1])])
            if len(gram) == 2:
                got, expected = two[0, 0], lm.bigram(*gram)
            else:
                window = (
                    (arrays[0], arrays[1], arrays[2], arrays[3])
                    if len(gram) == 4
                    else (unseen, arrays[0], arrays[1], arrays[2])
                )
                (four,) = self.transitions([window], [two])
                expected = lm.prob4(*gram) if len(gram) == 4 else lm.prob(*gram)
                got = np.broadcast_to(four, (1, 1, 1, 1))[0, 0, 0, 0]
            if not math.isclose(float(got), expected, rel_tol=1e-12, abs_tol=0.0):
                return False
        return True


_TABLES: weakref.WeakKeyDictionary[LanguageModel, Tables] = weakref.WeakKeyDictionary()


def tables(lm: LanguageModel) -> Tables:
    """The arrays of a model, built on first use (about half a second for the shipped one)."""
    found = _TABLES.get(lm)
    if found is None:
        with BUILDING:  # another thread building them: wait for its arrays
            found = _TABLES.get(lm)
            if found is None:
                with collection_paused():
                    found = _TABLES[lm] = Tables(lm)
                give_back_freed_memory()
    return found


#: ``ndarray.sum`` without its Python wrapper (the same reduction: the same result).
_SUM = np.add.reduce


def _normalised(values: Floats) -> Floats:
    norm = float(_SUM(values, axis=None))
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
    pairs = table.bigrams(list(itertools.pairwise([start, *ids, end])))
    powered = [pair**power for pair in pairs]
    emits = [_emissions(place, 1.0) for place in places]
    alphas: list[Floats] = []
    previous = np.ones(1)
    for index in range(len(places)):
        previous = _normalised(emits[index] * (previous @ powered[index]))
        alphas.append(previous)
    after = powered[-1][:, 0] if ends else np.ones(len(ids[-1]))
    kept: list[Ids] = []
    for index in range(len(places) - 1, -1, -1):
        if index < len(places) - 1:
            after = _normalised(powered[index + 1] @ (emits[index + 1] * after))
        posterior = _normalised(alphas[index] * after)
        keep = (posterior >= params.keep).nonzero()[0]
        kept.append(keep if len(keep) else np.arange(len(ids[index])))
    kept.reverse()

    # Second pass: 4-gram forward–backward over the kept candidates.
    options = [tuple(places[i].options[k] for k in keep) for i, keep in enumerate(kept)]
    cand = [ids[i][keep] for i, keep in enumerate(kept)]
    emit4 = [_emissions(place, power)[keep] for place, keep in zip(places, kept, strict=True)]
    whole = np.zeros(1, dtype=np.int64)
    picks = [*kept, whole]
    two = [pairs[0][:, kept[0]]]
    two += [pairs[i][picks[i - 1]][:, picks[i]] for i in range(1, len(places) + 1)]
    padded = [start, start, start, *cand, end]
    windows = [
        (padded[i], padded[i + 1], padded[i + 2], padded[i + 3]) for i in range(len(places) + 1)
    ]
    steps = [step**power for step in table.transitions(windows, two)]
    forward: list[Floats] = []
    state = np.ones((1, 1, 1))
    for index in range(len(places)):
        step = steps[index]
        if step.ndim == 4:
            state = np.einsum("abc,abcd->bcd", state, step)
        else:  # the same for every a: sum the histories over a first
            state = state.sum(axis=0)[:, :, None] * step
        state = _normalised(state * emit4[index])
        forward.append(state)
    backward: list[Floats] = [np.empty(0)] * len(places)
    shape = forward[-1].shape
    backward[-1] = np.ones(shape) * steps[-1][..., 0] if ends else np.ones(shape)
    for index in range(len(places) - 2, -1, -1):
        weighted = emit4[index + 1] * backward[index + 1]
        step = steps[index + 1]
        if step.ndim == 4:
            beta = np.einsum("abcd,bcd->abc", step, weighted)
        else:
            beta = (step * weighted).sum(axis=-1)[None].repeat(len(forward[index]), axis=0)
        backward[index] = _normalised(beta)
    choices: list[Choice] = []
    for index in range(len(places)):
        marginal = _normalised((forward[index] * backward[index]).sum(axis=(0, 1)))
        ranked = restoration.rank(zip(options[index], marginal.tolist(), strict=True))
        choices.append(Choice(ranked[0][0], ranked[0][1], ranked))
    return choices


class InventoryTables:
    """The syllable bigrams of an ``Inventory`` (``nlp.syllables``) as arrays: the judging
    Viterbi pass of ``nlp.diacritics`` weighs every pair of candidates of a text at once."""

    def __init__(self, inv: Inventory) -> None:
        ids: dict[str, int] = {}
        for syllable in itertools.chain(inv.counts, inv._unigram, inv.bigrams):
            ids.setdefault(syllable, len(ids))
        for right in inv.bigrams.values():
            for syllable in right:
                ids.setdefault(syllable, len(ids))
        for syllable in (START, END):
            ids.setdefault(syllable, len(ids))
        self.ids = ids
        self.unseen = len(ids)
        size = self.size = len(ids) + 1
        self.uni = np.array([inv._unigram.get(s, inv._unknown) for s in ids] + [inv._unknown])
        self.followers = np.zeros(size)
        self.left_total = np.ones(size)
        for left, followers in inv._followers.items():
            self.followers[ids[left]] = followers
            self.left_total[ids[left]] = inv._left_total[left]
        keys = [ids[left] * size + ids[right] for left, row in inv.bigrams.items() for right in row]
        seen = [value for row in inv.bigrams.values() for value in row.values()]
        self.pairs = _Keyed(np.array(keys, dtype=np.int64), np.array(seen, dtype=np.float64))

    def id_of(self, syllable: str) -> int:
        return self.ids.get(syllable, self.unseen)

    def log_bigrams(self, steps: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[Floats]:
        """``Inventory.log_bigram`` of every (left, right) of each step's ids, as one matrix
        (left × right) per step, looked up all at once."""
        lefts = [left for lhs, rhs in steps for left in lhs for _ in rhs]
        rights = [right for lhs, rhs in steps for _ in lhs for right in rhs]
        left = np.array(lefts, dtype=np.int64)
        right = np.array(rights, dtype=np.int64)
        unigram = self.uni[right]
        followers = self.followers[left]
        _, seen, _ = self.pairs.find(left * self.size + right)
        value = np.where(
            followers > 0,
            (seen + followers * unigram) / (self.left_total[left] + followers),
            unigram,
        )
        logs = np.log(value)
        matrices: list[Floats] = []
        offset = 0
        for lhs, rhs in steps:
            count = len(lhs) * len(rhs)
            matrices.append(logs[offset : offset + count].reshape(len(lhs), len(rhs)))
            offset += count
        return matrices


_INVENTORIES: list[tuple[Inventory, InventoryTables]] = []


def inventory_tables(inv: Inventory) -> InventoryTables:
    """The arrays of an inventory, built on first use (the last few are kept)."""
    for known, found in _INVENTORIES:
        if known is inv:
            return found
    with BUILDING:  # another thread building them: wait for its arrays
        for known, found in _INVENTORIES:
            if known is inv:
                return found
        found = InventoryTables(inv)
        _INVENTORIES.insert(0, (inv, found))
        del _INVENTORIES[4:]
    return found
