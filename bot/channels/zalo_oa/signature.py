"""The webhook signature of a Zalo Official Account: ``X-ZEvent-Signature: mac=<hex>`` where
``<hex>`` is the SHA-256 (plain, not HMAC) of first term + raw body + the body's ``timestamp``
+ last term. Published sources differ on the terms (shared/research/channels.md §1a): the first
is the app id (most) or the OA id (some community code); the last is the OA secret key from the
webhook settings (most) or the app secret ([ZSPEC]). Every variant is accepted and the one that
matched is reported, so real traffic can narrow it down."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

HEADER = "X-ZEvent-Signature"


def signature(first: str, raw_body: bytes, timestamp: str, last: str) -> str:
    digest = hashlib.sha256(first.encode() + raw_body + timestamp.encode() + last.encode())
    return "mac=" + digest.hexdigest()


def matching_variant(
    header: str | None,
    raw_body: bytes,
    payload: Mapping[str, object],
    *,
    app_id: str,
    oa_secret_key: str,
    app_secret: str,
) -> str | None:
    """The variant (``"app_id+oa_secret"``, …) whose signature is ``header``, or None."""
    if not header:
        return None
    timestamp = str(payload.get("timestamp", ""))
    recipient = payload.get("recipient")
    oa_id = str(
        payload.get("oa_id") or (recipient.get("id") if isinstance(recipient, dict) else "")
    )
    firsts = {"app_id": app_id, "oa_id": oa_id}
    lasts = {"oa_secret": oa_secret_key, "app_secret": app_secret}
    given = header.strip()
    for first_name, first in firsts.items():
        for last_name, last in lasts.items():
            if not first or not last:
                continue
            expected = signature(first, raw_body, timestamp, last)
            if hmac.compare_digest(expected.encode(), given.encode()):
                return f"{first_name}+{last_name}"
    return None
