"""C7: a newcomer's first ``doithoai run`` (no channel configured: the web chat) on a database
without any ward gets the wards of Ho Chi Minh City, so "which ward?" has an answer; a database
with a ward, or a bot with a channel configured, is left alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine, func
from sqlmodel import select

from bot.channels.base import Channel
from bot.first_try import wards_for_a_first_try
from procedure.use_cases.administration import WARD_LEVEL
from procedure.use_cases.areas import search_area
from storage.tables import OrgUnit
from storage.unit_of_work import UnitOfWork


@dataclass
class _Named:
    name: str


def _channels(*names: str) -> list[Channel]:
    return [cast(Channel, _Named(name)) for name in names]


def _wards(engine: Engine) -> int:
    with UnitOfWork(engine) as uow:
        count = select(func.count()).select_from(OrgUnit).where(OrgUnit.level_code == WARD_LEVEL)
        return int(uow.session.exec(count).one())


def test_c7_the_web_chat_alone_on_a_database_without_wards_imports_ho_chi_minh_city(
    engine: Engine,
) -> None:
    assert _wards(engine) == 0
    name, added = wards_for_a_first_try(engine, _channels("web")) or ("", 0)
    assert name == "Thành phố Hồ Chí Minh" and added == 168 == _wards(engine)
    with UnitOfWork(engine) as uow:
        assert [unit.name for unit in search_area(uow, "ben thanh").units] == ["Phường Bến Thành"]
    # Once is enough: the next start finds the wards and does nothing.
    assert wards_for_a_first_try(engine, _channels("web")) is None
    assert _wards(engine) == 168


def test_c7_a_configured_channel_or_an_existing_ward_leaves_the_database_alone(
    engine: Engine,
) -> None:
    assert wards_for_a_first_try(engine, _channels("telegram", "web")) is None
    assert wards_for_a_first_try(engine, _channels("zalo_oa")) is None
    assert _wards(engine) == 0
