"""Dates and times as people type them: ``16/03/2026``, ``16-3-2026``, ``2026-03-16``, ``8:30``."""

from __future__ import annotations

import re
from datetime import date, time

_DMY = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})\s*(?:[:hg.]\s*(\d{2})?)?\s*$", re.IGNORECASE)


def parse_date(text: str) -> date | None:
    """A calendar date, or None when the text is not one (31/02 is not)."""
    iso = _ISO.match(text)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        dmy = _DMY.match(text)
        if not dmy:
            return None
        day, month, year = (int(part) for part in dmy.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_time(text: str) -> time | None:
    """A 24-hour time: ``8:30``, ``08:30``, ``8h30``, ``14g``, ``14``. None otherwise."""
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
