"""Working days of Vietnamese public offices (X1), and deadlines that explain themselves.

A day is a working day when it is Monday to Friday, is not a public holiday (``holidays`` for
Vietnam, pinned in pyproject.toml), and is not an extra day off the government granted — or when
it is a make-up working day (usually a Saturday) the government set in exchange. The extra days
off and make-up days that ``holidays`` does not know come from ``data/official_days.csv``, each
line with its source, and from administrators (stored in the database); the later source wins:
library < official file < administrator.

Periods are counted as the Civil Code counts them: the day of the event is not counted and a
period ends at the end of its last working day.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import holidays

ONE_DAY = timedelta(days=1)
OFFICIAL_DAYS_FILE = "official_days.csv"
# A period longer than this is a mistake in the input, not a deadline (about forty years).
MAX_WORKING_DAYS = 10_000


class OverrideKind(StrEnum):
    """What an official line or an administrator says of one day."""

    DAY_OFF = "off"  # an extra day off (for example a day swapped for a make-up Saturday)
    WORKING_DAY = "work"  # a make-up working day, or a day the office works after all
    NOT_A_HOLIDAY = "not_off"  # ``holidays`` lists it, but the law has not made it a day off


class OverrideOrigin(StrEnum):
    OFFICIAL_FILE = "file"
    ADMINISTRATOR = "admin"


@dataclass(frozen=True)
class Override:
    day: date
    kind: OverrideKind
    name: str
    source: str
    origin: OverrideOrigin = OverrideOrigin.OFFICIAL_FILE


class DayReason(StrEnum):
    """Why a day is, or is not, a working day."""

    WEEKDAY = "weekday"
    WEEKEND = "weekend"
    PUBLIC_HOLIDAY = "holiday"
    OFFICIAL_DAY_OFF = "official_off"
    MAKEUP_WORKING_DAY = "makeup"
    HOLIDAY_NOT_IN_FORCE = "not_in_force"


@dataclass(frozen=True)
class DayStatus:
    day: date
    working: bool
    reason: DayReason
    name: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Deadline:
    """``working_days`` working days counted from the day after ``start``, due at the end of
    ``due``.

    ``skipped`` are the days between ``start`` and ``due`` that were not counted, with why.
    """

    start: date
    working_days: int
    due: date
    skipped: tuple[DayStatus, ...] = field(default=())


@dataclass(frozen=True)
class NoticeWindow:
    """When an invitation must go out so that ``working_days`` working days lie strictly between
    the sending day and the session day (P4).

    ``latest_day`` is the last calendar day that satisfies the rule; ``latest_working_day`` is the
    last working day on or before it, for an office that sends only on working days.
    ``counted`` are the working days that lie between, ``skipped`` the days that did not count.
    """

    session_day: date
    working_days: int
    latest_day: date
    latest_working_day: date
    counted: tuple[date, ...]
    skipped: tuple[DayStatus, ...]


def load_official_overrides(text: str | None = None) -> list[Override]:
    """The version-controlled lines of ``data/official_days.csv`` (or of ``text``)."""
    if text is None:
        text = resources.files("procedure.data").joinpath(OFFICIAL_DAYS_FILE).read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return [
        Override(
            day=date.fromisoformat(row["date"].strip()),
            kind=OverrideKind(row["kind"].strip()),
            name=row["name"].strip(),
            source=row["source"].strip(),
        )
        for row in rows
    ]


class WorkingCalendar:
    """The working-day calendar. Pure: no I/O once built, so it can be tested exhaustively."""

    def __init__(
        self,
        overrides: Iterable[Override] = (),
        *,
        library_holidays: holidays.HolidayBase | None = None,
    ) -> None:
        if library_holidays is None:
            # Imported here, not with the module: a bot's start and its first answers need no
            # calendar (issue 12, a first answer within 2 s; ``holidays`` takes 40-60 ms).
            import holidays

            library_holidays = holidays.country_holidays("VN", language="vi")
        self._library = library_holidays
        by_day: dict[date, Override] = {}
        # Official file lines first, administrators' last: the later one wins for a day.
        for override in sorted(overrides, key=lambda o: o.origin != OverrideOrigin.OFFICIAL_FILE):
            by_day[override.day] = override
        self._overrides = by_day
        self._cache: dict[date, DayStatus] = {}

    @classmethod
    def official(cls, administrator_overrides: Iterable[Override] = ()) -> WorkingCalendar:
        """The calendar of the shipped official file plus what administrators added."""
        return cls([*load_official_overrides(), *administrator_overrides])

    @cached_property
    def overrides(self) -> tuple[Override, ...]:
        return tuple(sorted(self._overrides.values(), key=lambda o: o.day))

    # --- one day -------------------------------------------------------------------------

    def status(self, day: date) -> DayStatus:
        """Whether ``day`` is a working day, and why."""
        cached = self._cache.get(day)
        if cached is None:
            cached = self._cache[day] = self._compute_status(day)
        return cached

    def _compute_status(self, day: date) -> DayStatus:
        override = self._overrides.get(day)
        if override is not None:
            if override.kind is OverrideKind.DAY_OFF:
                return DayStatus(
                    day, False, DayReason.OFFICIAL_DAY_OFF, override.name, override.source
                )
            if override.kind is OverrideKind.WORKING_DAY:
                return DayStatus(
                    day, True, DayReason.MAKEUP_WORKING_DAY, override.name, override.source
                )
            # NOT_A_HOLIDAY: the library's holiday is set aside; the weekday rule decides.
            if day.weekday() >= 5:
                return DayStatus(day, False, DayReason.WEEKEND)
            return DayStatus(
                day, True, DayReason.HOLIDAY_NOT_IN_FORCE, override.name, override.source
            )
        holiday_name = self._library.get(day)
        if holiday_name:
            return DayStatus(day, False, DayReason.PUBLIC_HOLIDAY, holiday_name, "holidays (VN)")
        if day in self._library.weekend_workdays:
            return DayStatus(day, True, DayReason.MAKEUP_WORKING_DAY, None, "holidays (VN)")
        if day.weekday() >= 5:
            return DayStatus(day, False, DayReason.WEEKEND)
        return DayStatus(day, True, DayReason.WEEKDAY)

    def is_working_day(self, day: date) -> bool:
        return self.status(day).working

    # --- periods ---------------------------------------------------------------------------

    def add_working_days(self, start: date, working_days: int) -> Deadline:
        """The deadline ``working_days`` working days after the event on ``start``.

        The day of the event is not counted; the result is the last working day of the period,
        which ends at the end of that day. Zero working days gives the event day itself.
        """
        _check_period(working_days)
        skipped: list[DayStatus] = []
        day, counted = start, 0
        while counted < working_days:
            day += ONE_DAY
            status = self.status(day)
            if status.working:
                counted += 1
            else:
                skipped.append(status)
        return Deadline(start, working_days, day, tuple(skipped))

    def subtract_working_days(self, end: date, working_days: int) -> Deadline:
        """The working day that lies ``working_days`` working days before ``end`` (``end`` itself
        not counted): the mirror of :meth:`add_working_days`, for reminders before a deadline.
        """
        _check_period(working_days)
        skipped: list[DayStatus] = []
        day, counted = end, 0
        while counted < working_days:
            day -= ONE_DAY
            status = self.status(day)
            if status.working:
                counted += 1
            else:
                skipped.append(status)
        return Deadline(end, -working_days, day, tuple(reversed(skipped)))

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``; negative when ``end`` comes
        first. ``working_days_between(d, add_working_days(d, n).due) == n``.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += ONE_DAY
            count += self.status(day).working
        return count

    def working_days_strictly_between(self, first: date, last: date) -> int:
        """Working days after ``first`` and before ``last`` (neither counted)."""
        if last <= first:
            return 0
        return self.working_days_between(first, last - ONE_DAY)

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    # --- invitations (P4) ------------------------------------------------------------------

    def notice_window(self, session_day: date, working_days: int) -> NoticeWindow:
        """The latest day an invitation may be sent for a session on ``session_day`` so that at
        least ``working_days`` working days lie strictly between sending and the session (P4).
        """
        back = self.subtract_working_days(session_day, working_days)
        latest = back.due - ONE_DAY
        latest_working = latest
        while not self.is_working_day(latest_working):
            latest_working -= ONE_DAY
        counted = []
        day = back.due
        while day < session_day:
            if self.is_working_day(day):
                counted.append(day)
            day += ONE_DAY
        return NoticeWindow(
            session_day=session_day,
            working_days=working_days,
            latest_day=latest,
            latest_working_day=latest_working,
            counted=tuple(counted),
            skipped=back.skipped,
        )

    def earliest_session_day(self, sending_day: date, working_days: int) -> date:
        """The first day a session may be held when its invitation goes out on ``sending_day``."""
        return self.add_working_days(sending_day, working_days).due + ONE_DAY


def _check_period(working_days: int) -> None:
    if not 0 <= working_days <= MAX_WORKING_DAYS:
        raise ValueError(f"working_days must be between 0 and {MAX_WORKING_DAYS}")
