"""Numbers and button data typed or sent by anyone, parsed in ONE place, with bounds (X5).

Anything may arrive: superscript digits ('²' is ``str.isdigit()``), numbers past the database's
integer range or Python's 4,300-digit limit, forged or stale button data. Each parser answers a
value or ``None`` — never an exception — and the caller answers the person with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass

# Ids are INTEGER on SQLite and PostgreSQL: 1 … 2**31 - 1 is safe on both.
MAX_ID = 2**31 - 1
MAX_ID_DIGITS = len(str(MAX_ID))
MIN_YEAR, MAX_YEAR = 2000, 2100
# Button data is at most 64 bytes on Telegram; anything longer was not made by us.
MAX_BUTTON_DATA = 64


def ascii_digits(text: str) -> bool:
    """Only the digits 0–9 (``str.isdigit`` also accepts '²', '٣', '𝟓' …)."""
    return bool(text) and text.isascii() and text.isdigit()


def parse_id(text: str | None) -> int | None:
    """A record number (session, unit …): ASCII digits, 1 ≤ n ≤ 2**31 − 1; an optional '#'."""
    value = (text or "").strip().removeprefix("#")
    if not ascii_digits(value) or len(value) > MAX_ID_DIGITS:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def parse_count(text: str | None, *, maximum: int) -> int | None:
    """A positive count up to ``maximum`` (a capacity); '1.000' is read as 1000."""
    value = (text or "").strip().replace(".", "")
    if not ascii_digits(value) or len(value) > len(str(maximum)):
        return None
    number = int(value)
    return number if 1 <= number <= maximum else None


def parse_year(text: str | None) -> int | None:
    """A year of four ASCII digits between 2000 and 2100."""
    value = (text or "").strip()
    if not ascii_digits(value) or len(value) != 4:
        return None
    number = int(value)
    return number if MIN_YEAR <= number <= MAX_YEAR else None


# Every prefix of the data our buttons carry ("prefix:value"). Data with another prefix was not
# made by this bot (or by a version long gone).
BUTTON_PREFIXES = frozenset(
    {
        "agency",
        "area",
        "checkin",
        "code",
        "cmd",
        "conclude",
        "confirm",
        "consent",
        "draft",
        "erase",
        "fix",
        "form",
        "kind",
        "name",
        "offer",
        "opinion",
        "phone",
        "reg",
        "resolved",
        "session",
        "staff",
        "text",
        "topic",
        "track",
        "unreg",
        "word",
        "words",
    }
)


@dataclass(frozen=True)
class ButtonData:
    prefix: str
    value: str

    @property
    def id(self) -> int | None:
        """The value as a record number, if it is one."""
        return parse_id(self.value)


def parse_button(data: str | None) -> ButtonData | None:
    """``prefix:value`` with a known prefix and a sane length; ``None`` for anything else."""
    if not data or len(data) > MAX_BUTTON_DATA or ":" not in data:
        return None
    prefix, _, value = data.partition(":")
    if prefix not in BUTTON_PREFIXES:
        return None
    return ButtonData(prefix, value)
