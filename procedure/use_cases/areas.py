"""Finding a resident's ward or commune from what they type."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from nlp.old_address import current_ward_name
from nlp.text import strip_diacritics
from procedure.use_cases.administration import WARD_LEVEL
from storage.tables import OrgUnit
from storage.unit_of_work import UnitOfWork

MAX_MATCHES = 8
_PREFIXES = ("phuong ", "xa ", "dac khu ", "thi tran ", "p. ", "p ", "x. ")


def _fold(text: str) -> str:
    return " ".join(strip_diacritics(text.lower()).replace(",", " ").split())


def _bare(name: str) -> str:
    folded = _fold(name)
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


def find_wards(uow: UnitOfWork, typed: str) -> Sequence[OrgUnit]:
    """Wards/communes whose name matches what was typed (with or without diacritics). An old
    address with its province is first converted to today's ward."""
    query = _bare(typed)
    if len(query) < 2:
        return []
    wards = uow.session.exec(
        select(OrgUnit).where(OrgUnit.level_code == WARD_LEVEL).order_by(col(OrgUnit.name))
    ).all()
    exact = [w for w in wards if _bare(w.name) == query]
    if exact:
        return exact[:MAX_MATCHES]
    if "," in typed:
        converted = current_ward_name(typed)
        if converted:
            found = [w for w in wards if _fold(w.name) == _fold(converted)]
            if found:
                return found[:MAX_MATCHES]
    return [w for w in wards if query in _bare(w.name)][:MAX_MATCHES]
