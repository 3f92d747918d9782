"""Wards for a first try: ``doithoai run`` with no channel configured serves the web chat to a
newcomer; on a database without any ward, a resident could never answer "which ward?" and every
petition would stop there. The wards of Ho Chi Minh City (the city of regulation 935-QĐ/TU) are
imported then, as ``doithoai org import-province 79`` would, saying so as that command does
(the README says how to import another province; a new catalogue sentence would change the
restoration table, which learns from the catalogue). A database that has a ward, or a bot
with a channel configured, is left as it is."""

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
        unit, added = import_province(uow, Actor.system(), FIRST_TRY_PROVINCE)
        uow.commit()
        return unit.name, added
