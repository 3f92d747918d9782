"""Codes people read aloud on the phone or type from paper: registration and tracking codes.

The alphabet has no 0/O and no 1/I (as Decidim does), so no code is misread. Codes are drawn
with ``secrets``: a tracking code has 40 bits, so it cannot be guessed, and lookups of codes
that are not the asker's answer exactly like codes that do not exist.
"""

from __future__ import annotations

import secrets

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
TRACKING_CODE_LENGTH = 8
REGISTRATION_CODE_LENGTH = 6


def _draw(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def new_tracking_code() -> str:
    """``KN`` and two groups of four, for example ``KN-7QH4-MX2C``."""
    body = _draw(TRACKING_CODE_LENGTH)
    return f"KN-{body[:4]}-{body[4:]}"


def new_registration_code() -> str:
    """Six characters in two groups of three, for example ``7QH-4MX``."""
    body = _draw(REGISTRATION_CODE_LENGTH)
    return f"{body[:3]}-{body[3:]}"


def normalise_code(typed: str) -> str:
    """What a person typed, as stored: upper case, no spaces, the dashes put back.

    Returns an empty string when the text cannot be a code (then it is simply not found).
    """
    compact = "".join(ch for ch in typed.upper() if ch.isalnum())
    if compact.startswith("KN") and len(compact) == 2 + TRACKING_CODE_LENGTH:
        body = compact[2:]
        if all(ch in CODE_ALPHABET for ch in body):
            return f"KN-{body[:4]}-{body[4:]}"
        return ""
    if len(compact) == REGISTRATION_CODE_LENGTH and all(ch in CODE_ALPHABET for ch in compact):
        return f"{compact[:3]}-{compact[3:]}"
    return ""
