"""Q4 timings: inventory build, restoration table load, judge()/restore() latency per sentence,
and ``check_line`` throughput (``doithoai nlp check``).

Run by hand: ``.venv/bin/python benchmarks/nlp_diacritics.py``. Prints; asserts nothing.
Sentences: 1,000 of the shipped VLSP 2013 tagged sentences of six words or more (at most
their first 40 words), as written, stripped, and typed in Telex; and the labelled petitions
(``nlp/gold.py``), stripped.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from bot.nlp_check import check_line
from nlp import gold
from nlp.diacritics import judge, restore
from nlp.keystrokes import to_telex
from nlp.restoration import read_table
from nlp.syllables import build_inventory, inventory, tagged_sentences
from nlp.text import strip_diacritics

SENTENCES = 1000


def sentences() -> list[str]:
    texts = [" ".join(tokens).replace("_", " ") for tokens in tagged_sentences()]
    texts = [t for t in texts if len(t.split()) >= 6]
    random.Random(1).shuffle(texts)
    return [" ".join(t.split()[:40]) for t in texts[:SENTENCES]]


def latency(label: str, function: Callable[[str], object], texts: list[str]) -> None:
    timings = []
    for text in texts:
        start = time.perf_counter()
        function(text)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95)]
    print(
        f"{label:<28} mean {statistics.fmean(timings):6.2f} ms   p95 {p95:6.2f} ms   "
        f"max {timings[-1]:6.2f} ms   (n={len(timings)})"
    )


def main() -> None:
    start = time.perf_counter()
    tagged_sentences()
    read = time.perf_counter() - start
    start = time.perf_counter()
    build_inventory()
    built = time.perf_counter() - start
    start = time.perf_counter()
    read_table()
    loaded = time.perf_counter() - start
    print(f"read tagged text             {read * 1000:6.0f} ms")
    print(f"build inventory              {built * 1000:6.0f} ms")
    print(f"load restoration table       {loaded * 1000:6.0f} ms")
    inventory()  # the cached one, so the timings below exclude the build
    check_line("nạp trước")  # loads the shipped restoration table once
    texts = sentences()
    words = statistics.fmean(len(t.split()) for t in texts)
    print(f"sentences                    {len(texts)} (mean {words:.1f} words)")
    stripped = [strip_diacritics(t) for t in texts]
    telex = [to_telex(t) for t in texts]
    latency("judge(accented)", judge, texts)
    latency("judge(stripped)", judge, stripped)
    latency("judge(telex)", judge, telex)
    latency("restore(stripped)", restore, stripped)
    latency("restore(telex)", restore, telex)
    petitions = [strip_diacritics(s) for s in gold.sentences()]
    latency("restore(petition stripped)", restore, petitions)
    for label, lines in (("accented", texts), ("petitions stripped", petitions)):
        start = time.perf_counter()
        for line in lines:
            check_line(line)
        rate = len(lines) / (time.perf_counter() - start)
        print(f"check_line({label:<18}) {rate:8.0f} lines/s")


if __name__ == "__main__":
    main()
