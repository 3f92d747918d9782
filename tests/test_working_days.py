"""X1: the working-day calendar, checked day by day against the official 2025 and 2026 schedules,
and its arithmetic by properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procedure.explain import explain_deadline, explain_notice_window
from procedure.working_days import (
    DayReason,
    Override,
    OverrideKind,
    OverrideOrigin,
    WorkingCalendar,
    load_official_overrides,
)

CALENDAR = WorkingCalendar.official()

# Weekdays off for public servants, from the official announcements (see official_days.csv):
# 2025 — Thông báo 6150/TB-BLĐTBXH (03/12/2024) and the Labour Code 2019, Art. 112.
OFFICIAL_WEEKDAYS_OFF = {
    2025: [
        "2025-01-01",  # Tết Dương lịch
        "2025-01-27",
        "2025-01-28",
        "2025-01-29",
        "2025-01-30",
        "2025-01-31",  # Tết Ất Tỵ
        "2025-04-07",  # Giỗ Tổ Hùng Vương
        "2025-04-30",
        "2025-05-01",  # 30/4, 1/5
        "2025-05-02",  # swapped for Saturday 26/04
        "2025-09-01",
        "2025-09-02",  # Quốc khánh
    ],
    # 2026 — Công văn 12729/VPCP-KGVX (25/12/2025), Thông báo 9441/TB-BNV (16/10/2025),
    # Nghị quyết 28/2026/QH16 (24/11).
    2026: [
        "2026-01-01",
        "2026-01-02",  # swapped for Saturday 10/01
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-02-19",
        "2026-02-20",  # Tết Bính Ngọ
        "2026-04-27",  # Giỗ Tổ falls on Sunday 26/04: compensatory Monday
        "2026-04-30",
        "2026-05-01",
        "2026-08-31",  # swapped for Saturday 22/08
        "2026-09-01",
        "2026-09-02",
        "2026-11-24",  # Ngày Văn hóa Việt Nam
    ],
}
OFFICIAL_WORKING_SATURDAYS = {2025: ["2025-04-26"], 2026: ["2026-01-10", "2026-08-22"]}
OFFICIAL_WORKING_DAY_COUNT = {2025: 250, 2026: 249}


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", [2025, 2026])
def test_x1_official_schedule_day_by_day(year: int) -> None:
    off = {date.fromisoformat(d) for d in OFFICIAL_WEEKDAYS_OFF[year]}
    worked_saturdays = {date.fromisoformat(d) for d in OFFICIAL_WORKING_SATURDAYS[year]}
    wrong = []
    for day in days_of(year):
        expected = (day.weekday() < 5 and day not in off) or day in worked_saturdays
        if CALENDAR.is_working_day(day) != expected:
            wrong.append((day.isoformat(), expected))
    assert wrong == []
    assert (
        sum(CALENDAR.is_working_day(day) for day in days_of(year))
        == (OFFICIAL_WORKING_DAY_COUNT[year])
    )


def test_x1_every_day_says_why() -> None:
    assert CALENDAR.status(date(2026, 2, 17)).reason is DayReason.PUBLIC_HOLIDAY
    assert "Tết" in (CALENDAR.status(date(2026, 2, 17)).name or "")
    swap = CALENDAR.status(date(2026, 1, 2))
    assert swap.reason is DayReason.OFFICIAL_DAY_OFF and "12729/VPCP-KGVX" in (swap.source or "")
    makeup = CALENDAR.status(date(2026, 1, 10))
    assert makeup.working and makeup.reason is DayReason.MAKEUP_WORKING_DAY
    assert CALENDAR.status(date(2026, 3, 14)).reason is DayReason.WEEKEND
    assert CALENDAR.status(date(2026, 3, 16)).reason is DayReason.WEEKDAY


def test_x1_every_official_line_has_a_source_and_a_name() -> None:
    lines = load_official_overrides()
    assert {line.day.year for line in lines} >= {2025, 2026}
    for line in lines:
        assert line.name.strip() and line.source.strip()
    # Every swapped day off comes with its make-up working day in the same year.
    for year in (2025, 2026):
        swaps = [o for o in lines if o.day.year == year and "hoán đổi" in o.name]
        makeups = [o for o in lines if o.day.year == year and o.kind is OverrideKind.WORKING_DAY]
        assert len(swaps) == len(makeups)


def test_x1_done_means_examples() -> None:
    assert CALENDAR.add_working_days(date(2025, 12, 31), 5).due == date(2026, 1, 9)
    # Saturday 10/01/2026 is worked, so it counts.
    assert CALENDAR.add_working_days(date(2025, 12, 31), 10).due == date(2026, 1, 15)


def test_x1_civil_code_the_event_day_is_not_counted() -> None:
    # Monday event: one working day later is Tuesday, even though Monday is a working day.
    assert CALENDAR.add_working_days(date(2026, 3, 9), 1).due == date(2026, 3, 10)
    # Friday event: one working day later is Monday.
    deadline = CALENDAR.add_working_days(date(2026, 3, 13), 1)
    assert deadline.due == date(2026, 3, 16)
    assert [s.day for s in deadline.skipped] == [date(2026, 3, 14), date(2026, 3, 15)]
    assert CALENDAR.add_working_days(date(2026, 3, 13), 0).due == date(2026, 3, 13)


def test_x1_deadline_across_tet_explains_every_skipped_day() -> None:
    deadline = CALENDAR.add_working_days(date(2026, 2, 10), 10)
    assert deadline.due == date(2026, 3, 3)
    skipped = {s.day: s for s in deadline.skipped}
    for day in range(16, 21):
        assert skipped[date(2026, 2, day)].reason is DayReason.PUBLIC_HOLIDAY
    text = "\n".join(explain_deadline(deadline))
    assert "Thứ Ba, 03/03/2026" in text
    assert "Thứ Ba, 17/02/2026: ngày lễ, Tết — Tết Nguyên Đán" in text
    assert "Thứ Bảy, 14/02/2026: nghỉ cuối tuần" in text


def test_x1_deadline_across_30_4_and_1_5_2025_with_the_makeup_saturday() -> None:
    # From Friday 25/04/2025: Saturday 26/04 is worked (1), 28 (2), 29 (3); 30/4, 1/5 holidays;
    # 2/5 swapped off; 5/5 (4), 6/5 (5).
    deadline = CALENDAR.add_working_days(date(2025, 4, 25), 5)
    assert deadline.due == date(2025, 5, 6)
    text = "\n".join(explain_deadline(deadline))
    assert "Thứ Sáu, 02/05/2025: ngày nghỉ theo thông báo chính thức" in text
    assert "6150/TB-BLĐTBXH" in text


def test_p4_latest_notice_day_leaves_five_whole_working_days() -> None:
    window = CALENDAR.notice_window(date(2026, 3, 16), 5)
    assert window.latest_day == date(2026, 3, 8)
    assert window.latest_working_day == date(2026, 3, 6)
    assert window.counted == tuple(date(2026, 3, d) for d in (9, 10, 11, 12, 13))
    assert CALENDAR.working_days_strictly_between(window.latest_day, date(2026, 3, 16)) == 5
    # One day later would leave only four.
    assert CALENDAR.working_days_strictly_between(date(2026, 3, 9), date(2026, 3, 16)) == 4
    text = "\n".join(explain_notice_window(window))
    assert "Chủ nhật, 08/03/2026" in text and "Thứ Sáu, 06/03/2026" in text


def test_p4_latest_notice_day_before_tet() -> None:
    # A session on Wednesday 25/02/2026: Tết (16–20/02) does not count.
    window = CALENDAR.notice_window(date(2026, 2, 25), 5)
    assert window.counted == (
        date(2026, 2, 11),
        date(2026, 2, 12),
        date(2026, 2, 13),
        date(2026, 2, 23),
        date(2026, 2, 24),
    )
    assert window.latest_day == date(2026, 2, 10)


def test_p4_earliest_session_day_is_the_mirror_of_the_latest_notice_day() -> None:
    earliest = CALENDAR.earliest_session_day(date(2026, 3, 2), 5)
    assert earliest == date(2026, 3, 10)
    assert CALENDAR.notice_window(earliest, 5).latest_day >= date(2026, 3, 2)
    assert CALENDAR.notice_window(earliest - timedelta(days=1), 5).latest_day < date(2026, 3, 2)


def test_x1_administrator_lines_win_over_the_official_file_and_the_library() -> None:
    admin = [
        Override(
            date(2026, 1, 2),
            OverrideKind.WORKING_DAY,
            "Làm việc",
            "QĐ 1/QĐ-UBND",
            OverrideOrigin.ADMINISTRATOR,
        ),
        Override(
            date(2026, 2, 17),
            OverrideKind.NOT_A_HOLIDAY,
            "Thử",
            "Thử",
            OverrideOrigin.ADMINISTRATOR,
        ),
        Override(
            date(2026, 3, 16),
            OverrideKind.DAY_OFF,
            "Nghỉ đột xuất",
            "CV 2/UBND",
            OverrideOrigin.ADMINISTRATOR,
        ),
    ]
    calendar = WorkingCalendar.official(admin)
    assert calendar.is_working_day(date(2026, 1, 2))
    assert calendar.status(date(2026, 2, 17)).reason is DayReason.HOLIDAY_NOT_IN_FORCE
    assert not calendar.is_working_day(date(2026, 3, 16))
    assert calendar.status(date(2026, 3, 16)).source == "CV 2/UBND"


def test_x1_not_off_on_a_weekend_stays_a_weekend() -> None:
    calendar = WorkingCalendar([Override(date(2026, 4, 26), OverrideKind.NOT_A_HOLIDAY, "x", "y")])
    assert calendar.status(date(2026, 4, 26)).reason is DayReason.WEEKEND


def test_x1_periods_outside_the_allowed_range_are_refused() -> None:
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(date(2026, 1, 1), -1)
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(date(2026, 1, 1), 10_001)


days = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
counts = st.integers(min_value=0, max_value=300)


@settings(max_examples=300, deadline=None)
@given(days, counts)
def test_x1_adding_n_then_counting_back_gives_n(start: date, n: int) -> None:
    due = CALENDAR.add_working_days(start, n).due
    assert CALENDAR.working_days_between(start, due) == n
    assert CALENDAR.working_days_between(due, start) == -n


@settings(max_examples=300, deadline=None)
@given(days, st.integers(min_value=1, max_value=300))
def test_x1_a_deadline_is_never_a_day_off(start: date, n: int) -> None:
    deadline = CALENDAR.add_working_days(start, n)
    assert CALENDAR.is_working_day(deadline.due)
    assert all(not status.working for status in deadline.skipped)
    assert (deadline.due - start).days == n + len(deadline.skipped)


@settings(max_examples=300, deadline=None)
@given(days, counts, counts)
def test_x1_deadlines_grow_with_n(start: date, a: int, b: int) -> None:
    small, large = sorted((a, b))
    assert (
        CALENDAR.add_working_days(start, small).due <= CALENDAR.add_working_days(start, large).due
    )
    if small < large:
        assert (
            CALENDAR.add_working_days(start, small).due
            < CALENDAR.add_working_days(start, large).due
        )


@settings(max_examples=300, deadline=None)
@given(days, st.integers(min_value=1, max_value=60))
def test_x1_subtracting_mirrors_adding(end: date, n: int) -> None:
    back = CALENDAR.subtract_working_days(end, n).due
    # ``back`` is the n-th working day before ``end``: a working day, with n - 1 between.
    assert CALENDAR.is_working_day(back)
    assert CALENDAR.working_days_strictly_between(back, end) == n - 1
    assert CALENDAR.add_working_days(back, n - 1).due < end


@settings(max_examples=200, deadline=None)
@given(days, st.integers(min_value=1, max_value=20))
def test_p4_notice_window_is_the_latest_lawful_day(session_day: date, n: int) -> None:
    window = CALENDAR.notice_window(session_day, n)
    assert CALENDAR.working_days_strictly_between(window.latest_day, session_day) >= n
    next_day = window.latest_day + timedelta(days=1)
    assert CALENDAR.working_days_strictly_between(next_day, session_day) < n
    assert CALENDAR.is_working_day(window.latest_working_day)
    assert window.latest_working_day <= window.latest_day
