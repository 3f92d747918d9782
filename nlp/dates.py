"""Dates and times as people type them: ``16/03/2026``, ``16-3-2026``, ``2026-03-16``, ``8:30``."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta

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


# --- dates and times as staff and residents type them, relative to a given today ------------

_WEEKDAYS = {  # Vietnamese names: thứ hai = Monday ... chủ nhật = Sunday (0 = Monday)
    "2": 0, "hai": 0, "3": 1, "ba": 1, "4": 2, "tu": 2, "bon": 2, "5": 3, "nam": 3,
    "6": 4, "sau": 4, "7": 5, "bay": 5,
}  # fmt: skip
_WEEK_SHIFT = {"nay": 0, "sau": 1, "toi": 1, "truoc": -1, "sau nua": 2}
_PERIODS = ("sang", "trua", "chieu", "toi", "dem")

_R_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_R_DMY = re.compile(
    r"(?<![\d:])(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{4}|\d{2}))?(?![\d:])"
)
_R_WORDS = re.compile(r"\b(?:ngay\s+)?(\d{1,2})\s+thang\s+(\d{1,2})(?:\s+nam\s+(\d{4}))?\b")
_R_WEEKDAY = re.compile(
    r"\b(?:(?:thu|t)\s*(2|3|4|5|6|7|hai|ba|tu|bon|nam|sau|bay)|(chu\s*nhat|cn))"
    r"(?:\s+(?:tuan|t)\s+(sau\s+nua|nay|sau|toi|truoc))?\b"
)
_R_RELATIVE = re.compile(r"\b(hom\s+nay|(?:ngay\s+)?mai|ngay\s+kia|(?:ngay\s+)?mot|hom\s+qua)\b")
_R_TIME = re.compile(
    r"(?<![\d/.\-])(\d{1,2})\s*(?:(?::)\s*(\d{2})|(?:h|g|gio)\b\s*(?:(\d{1,2})\s*(?:p|phut)?\b"
    r"|(ruoi)\b|kem\s*(\d{1,2})\s*(?:p|phut)?\b)?|(?:h|g)(\d{2})\b)"
    r"(?:\s*\b(sang|trua|chieu|toi|dem)\b)?"
)
_FILLER = re.compile(r"\b(?:ngay|luc|vao|hom|buoi|nhe|a|khoang|tu)\b|[,.;:!?()\-]")


@dataclass(frozen=True)
class When:
    """A date and/or a time read from text. ``inferred`` means something was completed (the
    year, the week, "mai", "chiều" -> 14:00) and must be read back before it is taken; an
    ``error`` says why nothing is taken: ``empty``, ``unknown`` (words we do not read),
    ``invalid`` (31/02, 25:00), ``ambiguous_hour`` ("2 giờ": morning or afternoon?),
    ``ambiguous`` (two dates in one answer), ``weekday_mismatch`` ("Thứ Hai, 17/03/2026")."""

    day: date | None = None
    at: time | None = None
    inferred: bool = False
    error: str | None = None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _next_on_or_after(today: date, day: int, month: int) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _read_day(folded: str, raw: str, today: date) -> tuple[date | None, bool, str | None, str]:
    """(day, inferred, error, text left). One date expression at most."""
    found: list[tuple[date | None, bool, str | None]] = []
    weekdays: list[int] = []  # a bare weekday beside a date: "Thứ Hai, 16/03/2026"
    left = folded
    for match in _R_ISO.finditer(left):
        year, month, day = (int(part) for part in match.groups())
        try:
            found.append((date(year, month, day), False, None))
        except ValueError:
            found.append((None, False, "invalid"))
    left = _R_ISO.sub(" ", left)
    for pattern in (_R_DMY, _R_WORDS):
        for match in pattern.finditer(left):
            day, month = int(match.group(1)), int(match.group(2))
            year_text = match.group(3)
            if year_text is None:
                guess = _next_on_or_after(today, day, month)
                found.append((guess, True, None if guess else "invalid"))
                continue
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            try:
                found.append((date(year, month, day), len(year_text) == 2, None))
            except ValueError:
                found.append((None, False, "invalid"))
        left = pattern.sub(" ", left)
    for match in _R_WEEKDAY.finditer(left):
        weekday = 6 if match.group(2) else _WEEKDAYS[match.group(1)]
        shift = match.group(3)
        monday = today - timedelta(days=today.weekday())
        if shift is None:
            weekdays.append(weekday)
        else:
            weeks = _WEEK_SHIFT[" ".join(shift.split())]
            found.append((monday + timedelta(days=7 * weeks + weekday), True, None))
    left = _R_WEEKDAY.sub(" ", left)
    for match in _R_RELATIVE.finditer(left):
        word = match.group(1).split()[-1]
        if word == "mot" and "mốt" not in raw.lower() and "ngay" not in match.group(1):
            continue  # "mot" is also "một" (one): only "mốt" or "ngày mốt" mean the day after
        offset = {"nay": 0, "mai": 1, "kia": 2, "mot": 2, "qua": -1}[word]
        found.append((today + timedelta(days=offset), True, None))
        left = left[: match.start()] + " " * (match.end() - match.start()) + left[match.end() :]
    if found and weekdays:
        if any(day is None or day.weekday() != weekdays[0] for day, _i, _e in found):
            return None, False, "weekday_mismatch", left
    elif weekdays:
        found = [
            (today + timedelta(days=(weekdays[0] - today.weekday()) % 7), True, None)
        ]  # the next such day, today included
    if not found:
        return None, False, None, left
    if len(found) > 1 or len(weekdays) > 1:
        return None, False, "ambiguous", left
    day_found, inferred, error = found[0]
    return day_found, inferred, error, left


def _read_time(folded: str) -> tuple[time | None, bool, str | None, str]:
    matches = list(_R_TIME.finditer(folded))
    if not matches:
        return None, False, None, folded
    if len(matches) > 1:
        return None, False, "ambiguous", _R_TIME.sub(" ", folded)
    match = matches[0]
    left = _R_TIME.sub(" ", folded)
    hour = int(match.group(1))
    minute_text = match.group(2) or match.group(3) or match.group(6)
    minute = int(minute_text) if minute_text else 0
    if match.group(4):  # rưỡi: half past
        minute = 30
    inferred = False
    if match.group(5):  # kém 15: a quarter to
        hour, minute = hour - 1, 60 - int(match.group(5))
        inferred = True
    period = match.group(7)
    written_24h = match.group(2) is not None and len(match.group(1)) == 2
    if hour > 23 or minute > 59 or hour < 0 or minute < 0:
        return None, False, "invalid", left
    if period is not None:
        if (period in ("chieu", "toi") and hour < 12) or (period == "trua" and hour < 6):
            hour += 12
        elif period == "dem" and hour == 12:
            hour = 0
        elif period == "dem" and 6 <= hour < 12:
            hour += 12
        inferred = inferred or period != "sang"
    elif 1 <= hour <= 6 and not written_24h:
        return None, False, "ambiguous_hour", left  # 2 giờ: 02:00 or 14:00?
    if match.group(2) is None:
        inferred = True  # "8h", "11 giờ 30": read back as 08:00, 11:30
    return time(hour % 24, minute), inferred, None, left


def read_when(text: str, today: date) -> When:
    """A date and/or time as typed: "4/12", "04/12/2026", "thứ 6 tuần này", "thứ sáu tuần
    sau", "mai", "8h", "11 giờ 30", "11h30", "2 giờ chiều" (with or without diacritics),
    relative to ``today``. Never raises; what is not understood is an error, not a guess."""
    raw = normalise_spaces(text)
    if not raw:
        return When(error="empty")
    folded = _fold(raw)
    at, time_inferred, time_error, left = _read_time(folded)
    day, day_inferred, day_error, left = _read_day(left, raw, today)
    error = day_error or time_error
    if error is None and _FILLER.sub(" ", left).strip():
        error = "unknown"
    if error is None and day is None and at is None:
        error = "unknown"
    if error is not None:
        return When(error=error)
    return When(day=day, at=at, inferred=day_inferred or time_inferred)


def normalise_spaces(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())
