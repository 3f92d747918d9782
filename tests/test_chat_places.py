"""B1 in the chat: the ward asked by /khuvuc, typed as residents type it, today's name or an
address before 1 July 2025 (through the console adapter, as the contract suite drives it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.permissions import Actor
from procedure.use_cases.administration import ensure_reference_data, import_province
from procedure.use_cases.context import ProcedureContext
from storage.engine import make_engine, sqlite_url
from storage.migrate import upgrade_to_head
from storage.tables import OrgUnit
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, find_button, joined
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock

RESIDENT = 7_000_000_111


def _driver(engine: Engine, clock: Clock) -> ConsoleDriver:
    return ConsoleDriver(
        lambda: Conversations(
            engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )
    )


@pytest.mark.parametrize(
    "typed",
    [
        "Phường Sài Gòn, Thành phố Hồ Chí Minh",
        "phuong ben nghe quan 1",
        "P. Sài Gòn, TP.HCM",
        "Bến Nghé, Q.1, TPHCM",
    ],
)
async def test_b1_the_chat_leads_to_phuong_sai_gon(
    typed: str, chat_engine: Engine, clock: Clock, world: ChatWorld
) -> None:
    driver = _driver(chat_engine, clock)
    replies = await driver.command(RESIDENT, "khuvuc")
    assert "phường, xã" in joined(replies)
    replies = await driver.text(RESIDENT, typed)
    said = joined(replies)
    if "ben" in typed.lower() or "Bến" in typed:
        assert "Phường Bến Nghé, Quận 1" in said and "nay thuộc: Phường Sài Gòn" in said
    assert [label for label, _ in replies[-1].buttons] == ["Phường Sài Gòn"]
    replies = await driver.press(RESIDENT, "Phường Sài Gòn")
    assert "Đã ghi nơi cư trú: Phường Sài Gòn" in joined(replies)


@pytest.fixture
def city_engine(tmp_path: Path) -> Engine:
    """A database with every current ward of Ho Chi Minh City, by their official codes."""
    engine = make_engine(sqlite_url(tmp_path))
    upgrade_to_head(engine)
    with UnitOfWork(engine) as uow:
        ensure_reference_data(uow)
        import_province(uow, Actor.system(), 79)
        uow.commit()
    return engine


async def test_b1_phuong_7_quan_3_is_unknown_and_no_ward_of_old_district_8_is_offered(
    city_engine: Engine, clock: Clock
) -> None:
    driver = _driver(city_engine, clock)
    await driver.command(RESIDENT, "khuvuc")
    replies = await driver.text(RESIDENT, "Phường 7, Quận 3")
    said = joined(replies)
    assert "không có trong bảng sắp xếp" in said and "phường, xã hiện nay" in said
    assert not any(reply.buttons for reply in replies)
    for ward in ("Chánh Hưng", "Bình Đông", "Phú Định", "Bình Hưng"):  # old District 8
        assert ward not in said
    # The resident is still asked, and today's ward is then taken.
    replies = await driver.text(RESIDENT, "Phường Xuân Hòa")
    assert find_button(replies, "Phường Xuân Hòa")


async def test_b1_an_old_ward_divided_between_two_offers_both_of_them_only(
    city_engine: Engine, clock: Clock
) -> None:
    driver = _driver(city_engine, clock)
    await driver.command(RESIDENT, "khuvuc")
    replies = await driver.text(RESIDENT, "p4 q3")
    assert sorted(label for label, _ in replies[-1].buttons) == ["Phường Bàn Cờ", "Phường Xuân Hòa"]
    replies = await driver.press(RESIDENT, "Phường Xuân Hòa")
    assert "Đã ghi nơi cư trú: Phường Xuân Hòa" in joined(replies)
    with UnitOfWork(city_engine) as uow:
        chosen = uow.session.exec(select(OrgUnit).where(OrgUnit.name == "Phường Xuân Hòa")).one()
        assert chosen.code.startswith("vn-79-")


async def test_b1_an_old_ward_without_district_that_several_districts_had_asks_for_it(
    city_engine: Engine, clock: Clock
) -> None:
    driver = _driver(city_engine, clock)
    await driver.command(RESIDENT, "khuvuc")
    replies = await driver.text(RESIDENT, "Phường 7, TP.HCM")
    said = joined(replies)
    assert "Nhiều quận, huyện cũ" in said and not any(reply.buttons for reply in replies)
