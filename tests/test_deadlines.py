"""P7, P8: the deadlines of Article 13 §3 and late actions, across Tết and 30/4–1/5."""

from __future__ import annotations

from datetime import date

import pytest

from procedure.deadlines import conclusion_deadline, result_deadline, timeliness
from procedure.periods import Periods
from procedure.working_days import WorkingCalendar

CALENDAR = WorkingCalendar.official()
PERIODS = Periods()


def test_p7_conclusion_due_ten_working_days_after_session_across_tet() -> None:
    # Session on Wednesday 11/02/2026: 12, 13, (Tết 16–20), 23, 24, 25, 26, 27, 2/3, 3/3, 4/3.
    assert conclusion_deadline(CALENDAR, date(2026, 2, 11), PERIODS).due == date(2026, 3, 4)


def test_p8_result_due_twenty_working_days_after_the_notice_across_30_4() -> None:
    # Notice on Monday 20/04/2026: Giỗ Tổ compensatory 27/04, 30/04 and 1/05 off.
    # 21,22,23,24 (4), 28,29 (6), 4,5,6,7,8 (11), 11..15 (16), 18,19,20,21 (20).
    assert result_deadline(CALENDAR, date(2026, 4, 20), PERIODS).due == date(2026, 5, 21)


def test_p8_result_due_across_30_4_2025_counts_the_makeup_saturday() -> None:
    # Notice on Thursday 24/04/2025: 25 (1), Sat 26 worked (2), 28, 29 (4), 30/4–2/5 off,
    # 5–9/5 (9), 12–16/5 (14), 19–23/5 (19), 26/5 (20).
    due = result_deadline(CALENDAR, date(2025, 4, 24), PERIODS).due
    assert due == date(2025, 5, 26)


def test_p8_periods_are_configuration() -> None:
    short = Periods(result_working_days=3)
    assert result_deadline(CALENDAR, date(2026, 3, 13), short).due == date(2026, 3, 18)
    with pytest.raises(ValueError):
        Periods(notice_working_days=0)


def test_p7_late_action_is_recorded_with_working_days_late() -> None:
    on_time = timeliness(CALENDAR, date(2026, 3, 4), date(2026, 3, 4))
    assert not on_time.late and on_time.late_working_days == 0
    late = timeliness(CALENDAR, date(2026, 2, 13), date(2026, 2, 24))
    assert late.late and late.late_working_days == 2  # 23 and 24; Tết does not count
    on_a_saturday = timeliness(CALENDAR, date(2026, 3, 13), date(2026, 3, 14))
    assert on_a_saturday.late and on_a_saturday.late_working_days == 0
