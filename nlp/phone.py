"""Q2: a personal phone number typed by a resident, read as a Vietnamese number.

Accepts what people type: ``0912 345 678``, ``0912.345.678``, ``+84 912-345-678``,
``(+84) 912345678``, ``84912345678``, ``0084…``, full-width digits, a few words around it
(``SĐT: 0912345678``). Validity is ``phonenumbers``' (region VN): mobile or landline numbers
only; toll-free, premium-rate and similar numbers are no personal number.

An old 11-digit mobile number (``0162 …`` — the 01xx prefixes moved to ten digits in 2018) is
not accepted as such: the new number is proposed for the resident to confirm.

X3: phone numbers never reach a log. ``mask_phone`` gives the form to log, and the ``repr`` of
a ``PhoneParse`` is masked too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberType

#: The 2018 move of 11-digit mobile numbers to 10 digits (Ministry of Information and
#: Communications, Decision 798/QĐ-BTTTT, 25/05/2018; carried out 15/09–15/11/2018):
#: old prefix -> new prefix, both without the leading 0.
OLD_MOBILE_PREFIXES: dict[str, str] = {
    # Viettel
    "162": "32",
    "163": "33",
    "164": "34",
    "165": "35",
    "166": "36",
    "167": "37",
    "168": "38",
    "169": "39",
    # MobiFone
    "120": "70",
    "121": "79",
    "122": "77",
    "126": "76",
    "128": "78",
    # VinaPhone
    "123": "83",
    "124": "84",
    "125": "85",
    "127": "81",
    "129": "82",
    # Vietnamobile
    "186": "56",
    "188": "58",
    # Gmobile
    "199": "59",
}

VIETNAM_CODE = "84"


class PhoneStatus(StrEnum):
    """What a typed phone number turned out to be."""

    VALID = "valid"
    #: An old 11-digit mobile number; ``proposed_e164`` is the number it became in 2018.
    OLD_11_DIGIT_PROPOSAL = "old_11_digit_proposal"
    #: A valid number of another country (Q2 wants a number valid for Vietnam).
    NOT_VIETNAMESE = "not_vietnamese"
    #: A valid Vietnamese number that is no personal line (toll-free 1800, premium 1900, …).
    NOT_PERSONAL = "not_personal"
    INVALID = "invalid"
    NO_NUMBER = "no_number"
    #: More than one number in the text: ask which one.
    SEVERAL_NUMBERS = "several_numbers"


class PhoneKind(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"


@dataclass(frozen=True, slots=True, repr=False)
class PhoneParse:
    """The reading of a typed phone number."""

    status: PhoneStatus
    #: The number in E.164 (``+84912345678``) when VALID.
    e164: str | None = None
    #: The new 10-digit number in E.164 when OLD_11_DIGIT_PROPOSAL.
    proposed_e164: str | None = None
    kind: PhoneKind | None = None

    @property
    def valid(self) -> bool:
        return self.status is PhoneStatus.VALID

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={mask_phone(value)!r}"
            for name, value in (("e164", self.e164), ("proposed_e164", self.proposed_e164))
            if value
        )
        kind = f", kind={self.kind.value}" if self.kind else ""
        return f"PhoneParse(status={self.status.value}{', ' + shown if shown else ''}{kind})"


# A run of digits with the separators people type inside a number, with an optional leading
# "+", "(+84)" or "(84)".
_CANDIDATE = re.compile(r"(?:\(\s*\+?\s*[0-9]{1,3}\s*\)|\+)?\s*[0-9](?:[0-9 .\-–()]*[0-9])?")
_MIN_DIGITS = 8
_KINDS = {
    PhoneNumberType.MOBILE: PhoneKind.MOBILE,
    PhoneNumberType.FIXED_LINE: PhoneKind.LANDLINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: PhoneKind.MOBILE,
}


def _digits(text: str) -> str:
    return "".join(char for char in text if "0" <= char <= "9")


def _candidates(text: str) -> list[str]:
    return [
        match.group().strip()
        for match in _CANDIDATE.finditer(text)
        if len(_digits(match.group())) >= _MIN_DIGITS
    ]


def _national(candidate: str) -> tuple[str, str]:
    """(country code, national digits) of a typed number; Vietnam unless it says otherwise.

    The country code is empty when a ``+`` is followed by no known country code.
    """
    digits = _digits(candidate)
    plus = "+" in candidate.split(digits[0], 1)[0]
    international = plus or (candidate.startswith("(") and not digits.startswith("0"))
    if digits.startswith("00"):
        digits, international = digits[2:], True
    if international:
        country, digits = _split_country(digits)
    elif digits.startswith(VIETNAM_CODE) and len(digits) in {11, 12}:
        country, digits = VIETNAM_CODE, digits[2:]
    else:
        country = VIETNAM_CODE
    return country, digits.removeprefix("0") if country == VIETNAM_CODE else digits


def _split_country(digits: str) -> tuple[str, str]:
    for length in (1, 2, 3):
        code = digits[:length]
        if code and phonenumbers.region_code_for_country_code(int(code)) != "ZZ":
            return code, digits[length:]
    return "", digits


def _e164(country: str, national: str) -> str:
    return f"+{country}{national}"


def parse_phone(text: str) -> PhoneParse:
    """Read a phone number typed by a resident (Q2). Never raises."""
    text = unicodedata.normalize("NFKC", text)
    candidates = _candidates(text)
    if not candidates:
        has_digits = bool(_digits(text))
        return PhoneParse(PhoneStatus.INVALID if has_digits else PhoneStatus.NO_NUMBER)
    readings = {_national(candidate) for candidate in candidates}
    if len(readings) > 1:
        return PhoneParse(PhoneStatus.SEVERAL_NUMBERS)
    country, national = readings.pop()
    if not country or not national:
        return PhoneParse(PhoneStatus.INVALID)
    if country != VIETNAM_CODE:
        return _foreign(country, national)
    if len(national) == 10 and national[:3] in OLD_MOBILE_PREFIXES:
        proposed = OLD_MOBILE_PREFIXES[national[:3]] + national[3:]
        if _vietnamese_kind(proposed) is PhoneKind.MOBILE:
            return PhoneParse(
                PhoneStatus.OLD_11_DIGIT_PROPOSAL,
                proposed_e164=_e164(VIETNAM_CODE, proposed),
                kind=PhoneKind.MOBILE,
            )
    number = _parsed(VIETNAM_CODE, national)
    if number is None or not phonenumbers.is_valid_number(number):
        return PhoneParse(PhoneStatus.INVALID)
    kind = _KINDS.get(phonenumbers.number_type(number))
    if kind is None:
        return PhoneParse(PhoneStatus.NOT_PERSONAL)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneParse(PhoneStatus.VALID, e164=e164, kind=kind)


def _parsed(country: str, national: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(_e164(country, national))
    except phonenumbers.NumberParseException:
        return None


def _vietnamese_kind(national: str) -> PhoneKind | None:
    number = _parsed(VIETNAM_CODE, national)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    return _KINDS.get(phonenumbers.number_type(number))


def _foreign(country: str, national: str) -> PhoneParse:
    number = _parsed(country, national)
    if number is not None and phonenumbers.is_valid_number(number):
        return PhoneParse(PhoneStatus.NOT_VIETNAMESE)
    return PhoneParse(PhoneStatus.INVALID)


def mask_phone(e164: str) -> str:
    """A phone number fit for a log: ``+84912345678`` -> ``+84 91x xxx 678`` (X3).

    Keeps the country code, the first two and the last three digits of the national number
    and masks the rest; short or unreadable input is masked entirely.
    """
    digits = _digits(e164)
    country, national = _split_country(digits) if e164.strip().startswith("+") else ("", digits)
    if len(national) < 8:
        masked = "x" * len(national)
    else:
        masked = national[:2] + "x" * (len(national) - 5) + national[-3:]
    grouped = " ".join(part for part in (masked[:3], masked[3:6], masked[6:]) if part)
    return f"+{country} {grouped}" if country else grouped
