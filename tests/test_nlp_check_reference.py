"""Issue 11, item 5: the faster decoder of ``nlp.restoration`` gives the same results as the
plain one. ``tests/data/nlp_check_reference.jsonl.gz`` holds what the plain implementation
(commit 8c047a2, the same table) printed for 472 lines (stripped and accented written petition
sentences and everyday phrases, Telex, shorthand): ``check_line``'s object, and every restored
word with its confidence (rounded to 12 places), uncertainty and alternatives. The texts, the
uncertain words and the order of the alternatives must be equal; the confidences may differ by
rounding only (the faster decoder sums the same terms in another order)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bot.nlp_check import check_line
from nlp.diacritics import restore

REFERENCE = Path(__file__).with_name("data") / "nlp_check_reference.jsonl.gz"


def _reference() -> list[dict[str, object]]:
    with gzip.open(REFERENCE, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_q4_the_decoder_gives_the_reference_results() -> None:
    cases = _reference()
    assert len(cases) >= 400
    for case in cases:
        text = str(case["input"])
        assert check_line(text) == case["check"], text
        restored = restore(text)
        words = case["words"]
        if restored is None:
            assert words is None, text
            continue
        assert isinstance(words, list)
        got = [[w.best, w.confidence, w.uncertain, list(w.alternatives)] for w in restored.words]
        assert [[b, u, a] for b, _, u, a in got] == [[b, u, a] for b, _, u, a in words], text
        for (_, confidence, _, _), (_, expected, _, _) in zip(got, words, strict=True):
            assert confidence == pytest.approx(expected, abs=1e-11), text
