"""Dates and times typed in the staff's session-planning form (/taophien): read relative to
today, read back with their weekday before they are taken, never guessed (issue 11)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.permissions import Role
from procedure.use_cases.context import ProcedureContext
from storage.tables import DialogueSession
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, joined
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock
from tests.test_staff_chat import invite

OFFICE = 202


async def _office(chat_engine: Engine, clock: Clock) -> ConsoleDriver:
    driver = ConsoleDriver(
        lambda: Conversations(
            chat_engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )
    )
    code = invite(chat_engine, clock, "ben-thanh", Role.OFFICE)
    assert "đã được gán vai trò" in joined(await driver.command(OFFICE, "start", code))
    return driver


async def test_p1_plan_a_session_with_words_for_the_day_and_the_time(
    chat_engine: Engine, clock: Clock, world: ChatWorld
) -> None:
    clock.set("2026-12-26", "09:00")  # a Saturday, days before the year ends
    driver = await _office(chat_engine, clock)
    asked = joined(await driver.command(OFFICE, "taophien"))
    assert "Ngày tổ chức" in asked
    said = joined(await driver.text(OFFICE, "thu sau tuan sau"))  # the week from Monday 28/12
    assert "Ngày đã hiểu: Thứ Sáu, 01/01/2027" in said and "Tết Dương lịch" in said
    said = joined(await driver.press(OFFICE, "Không"))
    assert "Ngày tổ chức" in said
    said = joined(await driver.text(OFFICE, "thứ sáu tuần sau nữa"))
    assert "Ngày đã hiểu: Thứ Sáu, 08/01/2027" in said and "Đúng không?" in said
    said = joined(await driver.press(OFFICE, "Đúng"))
    assert "Giờ bắt đầu" in said
    said = joined(await driver.text(OFFICE, "2 giờ"))
    assert "sáng hay chiều" in said  # never guessed
    said = joined(await driver.text(OFFICE, "2 giờ chiều"))
    assert "Giờ đã hiểu: 14:00" in said
    await driver.press(OFFICE, "Đúng")
    said = joined(await driver.text(OFFICE, "16h30"))
    assert "Giờ đã hiểu: 16:30" in said
    await driver.press(OFFICE, "Đúng")
    await driver.text(OFFICE, "Hội trường UBND phường Bến Thành")
    await driver.text(OFFICE, "Ông Phạm Văn Chủ, Chủ tịch UBND phường")
    await driver.text(OFFICE, "Đối thoại về ngập nước đường Lê Lợi")
    await driver.press(OFFICE, "Bỏ qua")
    await driver.press(OFFICE, "Phòng Kinh tế, Hạ tầng và Đô thị")
    await driver.press(OFFICE, "Xong")
    summary = joined(await driver.press(OFFICE, "Bỏ qua"))
    assert "từ 14 giờ 00 đến 16 giờ 30, Thứ Sáu, ngày 08/01/2027" in summary
    await driver.press(OFFICE, "Xác nhận")
    with UnitOfWork(chat_engine) as uow:
        planned = uow.session.exec(
            select(DialogueSession).where(DialogueSession.content.contains("Lê Lợi"))  # type: ignore[attr-defined]
        ).one()
        assert planned.starts_at.hour == 7  # 14:00 in Ho Chi Minh City is 07:00 UTC


async def test_p1_a_day_that_is_not_understood_or_has_passed_is_asked_again(
    chat_engine: Engine, clock: Clock, world: ChatWorld
) -> None:
    clock.set("2026-12-30", "09:00")
    driver = await _office(chat_engine, clock)
    await driver.command(OFFICE, "taophien")
    assert "không phải ngày hợp lệ" in joined(await driver.text(OFFICE, "hom khac"))
    assert "đã qua" in joined(await driver.text(OFFICE, "hôm qua"))
    assert "thứ và ngày không khớp" in joined(await driver.text(OFFICE, "Thứ Ba, 04/01/2027"))
    said = joined(await driver.text(OFFICE, "4/1"))
    assert "Ngày đã hiểu: Thứ Hai, 04/01/2027" in said
    said = joined(await driver.press(OFFICE, "Không"))
    assert "Ngày tổ chức" in said  # asked again, nothing taken
    said = joined(await driver.text(OFFICE, "15/01/2027"))
    assert "Giờ bắt đầu" in said  # written in full (and not too late): no read-back needed
