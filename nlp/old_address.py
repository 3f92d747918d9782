"""Old addresses ("Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh") to the ward that replaced them in
the 2025 reorganisation, with underthesea's offline ``convert_address`` (loaded lazily)."""

from __future__ import annotations


def current_ward_name(address: str) -> str | None:
    """The name of today's ward/commune for an address written with the old units, or None."""
    try:
        from underthesea import convert_address
    except ImportError:  # pragma: no cover - underthesea is a dependency
        return None
    try:
        result = convert_address(address)
    except Exception:  # the converter is best effort: any failure means "no suggestion"
        return None
    ward = getattr(getattr(result, "new", None), "ward", "") or ""
    return ward or None
