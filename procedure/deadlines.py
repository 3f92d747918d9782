"""The deadlines of Article 13 §3 and how late an action was (P7, P8, P9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from procedure.periods import Periods
from procedure.working_days import Deadline, WorkingCalendar


@dataclass(frozen=True)
class Timeliness:
    """Whether an action on ``done_on`` met ``due``; a late action is allowed but recorded."""

    due: date
    done_on: date
    late: bool
    late_working_days: int


def conclusion_deadline(calendar: WorkingCalendar, session_end: date, periods: Periods) -> Deadline:
    """P7: the head's conclusions reach the agencies within 10 working days after the session."""
    return calendar.add_working_days(session_end, periods.conclusion_working_days)


def result_deadline(calendar: WorkingCalendar, notice_date: date, periods: Periods) -> Deadline:
    """P8: the written result is due 20 working days after the notice of the conclusions."""
    return calendar.add_working_days(notice_date, periods.result_working_days)


def triage_deadline(calendar: WorkingCalendar, received_on: date, periods: Periods) -> Deadline:
    """The office inbox (ward policy): an item sent outside any session is triaged (forwarded,
    kept for a session, answered, marked duplicate, transferred or declined) within 10 working
    days of its receipt."""
    return calendar.add_working_days(received_on, periods.triage_working_days)


def inbox_result_deadline(
    calendar: WorkingCalendar, forwarded_on: date, periods: Periods
) -> Deadline:
    """The office inbox (ward policy): the agency answers in writing within 20 working days of
    the day the office forwarded the item; extensions (P9) move it as after a conclusion."""
    return calendar.add_working_days(forwarded_on, periods.inbox_result_working_days)


def timeliness(calendar: WorkingCalendar, due: date, done_on: date) -> Timeliness:
    """On time when done by the end of the due day; otherwise late by the working days after it
    (an action on a day off right after the due day is late by zero working days, but late)."""
    late = done_on > due
    return Timeliness(
        due=due,
        done_on=done_on,
        late=late,
        late_working_days=calendar.working_days_between(due, done_on) if late else 0,
    )


def resolution_check_day(
    calendar: WorkingCalendar, answered_on: date, periods: Periods
) -> Deadline:
    """The day to ask "is it resolved?" (issue 13): this many working days (default 10) after
    the written result was sent."""
    return calendar.add_working_days(answered_on, periods.resolution_check_working_days)
