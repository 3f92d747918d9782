"""The one catalogue of user-facing Vietnamese text (X5), and how dates and times are shown.

Every sentence a person reads comes from ``vi.toml`` through :func:`t`. Code holds keys, never
Vietnamese sentences. Dates are shown as ``Thứ Hai, 16/03/2026`` and times in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from string import Formatter
from zoneinfo import ZoneInfo

LOCAL_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class MissingText(KeyError):
    """A key that the catalogue does not have: a programming error, caught by the tests."""


def _flatten(table: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{full}."))
        elif isinstance(value, str):
            flat[full] = unicodedata.normalize("NFC", value)
        else:
            raise TypeError(f"catalogue entry {full} is not text")
    return flat


@cache
def catalogue() -> dict[str, str]:
    """All entries of the catalogue, keyed by dotted name: ``vi.toml`` and the ``vi_*.toml``
    files beside it (one namespace; a key defined twice is an error)."""
    merged: dict[str, str] = {}
    files = sorted(
        (item for item in resources.files(__name__).iterdir() if _is_part(item.name)),
        key=lambda item: (item.name != "vi.toml", item.name),
    )
    for item in files:
        part = _flatten(tomllib.loads(item.read_text(encoding="utf-8")))
        clash = merged.keys() & part.keys()
        if clash:
            raise ValueError(f"{item.name} defines again: {sorted(clash)[:5]}")
        merged.update(part)
    return merged


def _is_part(name: str) -> bool:
    return name == "vi.toml" or (name.startswith("vi_") and name.endswith(".toml"))


def t(key: str, /, **values: object) -> str:
    """The catalogue text for ``key`` with ``values`` filled in."""
    try:
        template = catalogue()[key]
    except KeyError as missing:
        raise MissingText(key) from missing
    return template.format(**values) if values else template


def placeholders(key: str) -> set[str]:
    """The names a catalogue entry expects, for tests that check every call fills them."""
    return {field for _, field, _, _ in Formatter().parse(catalogue()[key]) if field}


def weekday_name(day: date) -> str:
    """``Thứ Hai`` … ``Chủ nhật``."""
    return t(f"weekday.{WEEKDAY_KEYS[day.weekday()]}")


def format_date(day: date) -> str:
    """``Thứ Hai, 16/03/2026`` (X5)."""
    return t("format.date", weekday=weekday_name(day), date=day.strftime("%d/%m/%Y"))


def to_local(moment: datetime) -> datetime:
    """A stored UTC time (naive means UTC) in Asia/Ho_Chi_Minh."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TIMEZONE)


def format_datetime(moment: datetime) -> str:
    """``08:00, Thứ Hai, 16/03/2026`` in Asia/Ho_Chi_Minh (X5)."""
    local = to_local(moment)
    return t("format.datetime", time=local.strftime("%H:%M"), date=format_date(local.date()))


def format_span(starts: datetime, ends: datetime) -> str:
    """``từ 08 giờ 00 đến 11 giờ 30, Thứ Sáu, ngày 04/12/2026`` in Asia/Ho_Chi_Minh (X5): how a
    session's time is written in an invitation."""
    first, last = to_local(starts), to_local(ends)
    return t(
        "format.span",
        start=t("format.clock", hour=first.strftime("%H"), minute=first.strftime("%M")),
        end=t("format.clock", hour=last.strftime("%H"), minute=last.strftime("%M")),
        weekday=weekday_name(first.date()),
        date=first.strftime("%d/%m/%Y"),
    )
