"""Dates and times as staff and residents type them (issue 11, item 3), relative to a given
today, across a year boundary and a weekend; read back (``inferred``) unless written in full."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.dates import When, read_when

NEW_YEARS_EVE_EVE = date(2026, 12, 30)  # a Wednesday, two days before the year ends
SATURDAY = date(2026, 3, 14)
SUNDAY = date(2026, 3, 15)

CASES = [
    # (today, typed, day, time, inferred)
    (NEW_YEARS_EVE_EVE, "04/12/2026", date(2026, 12, 4), None, False),
    (NEW_YEARS_EVE_EVE, "4/12", date(2027, 12, 4), None, True),  # 4 December has passed
    (NEW_YEARS_EVE_EVE, "4/1", date(2027, 1, 4), None, True),  # across the year
    (NEW_YEARS_EVE_EVE, "31/12", date(2026, 12, 31), None, True),
    (NEW_YEARS_EVE_EVE, "ngày 4 tháng 1", date(2027, 1, 4), None, True),
    (NEW_YEARS_EVE_EVE, "thứ 6 tuần này", date(2027, 1, 1), None, True),
    (NEW_YEARS_EVE_EVE, "thu 6 tuan nay", date(2027, 1, 1), None, True),
    (NEW_YEARS_EVE_EVE, "thứ sáu tuần sau", date(2027, 1, 8), None, True),
    (NEW_YEARS_EVE_EVE, "thu sau tuan sau", date(2027, 1, 8), None, True),
    (NEW_YEARS_EVE_EVE, "thứ hai tuần tới", date(2027, 1, 4), None, True),
    (NEW_YEARS_EVE_EVE, "mai", date(2026, 12, 31), None, True),
    (NEW_YEARS_EVE_EVE, "ngày mai", date(2026, 12, 31), None, True),
    (NEW_YEARS_EVE_EVE, "ngày mốt", date(2027, 1, 1), None, True),
    (NEW_YEARS_EVE_EVE, "hôm nay", date(2026, 12, 30), None, True),
    (NEW_YEARS_EVE_EVE, "2027-01-04", date(2027, 1, 4), None, False),
    (NEW_YEARS_EVE_EVE, "Thứ Hai, 04/01/2027", date(2027, 1, 4), None, False),
    (SATURDAY, "thứ 6 tuần này", date(2026, 3, 13), None, True),  # yesterday: said, not moved
    (SATURDAY, "thứ sáu tuần sau", date(2026, 3, 20), None, True),
    (SATURDAY, "chủ nhật", date(2026, 3, 15), None, True),
    (SATURDAY, "thứ 2", date(2026, 3, 16), None, True),
    (SATURDAY, "mai", date(2026, 3, 15), None, True),
    (SUNDAY, "thứ 6 tuần này", date(2026, 3, 13), None, True),  # the week is Monday–Sunday
    (SUNDAY, "thứ sáu tuần sau", date(2026, 3, 20), None, True),
    (SUNDAY, "cn tuần sau", date(2026, 3, 22), None, True),
    (SUNDAY, "thứ 7", date(2026, 3, 21), None, True),
    (SUNDAY, "4/12", date(2026, 12, 4), None, True),
    (SUNDAY, "8h", None, time(8, 0), True),
    (SUNDAY, "8 giờ", None, time(8, 0), True),
    (SUNDAY, "11 giờ 30", None, time(11, 30), True),
    (SUNDAY, "11 gio 30", None, time(11, 30), True),
    (SUNDAY, "11h30", None, time(11, 30), True),
    (SUNDAY, "11:30", None, time(11, 30), False),
    (SUNDAY, "08:00", None, time(8, 0), False),
    (SUNDAY, "2 giờ chiều", None, time(14, 0), True),
    (SUNDAY, "2 gio chieu", None, time(14, 0), True),
    (SUNDAY, "7 giờ tối", None, time(19, 0), True),
    (SUNDAY, "8 giờ sáng", None, time(8, 0), True),
    (SUNDAY, "8 giờ rưỡi", None, time(8, 30), True),
    (SUNDAY, "9 giờ kém 15", None, time(8, 45), True),
    (SUNDAY, "14g", None, time(14, 0), True),
    (SUNDAY, "8h thứ 6 tuần này", date(2026, 3, 13), time(8, 0), True),
    (NEW_YEARS_EVE_EVE, "thứ sáu tuần sau lúc 2 giờ chiều", date(2027, 1, 8), time(14, 0), True),
    (NEW_YEARS_EVE_EVE, "04/12/2026 08:00", date(2026, 12, 4), time(8, 0), False),
    (NEW_YEARS_EVE_EVE, "7 giờ tối mai", date(2026, 12, 31), time(19, 0), True),
]


@pytest.mark.parametrize(("today", "typed", "day", "at", "inferred"), CASES)
def test_p1_dates_and_times_as_typed(
    today: date, typed: str, day: date | None, at: time | None, inferred: bool
) -> None:
    assert read_when(typed, today) == When(day=day, at=at, inferred=inferred)


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("hello", "unknown"),
        ("thứ 6 hay thứ 7", "ambiguous"),
        ("31/02", "invalid"),
        ("31/02/2027", "invalid"),
        ("25:00", "invalid"),
        ("2 giờ", "ambiguous_hour"),  # 02:00 or 14:00? never guessed
        ("5h", "ambiguous_hour"),
        ("4/12 5/12", "ambiguous"),
        ("Thứ Ba, 04/01/2027", "weekday_mismatch"),
        ("mot", "unknown"),  # "một" (one), not "mốt"
    ],
)
def test_p1_what_is_not_a_date_is_an_error_not_a_guess(typed: str, error: str) -> None:
    assert read_when(typed, NEW_YEARS_EVE_EVE).error == error


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40), st.dates(min_value=date(2000, 1, 1), max_value=date(2098, 12, 31)))
def test_p1_reading_any_text_never_fails(text: str, today: date) -> None:
    when = read_when(text, today)
    assert (when.error is None) == (when.day is not None or when.at is not None)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2098, 12, 31)))
def test_p1_a_day_and_month_is_the_next_such_day_from_today(today: date) -> None:
    when = read_when(f"{today.day}/{today.month}", today)
    assert when.day == today and when.inferred
    words = read_when("thứ sáu tuần sau", today)
    assert words.day is not None and words.day.weekday() == 4
    assert 5 <= (words.day - today).days <= 11  # from a Sunday to a Monday
