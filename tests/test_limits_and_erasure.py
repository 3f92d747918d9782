"""Limits that hold (X2) and erasure and consent (X3), through the console conversation, on
SQLite and, where configured, PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlmodel import SQLModel
from sqlmodel import select as model_select

from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.permissions import Role
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.staff import create_invite
from storage.conversation_store import load_conversation
from storage.tables import Person, Petition, TrackingMiss
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, joined
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock
from tests.test_chat_contract import ACCENTED, opinion_until_summary

ALICE, BOB, AGENCY, OTHER_OFFICE = 9_000_000_001, 9_000_000_002, 9_000_000_003, 9_000_000_004
SLOW_DOWN = "đã tra nhiều mã không đúng"
CODE = re.compile(r"KN-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")


@pytest.fixture
def driver(chat_engine: Engine, clock: Clock, world: ChatWorld) -> ConsoleDriver:
    return ConsoleDriver(
        lambda: Conversations(
            chat_engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )
    )


async def submitted(driver: ConsoleDriver, user: int) -> str:
    await opinion_until_summary(driver, user)
    found = CODE.search(joined(await driver.press(user, "Gửi")))
    assert found is not None
    return found.group(0)


# --- X2: limits --------------------------------------------------------------------------------


async def test_x2_tracking_misses_are_counted_apart_from_the_conversation_so_huy_keeps_them(
    driver: ConsoleDriver, chat_engine: Engine, clock: Clock
) -> None:
    for _ in range(5):
        assert SLOW_DOWN not in joined(await driver.command(BOB, "tracuu", "KN-2345-6789"))
        await driver.command(BOB, "huy")
        await driver.command(BOB, "gopy")  # a flow started and stopped in between
        await driver.command(BOB, "huy")
    assert SLOW_DOWN in joined(await driver.command(BOB, "tracuu", "KN-2345-6789"))
    with UnitOfWork(chat_engine) as uow:
        assert len(uow.session.exec(model_select(TrackingMiss)).all()) == 5
        stored = load_conversation(uow, "console", f"u{BOB}")
    assert stored is not None and "tracking_misses" not in stored[1]
    clock.now += timedelta(minutes=11)  # the window has passed
    assert "Không tìm thấy ý kiến có mã" in joined(
        await driver.command(BOB, "tracuu", "KN-2345-6789")
    )
    with UnitOfWork(chat_engine) as uow:
        assert len(uow.session.exec(model_select(TrackingMiss)).all()) == 1  # old ones forgotten


async def test_x2_a_code_outside_the_officials_scope_answers_as_one_that_does_not_exist(
    driver: ConsoleDriver, chat_engine: Engine, clock: Clock
) -> None:
    code = await submitted(driver, ALICE)
    for user, org, role in (
        (AGENCY, "ben-thanh-dt", Role.AGENCY),
        (OTHER_OFFICE, "sai-gon", Role.OFFICE),
    ):
        with UnitOfWork(chat_engine) as uow:
            invite = create_invite(
                uow, org, role, ProcedureContext(clock=clock), created_by="test"
            ).code
            uow.commit()
        assert "đã được gán vai trò" in joined(await driver.command(user, "start", invite))
    for user, command in ((AGENCY, "ketqua"), (AGENCY, "giahan"), (OTHER_OFFICE, "traloi")):
        existing = joined(await driver.command(user, command, code))
        await driver.command(user, "huy")
        unknown = joined(await driver.command(user, command, "KN-2345-6789"))
        await driver.command(user, "huy")
        assert existing == unknown, (command, existing, unknown)
        assert "quyền" not in existing and "giao cho" not in existing


# --- X3: erasure and consent -------------------------------------------------------------------


def _holds_text(kind: object) -> bool:
    try:
        python_type = kind.python_type  # type: ignore[attr-defined]
    except NotImplementedError:
        return True
    return python_type in (str, dict, list, object)


def _text_columns_holding(engine: Engine, needles: list[str]) -> list[str]:
    """Every (table.column) of any text or JSON column that still holds one of ``needles``."""
    found = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                if not _holds_text(column.type):
                    continue
                for value in connection.execute(select(column)).scalars():
                    if value is not None and any(n in str(value) for n in needles):
                        found.append(f"{table.name}.{column.name}")
    return sorted(set(found))


async def test_x3_erasure_removes_the_name_and_phone_from_every_petition_and_says_what_is_kept(
    driver: ConsoleDriver, chat_engine: Engine
) -> None:
    code = await submitted(driver, ALICE)
    needles = ["Nguyễn Văn An", "+84912345678", "0912345678"]
    assert "petition.petitioner_name" in _text_columns_holding(chat_engine, needles)
    await driver.command(ALICE, "xoadulieu")
    said = joined(await driver.press(ALICE, "Xóa"))
    assert "trên 1 ý kiến đã gửi" in said and "vẫn được lưu, và vì sao" in said
    assert "hồ sơ của buổi tiếp xúc, đối thoại" in said
    assert _text_columns_holding(chat_engine, needles) == []
    with UnitOfWork(chat_engine) as uow:
        petition = uow.session.exec(model_select(Petition)).one()
        assert petition.tracking_code == code and petition.text == ACCENTED  # the record stays
        assert petition.petitioner_name == "" and petition.petitioner_phone_e164 == ""
        person = uow.session.get(Person, petition.person_id)
        assert person is not None and person.full_name is None and person.phone_e164 is None
    tracked = joined(await driver.command(ALICE, "tracuu", code))
    assert code in tracked  # the resident still follows the answer owed to them


async def test_x3_a_text_written_before_consent_is_refused_is_deleted_with_the_refusal(
    driver: ConsoleDriver, chat_engine: Engine
) -> None:
    await driver.command(BOB, "gopy")
    await driver.press(BOB, "Không gắn với buổi đối thoại")
    await driver.press(BOB, "Kiến nghị")
    await driver.press(BOB, "Giao thông")
    notice = joined(await driver.text(BOB, ACCENTED))
    assert "Thông báo về dữ liệu cá nhân" in notice
    said = joined(await driver.press(BOB, "Không đồng ý"))
    assert "chưa có sự đồng ý" in said and "đã được xóa" in said
    with UnitOfWork(chat_engine) as uow:
        stored = load_conversation(uow, "console", f"u{BOB}")
    assert stored is not None and stored[0] == "idle" and "opinion" not in stored[1]
    assert _text_columns_holding(chat_engine, [ACCENTED[:40]]) == []
    again = joined(await driver.command(BOB, "gopy"))
    assert "gửi cho buổi đối thoại nào" in again  # no draft offered to resume


async def test_x3_phien_for_a_resident_without_a_ward_says_so(driver: ConsoleDriver) -> None:
    await driver.command(BOB, "gopy")  # in the middle of a flow, /phien does not ask the ward
    said = joined(await driver.command(BOB, "phien"))
    assert "chưa cho biết phường, xã" in said and "ở ." not in said
