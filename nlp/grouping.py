"""P2: near-duplicate petitions into groups — average-link clustering, proposed by a sparse
graph and decided exactly.

The graph holds the pairs of petitions that blocking found scoring at least the threshold
(``nlp.similarity``); it only proposes merges: two groups linked by such a pair, the best pair
first. A merge is decided on the mean score over all the pairs across the two groups (average
link, UPGMA), computed exactly from their vector sums: for unit vectors the mean cosine of the
pairs is the dot product of the sums divided by both sizes. So a borderline pair cannot chain
two issues into one group (as connected components would), and a large issue is not split just
because blocking scored only some of its pairs.

A group that names places never merges with one that names only other places (flooding on Lê
Lợi and flooding on Hàm Nghi are two issues, whatever a petition without a place says about
both); groups that share a place have their mean raised by ``same_place``.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable, Hashable, Iterable, Sequence
from itertools import repeat
from operator import itemgetter, mul
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)

#: A vector: feature ids and weights (a unit vector for one petition, a sum for a group).
Vector = tuple["array[int]", "array[float]"]

#: Features kept in the vector sum of a group (the heaviest): bounds memory and time for large
#: groups; what is dropped weighs little in the mean.
SUM_KEPT = 400


def average_link(
    vectors: Sequence[Vector],
    edges: Iterable[tuple[int, int, float]],
    places: Sequence[frozenset[str]],
    threshold: float,
    same_place: Callable[[float], float],
) -> list[list[int]]:
    """Groups of two or more of the items (positions in ``vectors``), largest first.

    ``edges`` are the scored pairs ``(i, j, score)`` that may start a merge; ``places[i]`` are
    the places item ``i`` names (empty when none).
    """
    return _Clustering(vectors, places, threshold, same_place).run(edges)


class _Clustering:
    def __init__(
        self,
        vectors: Sequence[Vector],
        places: Sequence[frozenset[str]],
        threshold: float,
        same_place: Callable[[float], float],
    ) -> None:
        size = len(vectors)
        self.vectors = vectors
        self.threshold = threshold
        self.same_place = same_place
        self.members: list[list[int]] = [[i] for i in range(size)]
        self.named: list[frozenset[str]] = list(places)
        #: The vector sums of groups of two or more (feature id -> weight).
        self.sums: dict[int, dict[int, float]] = {}
        #: Groups linked by a scored pair, and the best score of such a pair: what proposes a
        #: merge (the exact mean decides it).
        self.links: list[dict[int, float]] = [{} for _ in range(size)]
        self.heap: list[tuple[float, int, int]] = []

    def run(self, edges: Iterable[tuple[int, int, float]]) -> list[list[int]]:
        node = list(range(len(self.links)))  # one int object per petition, not one per edge
        for i, j, score in edges:
            if i != j and score > self.links[i].get(j, 0.0):
                self.links[node[i]][node[j]] = self.links[node[j]][node[i]] = score
        # The links in order, best first: the initial ones sorted once, those a merge makes
        # in a heap; the next proposal is the better of their heads (the order a heap of all
        # of them would give, at a fraction of its cost).
        initial = sorted(
            (-score, i, j)
            for i, row in enumerate(self.links)
            for j, score in row.items()
            if i < j and score >= self.threshold
        )
        self.heap = []
        heap = self.heap
        at, count = 0, len(initial)
        while at < count or heap:
            if heap and (at == count or heap[0] < initial[at]):
                negative, a, b = heapq.heappop(heap)
            else:
                negative, a, b = initial[at]
                at += 1
            if self.links[a].get(b) != -negative:
                continue  # stale: a group merged away or linked better since
            del self.links[a][b], self.links[b][a]
            if self._compatible(a, b) and self._mean(a, b) >= self.threshold:
                self._merge(*((a, b) if len(self.links[a]) >= len(self.links[b]) else (b, a)))
        groups = [sorted(group) for group in self.members if len(group) >= 2]
        groups.sort(key=lambda group: (-len(group), group[0]))
        return groups

    def _compatible(self, a: int, b: int) -> bool:
        return not self.named[a] or not self.named[b] or bool(self.named[a] & self.named[b])

    def _sum(self, group: int) -> dict[int, float]:
        found = self.sums.get(group)
        if found is None:
            ids, weights = self.vectors[group]
            found = dict(zip(ids, weights, strict=True))
        return found

    def _features(self, group: int) -> tuple[Iterable[int], Iterable[float], int]:
        """The features and weights of a group's vector sum (a petition's vector when alone),
        and how many."""
        found = self.sums.get(group)
        if found is None:
            ids, weights = self.vectors[group]
            return ids, weights, len(ids)
        return found.keys(), found.values(), len(found)

    def _mean(self, a: int, b: int) -> float:
        """The mean score over all pairs across two groups."""
        large = b  # the other is read feature by feature: the one with fewer features
        ids, weights, size = self._features(a)
        if size > len(self.sums.get(b) or self.vectors[b][0]):
            large = a
            ids, weights, _ = self._features(b)
        lookup = self._sum(large)
        dot = sum(map(mul, map(lookup.get, ids, repeat(0.0)), weights))
        mean = dot / (len(self.members[a]) * len(self.members[b]))
        return self.same_place(mean) if self.named[a] & self.named[b] else mean

    def _merge(self, a: int, b: int) -> None:
        """Merge group ``b`` into group ``a`` (``b`` has the fewer links)."""
        links_a = self.links[a]
        for c, score in self.links[b].items():
            del self.links[c][b]
            if score > links_a.get(c, 0.0):
                links_a[c] = self.links[c][a] = score
                heapq.heappush(self.heap, (-score, min(a, c), max(a, c)))
        self.links[b] = {}
        ids, weights, _ = self._features(b)
        self.sums[a] = _add(self._sum(a), zip(ids, weights, strict=True))
        self.sums.pop(b, None)
        self.members[a].extend(self.members[b])
        self.members[b] = []
        self.named[a] = self.named[a] | self.named[b]
        self.named[b] = frozenset()


def _add(left: dict[int, float], right: Iterable[tuple[int, float]]) -> dict[int, float]:
    """The sum of two vectors, its ``SUM_KEPT`` heaviest features (``left`` is updated when it
    is a group's own sum)."""
    total = left
    get = total.get
    for feature, weight in right:
        total[feature] = get(feature, 0.0) + weight
    if len(total) > SUM_KEPT:  # heaviest first, ties in their order (a stable sort)
        total = dict(sorted(total.items(), key=itemgetter(1), reverse=True)[:SUM_KEPT])
    return total


class Membership(Generic[T]):
    """Which group each item is in, kept up to date as items join (what a store of groups does,
    in memory: for benchmarks and tests of ``PetitionIndex.nearest_groups``). A group is named
    by its first member."""

    def __init__(self, groups: Iterable[Sequence[T]] = ()) -> None:
        self.group_of: dict[T, T] = {}
        self.members: dict[T, list[T]] = {}
        for group in groups:
            for item in group:
                self.group_of[item] = group[0]
            self.members[group[0]] = list(group)

    def members_of(self, item: T) -> list[T]:
        """The members of the group of ``item`` (``item`` alone when in none)."""
        group = self.group_of.get(item)
        return list(self.members[group]) if group is not None else [item]

    def join(self, item: T, group: Sequence[T] | None) -> T:
        """``item`` joins the group of ``group``'s members (a group of its own when None, or
        when they are one item in no group: the two begin one). Returns the group's name."""
        if group is None:
            name = item
        else:
            name = self.group_of.get(group[0], group[0])
            if name not in self.members:
                self.group_of[name] = name
                self.members[name] = [name]
        self.group_of[item] = name
        self.members.setdefault(name, [])
        if item not in self.members[name]:
            self.members[name].append(item)
        return name
