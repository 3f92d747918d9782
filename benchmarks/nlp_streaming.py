"""C9 timings: ``doithoai nlp check|group|ward|date`` in lines per second (issue 11, item 5:
"load once and stream, thousands of lines a second").

Run by hand: ``.venv/bin/python -m benchmarks.nlp_streaming [--group-lines 2000] [--only
check] [--workers 1 --workers 2]`` (``check`` runs with each ``--workers`` given, by default 1
and 2). Prints; asserts nothing.

Each command runs in this process through ``bot.cli.main`` with standard input and output
replaced, as ``doithoai`` would run it: once on a few lines (loading what it needs: timed apart
as "load"), then on the whole input (timed: lines per second). Inputs:

- ``check``: the written petition sentences and everyday phrases of ``nlp/data`` with their
  diacritics stripped, each line once (no line repeats: nothing is answered from a cache), with
  each ``--workers`` given (the whole input is there at once, as a piped file: it goes to the
  workers in chunks);
- ``group``: ``ID|text`` lines from the synthetic petitions of benchmarks/petition_grouping.py
  (about one in eight typed without diacritics, one in ten with typos), and its pairwise
  precision and recall against their issues;
- ``ward``: the typed addresses of tests/test_nlp_places.py (current and old), repeated;
- ``date``: dates and times as staff and residents type them, repeated.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.petition_grouping import Generator, pairwise
from bot.cli import main as doithoai

DATES = (
    "4/12",
    "04/12/2026",
    "thứ 6 tuần này",
    "thứ sáu tuần sau",
    "mai",
    "8h",
    "11 giờ 30",
    "11h30",
    "2 giờ chiều",
    "thu sau tuan sau luc 2 gio chieu",
)


def _children_cpu() -> float:
    """CPU seconds of the worker processes that have ended (``--workers``)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv: Sequence[str], lines: Sequence[str]) -> tuple[float, float, list[str]]:
    """Seconds ``doithoai <argv>`` takes on ``lines`` (wall clock, and CPU of this process and
    its workers: the machine may be shared), and the lines it printed."""
    stdin, stdout = sys.stdin, sys.stdout
    sys.stdin = io.StringIO("".join(f"{line}\n" for line in lines))
    sys.stdout = out = io.StringIO()
    try:
        start, cpu = time.perf_counter(), time.process_time() + _children_cpu()
        code = doithoai(list(argv))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() + _children_cpu() - cpu
    finally:
        sys.stdin, sys.stdout = stdin, stdout
    if code != 0:
        raise SystemExit(f"doithoai {' '.join(argv)} exited with {code}")
    return elapsed, cpu, out.getvalue().splitlines()


def measure(name: str, argv: Sequence[str], lines: Sequence[str]) -> list[str]:
    loading, _, _ = run(argv, lines[:3])
    elapsed, cpu, out = run(argv, lines)
    print(
        f"doithoai {' '.join(argv):<30} {len(lines) / elapsed:>8,.0f} lines/s, "
        f"{len(lines) / cpu:>8,.0f} per CPU second ({len(lines):,} lines in {elapsed:.2f} s;"
        f" load and first lines {loading:.2f} s)"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group-lines", type=int, default=2_000)
    parser.add_argument("--lines", type=int, default=20_000, help="for ward and date")
    parser.add_argument("--check-lines", type=int, default=3_000)
    parser.add_argument(
        "--workers", type=int, action="append", help="for check (repeatable; default: 1 and 2)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=("check", "group", "ward", "date"), action="append")
    arguments = parser.parse_args()
    only = set(arguments.only or ("check", "group", "ward", "date"))
    # Wall-clock figures mean little on a shared machine: the CPU figures are the ones to
    # compare, with the load the machine was under.
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    if "check" in only:
        lines = check_lines(arguments.check_lines)
        outputs = []
        for workers in arguments.workers or (1, 2):
            argv = ["nlp", "check"]
            if workers > 1:
                argv += ["--workers", str(workers)]
            outputs.append(measure("check", argv, lines))
        offered = sum(json.loads(line)["suggestion"] is not None for line in outputs[0])
        print(f"  {offered:,} of {len(lines):,} stripped lines got a suggestion")
        if len(outputs) > 1:
            same = all(out == outputs[0] for out in outputs)
            print(f"  output with every --workers identical, in input order: {same}")
    if "group" not in only:
        return check_ward_date(arguments, only)

    texts, issues = Generator(arguments.seed).petitions(arguments.group_lines)
    out = measure("group", ["nlp", "group"], [f"P{n}|{text}" for n, text in enumerate(texts)])
    groups = [[int(pid[1:]) for pid in json.loads(line)["ids"]] for line in out]
    precision, recall = pairwise(groups, issues)
    print(
        f"  {len(groups):,} groups; pairwise precision / recall {precision:.3f} / {recall:.3f}"
        " (synthetic issues)"
    )

    check_ward_date(arguments, only)


def check_lines(count: int) -> list[str]:
    """Stripped written sentences and phrases, each once (at most ``count``)."""
    from nlp.text import strip_diacritics

    data = Path(__file__).resolve().parent.parent / "nlp" / "data"
    lines: list[str] = []
    for name in ("petition_sentences.txt", "everyday_phrases.txt"):
        for line in (data / name).read_text("utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                lines.append(strip_diacritics(line.strip()))
    return list(dict.fromkeys(lines))[:count]


def check_ward_date(arguments: argparse.Namespace, only: set[str]) -> None:
    from tests.test_nlp_places import CURRENT_SAI_GON, OLD_TYPED

    addresses = [text for text, _ in OLD_TYPED] + CURRENT_SAI_GON
    count = arguments.lines
    if "ward" in only:
        measure("ward", ["nlp", "ward"], [addresses[n % len(addresses)] for n in range(count)])
    if "date" in only:
        measure(
            "date",
            ["nlp", "date", "--today", "2026-12-30"],
            [DATES[n % len(DATES)] for n in range(count)],
        )


if __name__ == "__main__":
    main()
