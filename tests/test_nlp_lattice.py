"""Issue 11, item 5: the vectorised decoder (``nlp.lattice``) computes what the dictionary
decoder of ``nlp.restoration`` computes, from the model's own probabilities, and steps aside
for a model whose probabilities it would not reproduce."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from nlp import lattice, restoration, syllables
from nlp.restoration import Counts, LanguageModel, Model, Place
from nlp.text import strip_diacritics

DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"


def _sentences(count: int) -> list[str]:
    lines = (DATA / "petition_sentences.txt").read_text("utf-8").splitlines()
    return [strip_diacritics(line) for line in lines if line and not line.startswith("#")][:count]


def _places(sentence: str) -> list[Place]:
    inv = syllables.inventory()
    places = []
    for word in sentence.lower().split():
        word = word.strip(".,;:!?()\"'")
        options = inv.candidates(word)[:16]
        if options:
            bonus = {options[-1]: -0.7} if len(options) > 1 else {}
            places.append(Place(options, bonus))
    return places


def _same(fast: list[restoration.Choice], plain: list[restoration.Choice]) -> None:
    assert [c.best for c in fast] == [c.best for c in plain]
    for mine, theirs in zip(fast, plain, strict=True):
        assert [k for k, _ in mine.ranked] == [k for k, _ in theirs.ranked]
        for (_, a), (_, b) in zip(mine.ranked, theirs.ranked, strict=True):
            assert a == pytest.approx(b, abs=1e-12)


def test_q4_the_arrays_give_the_language_models_probabilities(
    counted_restoration_model: Model,
) -> None:
    lm = counted_restoration_model.lm
    table = lattice.tables(lm)
    assert table.usable
    words = ["<s>", "phường", "bến", "nghé", "đường", "bị", "ngập", "\x00new", "</s>", "<num>"]
    ids = np.array([table.id_of(w) for w in words], dtype=np.int64)
    (two,) = table.bigrams([(ids, ids)])
    (four_all,) = table.transitions([(ids, ids, ids, ids)], [two])
    assert four_all.shape == (len(ids),) * 4  # some of these histories have 4-gram contexts
    unseen = np.array([table.unseen], dtype=np.int64)
    threes = table.transitions(
        [(unseen, ids[[i]], ids, ids) for i in range(len(words))], [two] * len(words)
    )
    for (i, a), (j, b), (k, c) in itertools.product(enumerate(words), repeat=3):
        assert math.isclose(two[j, k], lm.bigram(b, c), rel_tol=1e-13)
        three = np.broadcast_to(threes[i], (1, 1, len(ids), len(ids)))[0, 0, j, k]
        assert math.isclose(three, lm.prob(a, b, c), rel_tol=1e-13)
        for h, d in enumerate(words):
            four = four_all[h, i, j, k]
            assert math.isclose(four, lm.prob4(d, a, b, c), rel_tol=1e-13)


def test_q4_the_vectorised_decoder_equals_the_dictionary_decoder(
    counted_restoration_model: Model,
) -> None:
    model = counted_restoration_model
    runs = [_places(sentence) for sentence in _sentences(40)]
    assert sum(len(run) for run in runs) > 300
    for run, (starts, ends) in zip(
        runs, itertools.cycle([(True, True), (False, True), (True, False)]), strict=False
    ):
        fast = lattice.decode(run, model, starts=starts, ends=ends)
        assert fast is not None
        _same(fast, restoration.decode_with_dicts(run, model, starts=starts, ends=ends))
        _same(restoration.decode(run, model, starts=starts, ends=ends), fast)


class _OtherSmoothing(LanguageModel):
    def prob(self, a: str, b: str, c: str) -> float:
        return 0.5 * super().prob(a, b, c) + 0.5 * self.bigram(b, c)


def test_q4_a_model_with_other_probabilities_is_decoded_with_dictionaries() -> None:
    counts = Counts()
    for sentence in ("đường bị ngập nước", "đèn đường bị hỏng", "nước bị cắt", "đường ngập"):
        counts.add_run(sentence.split())
    for language_model in (_OtherSmoothing(counts), LanguageModel(counts)):
        model = Model(language_model, restoration.Params(), {})
        run = [Place(("duong", "đường", "dương")), Place(("bi", "bị")), Place(("ngap", "ngập"))]
        usable = lattice.tables(language_model).usable
        assert usable is (type(language_model) is LanguageModel)
        assert (lattice.decode(run, model, starts=True, ends=True) is None) is not usable
        _same(
            restoration.decode(run, model),
            restoration.decode_with_dicts(run, model, starts=True, ends=True),
        )
