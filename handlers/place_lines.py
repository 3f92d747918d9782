"""The place of a problem and its photos as lines under a petition, for the officials who
resolve it (issue 13): the address as written, a map link for a shared point, the photos."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.channel import Button, Photo
from handlers.replies import button, say
from procedure.places import map_url


def place_lines(details: Mapping[str, object] | None, code: str = "") -> str:
    """ "" when the petition has no place and no photo; else lines, each after a newline. With
    the petition's ``code``, the photo line says where to see the photos again (/anh)."""
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
        line = say("staff.place.photos", count=photos, links=shown).rstrip()
        if code:
            line += " " + say("staff.photos.where", code=code)
        lines.append(line)
    return "".join("\n" + line for line in lines)


def photo_count(details: Mapping[str, object] | None) -> int:
    count = (details or {}).get("photos")
    return count if isinstance(count, int) else 0


def photos_of(details: Mapping[str, object] | None, code: str) -> tuple[Photo, ...]:
    """The photos a platform keeps (``photo_refs`` of petitions.place_details), the first one
    captioned with the petition's code: the channel that holds them sends them after the text;
    the others show only the photo line of :func:`place_lines`."""
    refs = (details or {}).get("photo_refs")
    if not isinstance(refs, list):
        return ()
    caption = say("staff.photos.caption", code=code)
    return tuple(
        Photo(channel=str(channel), file_ref=str(file_ref), caption="" if index else caption)
        for index, (channel, file_ref) in enumerate(refs)
    )


def photos_button(
    details: Mapping[str, object] | None, code: str
) -> tuple[tuple[Button, ...], ...]:
    """A row with the "Xem ảnh" button (/anh) when the petition has photos; else none."""
    count = photo_count(details)
    return ((button("staff.button.photos", f"staff:anh:{code}", count=count),),) if count else ()
