"""Deadline alerts for officials (C6): which alert is due on a day, in which hours, for whom.

Pure functions over plain values, no I/O. An official is alerted of a deadline they own three
working days before it, one working day before it, on the day, and on every working day while it
is overdue — all of a day's alerts in one digest per person. Overdue items also go to the head of
the government level, marked as escalated. Alerts go out only on working days of the calendar
(X1) and within working hours in Asia/Ho_Chi_Minh.

What the digest says is recomputed from the open deadlines every time, never from a log of past
alerts: a scheduler that was down catches up by itself on its next working-hours run.

A digest counts the items per level and requirement and lists only the most urgent few
(``LISTED_ITEMS``): an official of a city may have thousands of open items (issue 12). The
counts come in groups of items that reach the same people (``DigestBook``); the storage side
aggregates them in SQL.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from procedure.permissions import ancestors_of
from procedure.working_days import WorkingCalendar
from texts import to_local

# Working hours of public offices in Ho Chi Minh City; both are configuration.
DEFAULT_START = time(7, 30)
DEFAULT_END = time(17, 0)
DIGEST_KIND = "alert.digest"


class AlertLevel(StrEnum):
    """How close a deadline is, on a working day. The order of the members is the order of
    urgency (overdue first)."""

    OVERDUE = "overdue"
    DUE_TODAY = "due_today"
    BEFORE_1 = "before_1"  # one working day left after today
    BEFORE_3 = "before_3"  # three working days left after today

    @property
    def rank(self) -> int:
        return _LEVEL_RANKS[self]


_LEVEL_RANKS = {level: rank for rank, level in enumerate(AlertLevel)}


class Requirement(StrEnum):
    """The requirement a deadline comes from (MISSION.md)."""

    P4 = "P4"  # §1.2: the invitation, at least 5 working days before the session
    P7 = "P7"  # §3: the head's conclusions, within 10 working days after the session
    P8 = "P8"  # §3: the written result, within 20 working days after that notice (moved by P9)
    # The office inbox (ward policy): an item sent outside any session is triaged within 10
    # working days of its receipt. Its written result, once forwarded, is a P8 deadline.
    INBOX = "INBOX"


# Working days left after today on which a reminder is due (C6: "3 days before, 1 day before").
ADVANCE_ALERTS: Mapping[int, AlertLevel] = {3: AlertLevel.BEFORE_3, 1: AlertLevel.BEFORE_1}


def alert_level(calendar: WorkingCalendar, due: date, today: date) -> AlertLevel | None:
    """The alert due ``today`` for a deadline at the end of ``due``, or ``None``.

    Only working days carry alerts: an alert that would fall on a weekend or a holiday is not
    sent, and the next working day's level covers it (an item that became overdue over Tết is
    overdue on the first working day after). When ``due`` is itself not a working day, the last
    working day before it is the day to act, and it is alerted as due today.
    """
    if not calendar.is_working_day(today):
        return None
    if today > due:
        return AlertLevel.OVERDUE
    if today == due:
        return AlertLevel.DUE_TODAY
    left = calendar.working_days_between(today, due)
    if left == 0:
        return AlertLevel.DUE_TODAY
    return ADVANCE_ALERTS.get(left)


def late_working_days(calendar: WorkingCalendar, due: date, today: date) -> int:
    """How many working days after ``due`` ``today`` is (0 when not late), as X1 counts them."""
    return calendar.working_days_between(due, today) if today > due else 0


def working_hours(
    calendar: WorkingCalendar,
    local_moment: datetime,
    start: time = DEFAULT_START,
    end: time = DEFAULT_END,
) -> bool:
    """Whether alerts may go out at ``local_moment``: a working day, from ``start`` (included)
    to ``end`` (excluded), in Asia/Ho_Chi_Minh. An aware moment in another zone is converted
    first; a naive one is taken as already local."""
    if start >= end:
        raise ValueError("working hours must start before they end")
    local = to_local(local_moment) if local_moment.tzinfo is not None else local_moment
    clock = local.time().replace(tzinfo=None)
    return calendar.is_working_day(local.date()) and start <= clock < end


@dataclass(frozen=True)
class OpenDeadline:
    """A deadline not yet met, who owns it and who hears of it when it is overdue.

    ``label`` is short plain text (the session's content, or the tracking code and the agency):
    the words around it come from the catalogue when the digest is rendered.
    """

    requirement: Requirement
    due: date
    label: str
    owners: frozenset[int]
    escalate_to: frozenset[int] = frozenset()
    session_id: int | None = None
    tracking_code: str | None = None
    session_day: date | None = None
    agency: str | None = None
    extended: bool = False  # P9: the due date is a new deadline the agency gave in writing


@dataclass(frozen=True)
class AlertItem:
    """One line of a person's digest."""

    requirement: Requirement
    level: AlertLevel
    due: date
    late_working_days: int
    label: str
    session_id: int | None = None
    tracking_code: str | None = None
    escalated: bool = False  # sent to a head because it is overdue, not because they own it
    session_day: date | None = None
    agency: str | None = None
    extended: bool = False

    @property
    def identity(self) -> tuple[object, ...]:
        return (self.requirement, self.session_id, self.tracking_code, self.due, self.label)

    def sort_key(self) -> tuple[object, ...]:
        """Overdue first, then the soonest deadline."""
        return (
            self.level.rank,
            self.due,
            self.requirement,
            self.tracking_code or "",
            self.session_id or 0,
            self.label,
        )

    def as_data(self) -> dict[str, object]:
        """The item as it is stored in an outbox row (JSON)."""
        data: dict[str, object] = {
            "requirement": self.requirement.value,
            "level": self.level.value,
            "due": self.due.isoformat(),
            "late_working_days": self.late_working_days,
            "label": self.label,
            "escalated": self.escalated,
        }
        if self.session_id is not None:
            data["session_id"] = self.session_id
        if self.tracking_code is not None:
            data["tracking_code"] = self.tracking_code
        if self.session_day is not None:
            data["session_day"] = self.session_day.isoformat()
        if self.agency is not None:
            data["agency"] = self.agency
        if self.extended:
            data["extended"] = True
        return data


def alert_item(calendar: WorkingCalendar, deadline: OpenDeadline, today: date) -> AlertItem | None:
    """The line ``deadline`` gives in today's digests, or ``None`` when no alert is due."""
    level = alert_level(calendar, deadline.due, today)
    if level is None:
        return None
    return AlertItem(
        requirement=deadline.requirement,
        level=level,
        due=deadline.due,
        late_working_days=late_working_days(calendar, deadline.due, today),
        label=deadline.label,
        session_id=deadline.session_id,
        tracking_code=deadline.tracking_code,
        session_day=deadline.session_day,
        agency=deadline.agency,
        extended=deadline.extended,
    )


# The most urgent items a digest lists by name; the rest are counted (C6, issue 12: an official
# of a city may have thousands of open items, and a digest is a message a person reads).
LISTED_ITEMS = 5


def due_levels(calendar: WorkingCalendar, today: date) -> dict[date, AlertLevel]:
    """The due dates on or after ``today`` that carry an alert today, with its level. A due date
    before ``today`` is overdue; any date not given here carries none. Empty on a day off."""
    if not calendar.is_working_day(today):
        return {}
    furthest = max(ADVANCE_ALERTS)
    levels: dict[date, AlertLevel] = {}
    day = today
    while calendar.working_days_between(today, day) <= furthest:
        level = alert_level(calendar, day, today)
        if level is not None:
            levels[day] = level
        day += timedelta(days=1)
    return levels


CountKey = tuple[AlertLevel, Requirement, bool]  # level, requirement, escalated


@dataclass(frozen=True)
class Digest:
    """A person's digest of a day: how many items of each level and requirement (and whether
    they reach the person as an escalation), and the most urgent few, overdue first then the
    soonest deadline."""

    counts: Mapping[CountKey, int]
    listed: tuple[AlertItem, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# A candidate for a digest's list: its sort key, the item, and whether it reaches the person as
# an escalation (the escalated copy of the item is made only for the items finally listed).
_Candidate = tuple[tuple[object, ...], AlertItem, bool]


@dataclass
class _Pending:
    counts: dict[CountKey, int] = field(default_factory=dict)
    candidates: list[_Candidate] = field(default_factory=list)


class DigestBook:
    """Collects digests from groups of items that reach the same people: each group brings its
    counts per level and its most urgent items, never every item. An item reaches a person once:
    as an owner, or else (when overdue) as an escalation."""

    def __init__(self, limit: int = LISTED_ITEMS) -> None:
        self.limit = limit
        self._people: dict[int, _Pending] = {}

    def add_group(
        self,
        requirement: Requirement,
        counts: Mapping[AlertLevel, int],
        most_urgent: Sequence[AlertItem],
        owners: Collection[int],
        escalate_to: Collection[int] = (),
    ) -> None:
        """Items of one requirement owned by ``owners``; ``most_urgent`` holds at least the
        group's first ``limit`` items in urgency order (all of them when there are fewer)."""
        keyed = [(item.sort_key(), item) for item in most_urgent]
        owned = [(key, item, False) for key, item in keyed]
        for person_id in owners:
            pending = self._people.setdefault(person_id, _Pending())
            for level, count in counts.items():
                if count:
                    owner_key = (level, requirement, False)
                    pending.counts[owner_key] = pending.counts.get(owner_key, 0) + count
            self._offer(pending, owned)
        overdue = counts.get(AlertLevel.OVERDUE, 0)
        heads = [person_id for person_id in escalate_to if person_id not in owners]
        if not overdue or not heads:
            return
        escalated = [(key, item, True) for key, item in keyed if item.level is AlertLevel.OVERDUE]
        head_key = (AlertLevel.OVERDUE, requirement, True)
        for person_id in heads:
            pending = self._people.setdefault(person_id, _Pending())
            pending.counts[head_key] = pending.counts.get(head_key, 0) + overdue
            self._offer(pending, escalated)

    def add_deadline(self, calendar: WorkingCalendar, deadline: OpenDeadline, today: date) -> None:
        """One deadline, as a group of one item."""
        item = alert_item(calendar, deadline, today)
        if item is not None:
            self.add_group(
                deadline.requirement,
                {item.level: 1},
                [item],
                deadline.owners,
                deadline.escalate_to,
            )

    def _offer(self, pending: _Pending, candidates: Iterable[_Candidate]) -> None:
        pending.candidates.extend(candidates)
        if len(pending.candidates) > 8 * self.limit:
            pending.candidates = heapq.nsmallest(self.limit, pending.candidates, key=_first)

    def digests(self) -> dict[int, Digest]:
        """Every person with something due, by person id."""
        return {
            person_id: Digest(
                counts=dict(sorted(pending.counts.items(), key=_count_order)),
                listed=tuple(
                    replace(item, escalated=True) if escalated else item
                    for _, item, escalated in heapq.nsmallest(
                        self.limit, pending.candidates, key=_first
                    )
                ),
            )
            for person_id, pending in sorted(self._people.items())
            if pending.counts
        }


def _first(candidate: _Candidate) -> tuple[object, ...]:
    return candidate[0]


def _count_order(entry: tuple[CountKey, int]) -> tuple[int, int, bool]:
    (level, requirement, escalated), _ = entry
    return level.rank, list(Requirement).index(requirement), escalated


def summarise(
    calendar: WorkingCalendar,
    deadlines: Iterable[OpenDeadline],
    today: date,
    limit: int = LISTED_ITEMS,
) -> dict[int, Digest]:
    """Today's digest of each person from deadlines given one by one."""
    book = DigestBook(limit)
    for deadline in deadlines:
        book.add_deadline(calendar, deadline, today)
    return book.digests()


def build_digests(
    calendar: WorkingCalendar,
    deadlines: Iterable[OpenDeadline],
    today: date,
    limit: int = LISTED_ITEMS,
) -> dict[int, tuple[AlertItem, ...]]:
    """The items today's digest of each person lists: overdue first, then the soonest (at most
    ``limit``).

    Owners get every alert of their deadlines; the people in ``escalate_to`` get the overdue
    ones, marked escalated (unless they own the deadline too). An item reaches a person once.
    """
    return {
        person_id: digest.listed
        for person_id, digest in summarise(calendar, deadlines, today, limit).items()
    }


def digest_key(person_id: int, day: date) -> str:
    """The outbox idempotency key of a person's digest of a day: one per person per day."""
    return f"alert-digest:{person_id}:{day.isoformat()}"


def digest_data(day: date, digest: Digest) -> dict[str, object]:
    """The data of a digest's outbox row: the counts and the few items listed, a few hundred
    bytes however many items the person has."""
    return {
        "day": day.isoformat(),
        "total": digest.total,
        "counts": [
            {
                "level": level.value,
                "requirement": requirement.value,
                "escalated": escalated,
                "count": count,
            }
            for (level, requirement, escalated), count in digest.counts.items()
        ],
        "items": [item.as_data() for item in digest.listed],
    }


@dataclass(frozen=True)
class RoleHolders:
    """Who holds which role where: ``holders[role][org_unit_id]`` is a set of person ids. Built
    from the active staff roles; the tree is given as a child → parent map."""

    holders: Mapping[str, Mapping[int, frozenset[int]]]
    parent_of: Mapping[int, int | None] = field(default_factory=dict)

    def covering(self, role: str, org_unit_id: int) -> frozenset[int]:
        """Everyone whose ``role`` covers the unit: held on it or on a unit above it."""
        found: set[int] = set()
        by_unit = self.holders.get(role, {})
        for unit in self._chain(org_unit_id):
            found |= by_unit.get(unit, frozenset())
        return frozenset(found)

    def nearest(self, role: str, org_unit_id: int) -> frozenset[int]:
        """The holders of ``role`` on the unit itself, or else on the nearest unit above it that
        has any: the head of the government level, not every head up to the city."""
        by_unit = self.holders.get(role, {})
        for unit in self._chain(org_unit_id):
            people = by_unit.get(unit)
            if people:
                return people
        return frozenset()

    def _chain(self, org_unit_id: int) -> list[int]:
        return ancestors_of(org_unit_id, self.parent_of)
