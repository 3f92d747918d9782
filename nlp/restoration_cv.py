"""Cross-validation and error analysis of the restoration model of Q4, on TUNING material only:
``python -m nlp.restoration_cv [--weights name=value ...] [--errors N]``.

Every calibration sentence (the tuning half of the gold petitions, the petition sentences and
the resident sentences written for the model, ``nlp.build_restoration.written_sentences``) is
restored by a model built WITHOUT its fold (``nlp.build_restoration.fold``), and the figures are
printed per group: syllables and whole sentences right. The resident sentences
(``resident_sentences.txt`` and the later batches, ``resident_sentences_3.txt`` to
``resident_sentences_7.txt``, each its own group) were written last, without looking at any
model's output, so their cross-validated figure is the best guide to text the tuning never saw;
choices of data, weights and smoothing are made on these figures. Nothing here reads a
held-out set.

The errors are sorted into classes, largest first:

- ``unknown``: the right syllable never occurs in the table (no unigram count);
- ``name``: the right word is capitalised inside the sentence (a street, a ward, a person);
- ``function``: a short, frequent word whose readings are all common (``den``: đến, đèn, đen);
- ``unseen pair``: the right syllable is known but never follows the previous right syllable;
- ``context``: the rest (the model knew the pair, and chose another reading).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from nlp import build_restoration as build
from nlp import gold
from nlp.restoration import Counts, LanguageModel, Model, Params, read_table

_WORD = re.compile(r"[^\W\d_]+")
#: The ambiguity classes counted as short function words (typed form).
FUNCTION = frozenset(
    {
        "den", "ma", "co", "cho", "con", "ban", "the", "khi", "bi", "ca", "da", "de", "di", "do",
        "gi", "hoi", "la", "len", "mot", "nay", "nha", "nhu", "nua", "o", "ra", "sao", "sau", "so",
        "tai", "thi", "toi", "tu", "va", "ve", "voi", "vi", "vo", "xe", "ai", "an", "bao", "chi",
        "cung", "dang", "duoc", "moi", "nam", "ngay", "nguoi", "nhieu", "qua", "tren", "trong",
        "vao",
    }
)


def shipped_params() -> Params:
    """The shipped table's parameters (its temperature changes which reading wins)."""
    return read_table().params


def groups() -> dict[str, list[str]]:
    """The calibration sentences by group (tuning material only)."""
    return {
        "tuning half": list(gold.tuning()),
        "petition sentences": build._data_lines("petition_sentences.txt"),
        "resident sentences": build._data_lines("resident_sentences.txt"),
        "resident sentences 3": build._data_lines("resident_sentences_3.txt"),
        "resident sentences 4": build._data_lines("resident_sentences_4.txt"),
        "resident sentences 5": build._data_lines("resident_sentences_5.txt"),
        "resident sentences 6": build._data_lines("resident_sentences_6.txt"),
        "resident sentences 7": build._data_lines("resident_sentences_7.txt"),
    }


def cross_validate(
    weights: build.Weights, params: Params | None = None, *, residents: bool = True
) -> tuple[dict[str, list[build.Scored]], list[Counts]]:
    """Each group's sentences restored by the model built without their fold; the counts of
    each fold's model (for the error classes). Without ``residents`` the resident sentences
    are left out of every model (what a model that never saw them makes of them)."""
    parts = groups()
    tuning = parts["tuning half"]
    written = build.written_sentences()
    if not residents:
        written = [s for s in written if s not in set(parts["resident sentences"])]
    out: dict[str, list[build.Scored]] = {name: [] for name in parts}
    tables: list[Counts] = []
    for k in range(build.FOLDS):
        counts = build.combine(
            weights,
            [s for s in tuning if build.fold(s) != k],
            [s for s in written if build.fold(s) != k],
        )
        tables.append(counts)
        current = Model(LanguageModel(counts), params or shipped_params(), {})
        for name, sentences in parts.items():
            for item in build.score(current, [s for s in sentences if build.fold(s) == k]):
                item.fold = k
                out[name].append(item)
    return out, tables


def error_classes(
    scored: Sequence[build.Scored], tables: Sequence[Counts]
) -> tuple[Counter[str], Counter[tuple[str, str, str]]]:
    """Wrong syllables by class, and the confusions (typed, right, restored)."""
    classes: Counter[str] = Counter()
    confusions: Counter[tuple[str, str, str]] = Counter()
    for item in scored:
        counts = tables[item.fold]
        expected, got = _WORD.findall(item.sentence), _WORD.findall(item.restored)
        previous = "<s>"
        for index, (right, restored) in enumerate(zip(expected, got, strict=False)):
            lower = right.lower()
            if right != restored:
                typed = build.strip_diacritics(lower)
                confusions[(typed, lower, restored.lower())] += 1
                if lower not in counts.uni:
                    kind = "unknown"
                elif index > 0 and right[0].isupper():
                    kind = "name"
                elif typed in FUNCTION:
                    kind = "function"
                elif (previous, lower) not in counts.bi:
                    kind = "unseen pair"
                else:
                    kind = "context"
                classes[kind] += 1
            previous = lower
    return classes, confusions


def report(
    weights: build.Weights,
    errors: int = 30,
    params: Params | None = None,
    *,
    residents: bool = True,
) -> None:
    scored, tables = cross_validate(weights, params, residents=residents)
    print(f"weights {weights}")
    everything: list[build.Scored] = []
    for name, items in scored.items():
        everything += items
        syllables, sentences = build.accuracy(items)
        classes, _ = error_classes(items, tables)
        print(
            f"{name:<20} {len(items):>4} sentences: syllables {syllables:.2%}, sentences "
            f"{sentences:.2%}; errors {dict(classes.most_common())}",
            flush=True,
        )
    syllables, sentences = build.accuracy(everything)
    print(f"{'all':<20} {len(everything):>4} sentences: {syllables:.2%}, {sentences:.2%}")
    rule = build.cross_fitted_safety(everything, params or shipped_params())
    print(
        f"the rule of these params, cross-fitted: wrong shown as certain "
        f"{rule.wrong_certain_share:.2%} (upper bound {rule.wrong_certain_upper:.2%}) of "
        f"{rule.suggestions} suggestions",
        flush=True,
    )
    if errors:
        _, confusions = error_classes(everything, tables)
        print("most frequent confusions (typed: right -> restored):")
        for (typed, right, got), n in confusions.most_common(errors):
            print(f"  {n:>3}  {typed}: {right} -> {got}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights",
        action="append",
        default=[],
        help="comma-separated name=value overrides; repeat to compare several (one process)",
    )
    parser.add_argument("--errors", type=int, default=30, help="confusions to print")
    parser.add_argument(
        "--without-residents", action="store_true", help="no model sees the resident sentences"
    )
    parser.add_argument(
        "--params",
        action="append",
        default=[],
        help="comma-separated name=value overrides of the shipped table's parameters (e.g. "
        "temperature=1,keep=0.0001); repeat to compare several",
    )
    args = parser.parse_args(argv)
    for setting in args.weights or [""]:
        pairs = (item.split("=") for item in setting.split(",") if item)
        overrides = {key: float(value) for key, value in pairs}
        weights = build.Weights(**{**build.Weights().__dict__, **overrides})
        for changes in args.params or [""]:
            fields = (item.split("=") for item in changes.split(",") if item)
            values: dict[str, Any] = {
                key: int(value) if key == "floor_uncertain_count" else float(value)
                for key, value in fields
            }
            params = replace(shipped_params(), **values)
            print(f"params {params}")
            report(weights, args.errors, params, residents=not args.without_residents)


if __name__ == "__main__":
    main()
