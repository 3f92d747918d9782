"""The place of a problem and its photos as lines under a petition, for the officials who
resolve it (issue 13): the address as written, a map link for a shared point, the photos."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.replies import say
from procedure.places import map_url


def place_lines(details: Mapping[str, object] | None) -> str:
    """ "" when the petition has no place and no photo; else lines, each after a newline."""
    if not details:
        return ""
    lines = []
    written = details.get("place_text")
    if isinstance(written, str) and written:
        lines.append(say("staff.place.text", place=written))
    latitude, longitude = details.get("latitude"), details.get("longitude")
    if isinstance(latitude, int | float) and isinstance(longitude, int | float):
        lines.append(say("staff.place.map", map=map_url(float(latitude), float(longitude))))
    photos = details.get("photos")
    if isinstance(photos, int) and photos:
        links = details.get("photo_links")
        shown = " ".join(str(link) for link in links) if isinstance(links, list) else ""
        lines.append(say("staff.place.photos", count=photos, links=shown).rstrip())
    return "".join("\n" + line for line in lines)
