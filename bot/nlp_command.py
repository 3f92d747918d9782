"""``doithoai nlp …``: the language layer for staff and tools, one item per line on standard
input, one JSON object per line on standard output. The shapes are stable: tools rely on them.

- ``ward``: a typed address -> ``{"input", "status", "old", "candidates": [{"code", "name",
  "province_code", "province"}]}``, candidates best first (``status``: current, old,
  old_unknown, old_ambiguous, none; ``old``: the old unit found in the table, or "").
- ``date [--today YYYY-MM-DD]``: a typed date/time -> ``{"input", "date", "time", "inferred",
  "error"}`` (ISO date or null, ``HH:MM`` or null; ``inferred``: completed, to be read back).
- ``group``: lines ``ID|text`` -> after the whole input, one line per group of two or more,
  largest first: ``{"ids", "size", "title"}``; a line without ``|`` -> ``{"line", "error"}``.

Each command loads what it needs once, then streams. ``check [--workers N]`` (the diacritics
verdict of bot/nlp_check.py) prints ``{"input", "verdict", "refused", "suggestion",
"uncertain"}``, in input order also with N worker processes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any, TextIO

from bot.config import Settings
from texts import t

Handler = Callable[[argparse.Namespace, Settings], int]


def _lines(stream: TextIO) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\r\n")


def _emit(objects: Iterable[dict[str, Any]], out: TextIO) -> int:
    for obj in objects:
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()  # a tool reading line by line gets each answer at once
    return 0


def ward_line(text: str) -> dict[str, Any]:
    from nlp.places import read_address

    reading = read_address(text)
    return {
        "input": text,
        "status": reading.status,
        "old": reading.old,
        "candidates": [
            {
                "code": f"{unit.code:05d}",
                "name": unit.name,
                "province_code": f"{unit.province_code:02d}",
                "province": unit.province_name,
            }
            for unit in reading.wards
        ],
    }


def date_line(text: str, today: date) -> dict[str, Any]:
    from nlp.dates import read_when

    when = read_when(text, today)
    return {
        "input": text,
        "date": when.day.isoformat() if when.day else None,
        "time": when.at.strftime("%H:%M") if when.at else None,
        "inferred": when.inferred,
        "error": when.error,
    }


def group_lines(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    from nlp.similarity import PetitionIndex
    from nlp.titles import group_title

    items: list[tuple[str, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        pid, bar, text = line.partition("|")
        if not bar or not pid.strip():
            yield {"line": number, "error": "expected ID|text"}
            continue
        items.append((pid.strip(), text.strip()))
    if not items:
        return
    texts = dict(items)
    for group in PetitionIndex(items).groups():
        yield {
            "ids": list(group),
            "size": len(group),
            "title": group_title([texts[pid] for pid in group]),
        }


def _ward(args: argparse.Namespace, settings: Settings) -> int:
    from nlp.places import gazetteer

    gazetteer()  # load once, before the first line
    return _emit(map(ward_line, _lines(sys.stdin)), sys.stdout)


def _date(args: argparse.Namespace, settings: Settings) -> int:
    from texts import LOCAL_TIMEZONE

    if args.today is not None:
        today = args.today
    else:
        from datetime import datetime

        today = datetime.now(LOCAL_TIMEZONE).date()
    return _emit((date_line(line, today) for line in _lines(sys.stdin)), sys.stdout)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.nlp_check import check_stream, warm_up

    warm_up()  # load once, before the first line (and before forking any worker)
    return _emit(check_stream(_lines(sys.stdin), args.workers), sys.stdout)


def _group(args: argparse.Namespace, settings: Settings) -> int:
    return _emit(group_lines(_lines(sys.stdin)), sys.stdout)


def _today(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as bad:
        raise argparse.ArgumentTypeError(t("cli.bad_date", value=value)) from bad


def _date_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--today", type=_today, default=None)


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    # ``--workers N``: that many processes check lines, answers still in input order.
    parser.add_argument("--workers", type=int, choices=range(1, 33), default=1, metavar="N")


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    return None


#: name -> (help key, arguments, handler).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "check": ("cli.help.nlp_check", _check_arguments, _check),
    "ward": ("cli.help.nlp_ward", _no_arguments, _ward),
    "date": ("cli.help.nlp_date", _date_arguments, _date),
    "group": ("cli.help.nlp_group", _no_arguments, _group),
}


def register(commands: Any) -> None:
    """Add ``nlp`` and its subcommands to the ``doithoai`` parser (``commands`` is its
    subparsers action)."""
    nlp = commands.add_parser("nlp", help=t("cli.help.nlp"))
    sub = nlp.add_subparsers(dest="nlp_command", required=True)
    for name, (help_key, arguments, handler) in COMMANDS.items():
        parser = sub.add_parser(name, help=t(help_key))
        arguments(parser)
        parser.set_defaults(handler=handler)
