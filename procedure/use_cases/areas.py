"""Finding a resident's ward or commune from what they type (B1): today's name, or an address
with the units before 1 July 2025, read by ``nlp.places`` against the official table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, cast

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import col

from procedure.use_cases.administration import WARD_LEVEL
from storage.tables import OrgUnit
from storage.unit_of_work import UnitOfWork

# The official table of units (nlp.places) is read by the first search, not by every start of
# the bot (issue 12).
if TYPE_CHECKING:
    from nlp.places import Reading, Status

MAX_MATCHES = 8
# The search's two statements, built once (issue 12: building a statement cost more than
# running it); plain columns, no rows.
_WARDS = (
    core_select(col(OrgUnit.id), col(OrgUnit.code), col(OrgUnit.name), col(OrgUnit.parent_id))
    .where(col(OrgUnit.level_code) == WARD_LEVEL)
    .order_by(col(OrgUnit.name))
)
_NAMES = core_select(col(OrgUnit.id), col(OrgUnit.name)).where(
    col(OrgUnit.id).in_(bindparam("ids", expanding=True))
)


@dataclass(frozen=True)
class AreaSearch:
    """The wards of this database for what was typed. ``status`` says how it was read
    (``nlp.places.Status``); ``old`` names the old unit, ``today`` today's names from the
    table (also those not in this database)."""

    status: Status
    units: Sequence[OrgUnit]
    old: str = ""
    today: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Ward:
    """What the search reads of a ward (plain columns: a search compares every ward's name, and
    only the few it finds are loaded as rows)."""

    id: int
    code: str
    name: str
    parent_id: int | None


@lru_cache(maxsize=8192)
def _same(a: str, b: str) -> bool:
    from nlp.places import fold

    return fold(a).split() == fold(b).split()


@lru_cache(maxsize=8192)
def _bare(name: str) -> str:
    from nlp.places import fold

    words = fold(name).replace(",", " ").replace(".", " ").split()
    if words[:1] in (["phuong"], ["xa"], ["tinh"]):
        words = words[1:]
    elif words[:2] in (["thi", "tran"], ["dac", "khu"], ["thanh", "pho"]):
        words = words[2:]
    return " ".join(words)


def _in_database(uow: UnitOfWork, wards: Sequence[_Ward], reading: Reading) -> list[_Ward]:
    """Today's units of the reading as rows of this database: by official code (imported with
    ``import_province``), else by name under a province of the same name."""
    by_code = {w.code: w for w in wards}
    ids = sorted({w.parent_id for w in wards if w.parent_id is not None})
    named = cast("Sequence[tuple[int, str]]", uow.execute(_NAMES, {"ids": ids}).all())
    parents: dict[int, str] = dict(named)
    found: list[_Ward] = []
    for unit in reading.wards:
        row = by_code.get(f"vn-{unit.province_code}-{unit.code}")
        if row is None:
            row = next(
                (
                    w
                    for w in wards
                    if _same(w.name, unit.name)
                    and (
                        w.parent_id is None
                        or _same(parents.get(w.parent_id, ""), unit.province_name)
                        or _bare(parents.get(w.parent_id, "")) == _bare(unit.province_name)
                    )
                ),
                None,
            )
        if row is not None and row not in found:
            found.append(row)
    return found


def search_area(uow: UnitOfWork, typed: str) -> AreaSearch:
    """The wards/communes for what a resident typed, with how it was understood."""
    rows = cast("Sequence[tuple[int, str, str, int | None]]", uow.execute(_WARDS).all())
    wards = [_Ward(*row) for row in rows]
    from nlp.places import read_address

    reading = read_address(typed)
    today = tuple(unit.name for unit in reading.wards)
    if reading.status in ("old_unknown", "old_ambiguous"):
        return AreaSearch(reading.status, [], reading.old, today)
    if reading.status in ("current", "old"):
        found = _in_database(uow, wards, reading)
        if found or reading.status == "old":
            return AreaSearch(reading.status, _rows(uow, found), reading.old, today)
    # Part of a name ("ben thanh" for a ward this database calls otherwise, "Tân Đ").
    query = _bare(typed)
    if len(query) < 2:
        return AreaSearch("none", [])
    exact = [w for w in wards if _bare(w.name) == query]
    partial = exact or [w for w in wards if query in _bare(w.name)]
    return AreaSearch("current" if partial else "none", _rows(uow, partial))


def _rows(uow: UnitOfWork, wards: Sequence[_Ward]) -> list[OrgUnit]:
    """The first :data:`MAX_MATCHES` wards found, as rows, in the order found."""
    rows = [uow.session.get(OrgUnit, ward.id) for ward in wards[:MAX_MATCHES]]
    return [row for row in rows if row is not None]


def find_wards(uow: UnitOfWork, typed: str) -> Sequence[OrgUnit]:
    """Wards/communes matching what was typed (with or without diacritics, today's name or an
    old address)."""
    return search_area(uow, typed).units
