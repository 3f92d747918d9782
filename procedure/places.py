"""The place of a problem (issue 13, item 3): a point a resident shared, or the address they
wrote. Plain rules over plain values: which points are accepted, and how far a point is rounded
before anyone but the petitioner's officials sees it (X3).

No street-level geocoder works offline, so a written address is kept as written and only a shared
location has coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

from procedure.errors import Refusal

# Vietnam with its islands, roughly: a point outside was not taken in the country (a phone's
# wrong fix, a place shared by mistake, swapped latitude and longitude).
LATITUDE_RANGE = (8.0, 24.0)
LONGITUDE_RANGE = (102.0, 110.0)
# Three decimals are about 110 m of latitude: the street, not the house (Open311, X3).
PUBLIC_DECIMALS = 3
MAX_PLACE_TEXT = 300
MAP_ZOOM = 18
PUBLIC_MAP_ZOOM = 17  # the street and its neighbours: the rounded point is ±50 m


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


def checked_point(latitude: float, longitude: float) -> Point:
    """The point, or a refusal a resident can act on when it is not in Vietnam."""
    if not (
        LATITUDE_RANGE[0] <= latitude <= LATITUDE_RANGE[1]
        and LONGITUDE_RANGE[0] <= longitude <= LONGITUDE_RANGE[1]
    ):
        raise Refusal("refusal.location_outside_vietnam")
    return Point(latitude, longitude)


def checked_place_text(text: str) -> str:
    """An address as the resident wrote it, on one line; refused when empty or too long."""
    flat = " ".join(text.split())
    if not flat:
        raise Refusal("refusal.place_text_empty")
    if len(flat) > MAX_PLACE_TEXT:
        raise Refusal("refusal.place_text_too_long", limit=MAX_PLACE_TEXT)
    return flat


def public_point(latitude: float | None, longitude: float | None) -> Point | None:
    """X3: the point rounded to the street (about 100 m), as the public record shows it."""
    if latitude is None or longitude is None:
        return None
    return Point(round(latitude, PUBLIC_DECIMALS), round(longitude, PUBLIC_DECIMALS))


def map_url(latitude: float, longitude: float, *, public: bool = False) -> str:
    """An OpenStreetMap link centred on the point, with a marker. ``public``: the point rounded
    to the street (:func:`public_point`), shown at street zoom; nothing finer is in the link."""
    if public:
        lat = f"{round(latitude, PUBLIC_DECIMALS):.{PUBLIC_DECIMALS}f}"
        lon = f"{round(longitude, PUBLIC_DECIMALS):.{PUBLIC_DECIMALS}f}"
        zoom = PUBLIC_MAP_ZOOM
    else:
        lat, lon, zoom = f"{latitude:.6f}", f"{longitude:.6f}", MAP_ZOOM
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map={zoom}/{lat}/{lon}"
