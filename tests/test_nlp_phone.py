"""Q2: phone numbers typed by residents, read as Vietnamese numbers; X3: masked for logs."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlp.phone import (
    OLD_MOBILE_PREFIXES,
    PhoneKind,
    PhoneParse,
    PhoneStatus,
    mask_phone,
    parse_phone,
)

# Ten-digit mobile prefixes in use (without the leading 0) and landline area codes.
MOBILE_PREFIXES = [
    "32",
    "33",
    "39",
    "56",
    "58",
    "59",
    "70",
    "76",
    "77",
    "78",
    "79",
    "81",
    "83",
    "84",
    "85",
    "86",
    "88",
    "89",
    "90",
    "91",
    "93",
    "94",
    "96",
    "97",
    "98",
    "99",
]


@pytest.mark.parametrize(
    "typed",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "+84912345678",
        "+84 912 345 678",
        "(+84) 912-345-678",
        "(84) 912 345 678",
        "84912345678",
        "0084 912 345 678",
        "+84 0912 345 678",
        "912345678",
        "０９１２３４５６７８",
        "SĐT: 0912 345 678",
        "  0912345678 \n",
    ],
)
def test_q2_a_mobile_number_in_every_usual_form_reads_the_same(typed: str) -> None:
    result = parse_phone(typed)
    assert result.status is PhoneStatus.VALID
    assert result.e164 == "+84912345678"
    assert result.kind is PhoneKind.MOBILE


def test_q2_landlines_are_accepted() -> None:
    for typed in ("028 3829 1234", "(028) 3829 1234", "+84 28 3829 1234", "024.3825.1234"):
        result = parse_phone(typed)
        assert result.status is PhoneStatus.VALID, typed
        assert result.kind is PhoneKind.LANDLINE
        assert result.e164 is not None and result.e164.startswith("+842")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("0162 123 4567", "+84321234567"),
        ("01691234567", "+84391234567"),
        ("0120 123 4567", "+84701234567"),
        ("0121 123 4567", "+84791234567"),
        ("0123 123 4567", "+84831234567"),
        ("0127 123 4567", "+84811234567"),
        ("0186 123 4567", "+84561234567"),
        ("0188 123 4567", "+84581234567"),
        ("0199 123 4567", "+84591234567"),
        ("+84 162 123 4567", "+84321234567"),
        ("841621234567", "+84321234567"),
    ],
)
def test_q2_an_old_11_digit_mobile_number_gets_the_2018_number_proposed(old: str, new: str) -> None:
    result = parse_phone(old)
    assert result.status is PhoneStatus.OLD_11_DIGIT_PROPOSAL
    assert result.proposed_e164 == new
    assert result.e164 is None


def test_q2_the_2018_table_is_complete_and_every_new_prefix_is_a_mobile_prefix() -> None:
    assert len(OLD_MOBILE_PREFIXES) == 21
    assert len(set(OLD_MOBILE_PREFIXES.values())) == 21
    for new in OLD_MOBILE_PREFIXES.values():
        number = phonenumbers.parse(f"+84{new}1234567")
        assert phonenumbers.is_valid_number(number), new
        assert phonenumbers.number_type(number) is phonenumbers.PhoneNumberType.MOBILE


@pytest.mark.parametrize(
    ("typed", "status"),
    [
        ("", PhoneStatus.NO_NUMBER),
        ("không có", PhoneStatus.NO_NUMBER),
        ("12", PhoneStatus.INVALID),
        ("0912 345", PhoneStatus.INVALID),
        ("0112345678", PhoneStatus.INVALID),
        ("09123456789012", PhoneStatus.INVALID),
        ("+999 123 456 789", PhoneStatus.INVALID),
        ("+1 202 555 0143", PhoneStatus.NOT_VIETNAMESE),
        ("+33 1 42 68 53 00", PhoneStatus.NOT_VIETNAMESE),
        ("1800 1234", PhoneStatus.NOT_PERSONAL),
        ("1900 1234", PhoneStatus.NOT_PERSONAL),
        ("0912345678 hoặc 0987654321", PhoneStatus.SEVERAL_NUMBERS),
    ],
)
def test_q2_what_is_not_a_personal_vietnamese_number(typed: str, status: PhoneStatus) -> None:
    result = parse_phone(typed)
    assert result.status is status
    assert result.e164 is None


def test_q2_the_same_number_written_twice_is_one_number() -> None:
    assert parse_phone("0912345678 (+84 912 345 678)").status is PhoneStatus.VALID


def test_x3_masked_numbers_keep_only_the_ends() -> None:
    assert mask_phone("+84912345678") == "+84 91x xxx 678"
    assert mask_phone("+842838291234") == "+84 28x xxx x234"
    assert mask_phone("+12025550143") == "+1 20x xxx x143"
    assert mask_phone("") == ""
    assert "345" not in mask_phone("+84912345678")


def test_x3_the_repr_of_a_reading_never_shows_the_number() -> None:
    result = parse_phone("0912 345 678")
    assert "912345678" not in repr(result)
    assert "345" not in repr(result)
    assert "+84 91x xxx 678" in repr(result)
    proposal = parse_phone("01621234567")
    assert "321234567" not in repr(proposal)


@given(st.text(max_size=40))
def test_q2_any_text_reads_without_raising(text: str) -> None:
    result = parse_phone(text)
    assert isinstance(result, PhoneParse)
    if result.status is PhoneStatus.VALID:
        assert result.e164 is not None and result.e164.startswith("+84")
        assert phonenumbers.is_valid_number(phonenumbers.parse(result.e164))
    else:
        assert result.e164 is None
    if result.status is PhoneStatus.OLD_11_DIGIT_PROPOSAL:
        assert result.proposed_e164 is not None
        assert phonenumbers.is_valid_number(phonenumbers.parse(result.proposed_e164))
    assert isinstance(mask_phone(text), str)


@given(st.text(alphabet="0123456789 +-.()", max_size=24))
def test_q2_any_digits_and_separators_read_without_raising(text: str) -> None:
    assert isinstance(parse_phone(text).status, PhoneStatus)


SEPARATORS = st.sampled_from([" ", ".", "-", ""])


@given(
    st.sampled_from(MOBILE_PREFIXES),
    st.integers(min_value=0, max_value=9_999_999),
    SEPARATORS,
    st.sampled_from(["0{}", "+84{}", "+84 {}", "84{}", "(+84) {}", "0084{}"]),
)
def test_q2_every_valid_mobile_number_round_trips_in_every_form(
    prefix: str, rest: int, separator: str, form: str
) -> None:
    digits = f"{prefix}{rest:07d}"
    e164 = f"+84{digits}"
    if not phonenumbers.is_valid_number(phonenumbers.parse(e164)):
        return
    typed = form.format(separator.join([digits[:3], digits[3:6], digits[6:]]))
    result = parse_phone(typed)
    assert result.status is PhoneStatus.VALID, typed
    assert result.e164 == e164
    assert mask_phone(e164) == f"+84 {digits[:2]}x xxx {digits[-3:]}"


@given(st.sampled_from(sorted(OLD_MOBILE_PREFIXES)), st.integers(0, 9_999_999), SEPARATORS)
def test_q2_every_old_mobile_number_gets_its_new_number(
    old: str, rest: int, separator: str
) -> None:
    typed = separator.join([f"0{old}", f"{rest:07d}"[:3], f"{rest:07d}"[3:]])
    result = parse_phone(typed)
    assert result.status is PhoneStatus.OLD_11_DIGIT_PROPOSAL
    assert result.proposed_e164 == f"+84{OLD_MOBILE_PREFIXES[old]}{rest:07d}"
