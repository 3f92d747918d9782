"""Wards for a first try: ``doithoai run`` with no channel configured serves the web chat to a
newcomer; on a database without any ward, a resident could never answer "which ward?" and every
petition would stop there. The wards of Ho Chi Minh City (the city of regulation 935-QĐ/TU) are
imported then, as ``doithoai org import-province 79`` would, saying so as that command does
(the README says how to import another province). A database that has a ward, or a bot with a
channel configured, is left as it is. ``doithoai chat`` does the same on a new database (one
without any unit at all), then says how to try it with the demo's data."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine
from sqlmodel import select

from bot.channels.base import Channel
from procedure.permissions import Actor
from procedure.use_cases.administration import WARD_LEVEL, import_province
from storage.tables import OrgUnit
from storage.unit_of_work import UnitOfWork

#: Ho Chi Minh City's province code (vietnam-provinces, the 2025 map).
FIRST_TRY_PROVINCE = 79


def wards_for_a_first_try(engine: Engine, channels: Sequence[Channel]) -> tuple[str, int] | None:
    """Import the first-try province when only the web chat runs and no ward exists; the
    province's name and how many wards were added, or None when nothing was done."""
    if [channel.name for channel in channels] != ["web"]:
        return None
    with UnitOfWork(engine) as uow:
        any_ward = select(OrgUnit.id).where(OrgUnit.level_code == WARD_LEVEL).limit(1)
        if uow.session.exec(any_ward).first() is not None:
            return None
    return import_first_try_province(engine)


def wards_for_a_new_console(engine: Engine) -> tuple[str, int] | None:
    """``doithoai chat`` on a new database (no unit at all): the first-try province imported,
    as for the web chat; None when the database has any unit."""
    with UnitOfWork(engine) as uow:
        if uow.session.exec(select(OrgUnit.id).limit(1)).first() is not None:
            return None
    return import_first_try_province(engine)


def import_first_try_province(engine: Engine) -> tuple[str, int]:
    """The first-try province's wards imported: its name and how many were added."""
    with UnitOfWork(engine) as uow:
        unit, added = import_province(uow, Actor.system(), FIRST_TRY_PROVINCE)
        uow.commit()
        return unit.name, added
