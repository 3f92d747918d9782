"""Parsers of what people type: dates, times and codes (property tests)."""

from __future__ import annotations

from datetime import date, time

from hypothesis import given
from hypothesis import strategies as st

from nlp.dates import parse_date, parse_time
from procedure.codes import (
    CODE_ALPHABET,
    new_registration_code,
    new_tracking_code,
    normalise_code,
)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
def test_dates_round_trip_in_every_written_form(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%d/%m/%Y")) == day
    assert parse_date(f"{day.day}/{day.month}/{day.year}") == day
    assert parse_date(f" {day.day}-{day.month}-{day.year} ") == day
    assert parse_date(day.strftime("%d.%m.%Y")) == day


@given(st.text(max_size=30))
def test_any_text_parses_to_a_date_or_none_without_raising(text: str) -> None:
    result = parse_date(text)
    assert result is None or isinstance(result, date)
    assert parse_time(text) is None or isinstance(parse_time(text), time)


def test_impossible_dates_and_times_are_none() -> None:
    for text in ("31/02/2026", "2026-13-01", "00/01/2026", "16/03", "hôm nay", ""):
        assert parse_date(text) is None
    for text in ("24:00", "8:60", "8:5", "abc"):
        assert parse_time(text) is None
    assert parse_time("8h30") == time(8, 30)
    assert parse_time("14g") == time(14, 0)
    assert parse_time("07:30") == time(7, 30)


@given(st.integers(min_value=0, max_value=200))
def test_codes_use_an_unambiguous_alphabet_and_normalise_back(_: int) -> None:
    tracking = new_tracking_code()
    registration = new_registration_code()
    for code in (tracking.removeprefix("KN-"), registration):
        assert not set(code.replace("-", "")) - set(CODE_ALPHABET)
        assert not set(code) & set("01OI")
    assert normalise_code(tracking.lower().replace("-", " ")) == tracking
    assert normalise_code(registration.replace("-", "")) == registration


@given(st.text(max_size=20))
def test_any_text_normalises_to_a_code_or_nothing(text: str) -> None:
    code = normalise_code(text)
    assert code == "" or code.startswith("KN-") or len(code) == 7
