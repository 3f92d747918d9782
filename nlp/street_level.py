"""An address cut down to the street (issue 13, item 4): what a public record may show of where a
problem is. House numbers are removed ("số 12", "nhà 5", a leading "12/3A"); alleys and streets
stay ("hẻm 42 Lê Lợi"), so the place is found on the map but a home is not. The office still
checks the result before it is published."""

from __future__ import annotations

import re
import unicodedata

# "số 12", "nhà số 12/3", "nhà 5A", "căn 3": a house, not a street.
_HOUSE = re.compile(r"(?i)\b(?:nhà\s+số|nhà|số\s+nhà|số|căn(?:\s+hộ)?)\s*\d+[\w/.-]*")
# A house number at the start: "12 Lê Lợi", "12/3A Lê Lợi", "12-14 Lê Lợi".
_LEADING_NUMBER = re.compile(r"^\s*\d+[\w/.-]*\s+")
_SPACES = re.compile(r"\s+")
_EDGES = " ,;.-–"


def street_level(address: str) -> str:
    """``address`` without house numbers, on one line; "" when nothing is left."""
    text = unicodedata.normalize("NFC", address)
    text = _HOUSE.sub(" ", text)
    text = _LEADING_NUMBER.sub("", text)
    text = _SPACES.sub(" ", text)
    text = re.sub(r"\s+([,;.])", r"\1", text)
    return text.strip(_EDGES)
