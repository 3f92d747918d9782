""" "Is it resolved?" (issue 13) end to end in chat, through the console adapter and the real
aiogram and python-telegram-bot adapters against the fake Bot API server: a written result, the
question ten working days later, the resident's "no" and comment, the petition reopened with its
new due date in /tracuu, the agency's /viec, the head's notice and /tonghop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from handlers.conversations import Conversations
from handlers.notifications import render
from handlers.turn import ChatSettings
from procedure.deadlines import inbox_result_deadline, resolution_check_day
from procedure.use_cases.context import ProcedureContext, load_calendar
from procedure.use_cases.resolution import QUESTION_KIND, queue_resolution_questions
from storage.tables import OutboxMessage, ResolutionFeedback
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, Driver, Reply
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock
from tests.test_chat_contract import (
    ACCENTED,
    AGENCY_USER,
    ALICE,
    OFFICE_USER,
    enrol,
    notices,
    send_without_session,
    texts,
)
from texts import format_date

HEAD_USER = 7_000_000_103


@pytest.fixture(params=["console", "aiogram", "ptb"])
async def driver(
    request: pytest.FixtureRequest, chat_engine: Engine, clock: Clock, world: ChatWorld
) -> AsyncIterator[Driver]:
    def make() -> Conversations:
        settings = ChatSettings(verify_code_as="text")
        return Conversations(chat_engine, ProcedureContext(clock=clock), settings)

    if request.param == "console":
        chosen: Driver = ConsoleDriver(make)
    else:
        from tests.telegram_driver import TelegramDriver

        chosen = await TelegramDriver.start(request.param, make)
    try:
        yield chosen
    finally:
        await chosen.close()


async def answered_petition(driver: Driver, engine: Engine, clock: Clock) -> str:
    """A petition sent outside any session, forwarded to an agency and answered in writing on
    Thursday 12/03/2026."""
    await enrol(driver, engine, clock, OFFICE_USER, "ben-thanh", "office")
    await enrol(driver, engine, clock, AGENCY_USER, "ben-thanh-dt", "agency")
    await enrol(driver, engine, clock, HEAD_USER, "ben-thanh", "head")
    clock.set("2026-03-03")
    code = await send_without_session(driver, ALICE, "Kiến nghị", "Giao thông", ACCENTED)
    clock.set("2026-03-05")
    await driver.command(OFFICE_USER, "hopthu")
    await driver.press(OFFICE_USER, "Chuyển cơ quan")
    await driver.press(OFFICE_USER, "Phòng Kinh tế, Hạ tầng và Đô thị")
    assert "Đã chuyển ý kiến" in texts(await driver.press(OFFICE_USER, "Xác nhận"))
    clock.set("2026-03-12")
    await driver.command(AGENCY_USER, "ketqua", code)
    await driver.text(AGENCY_USER, "Phường đã nạo vét tuyến cống trên đường Lê Lợi.")
    await driver.text(AGENCY_USER, "212/UBND-ĐT")
    await driver.text(AGENCY_USER, "11/03/2026")
    await driver.press(AGENCY_USER, "Bỏ qua")
    assert "Đã gửi kết quả" in texts(await driver.press(AGENCY_USER, "Xác nhận"))
    return code


def run_scheduler(engine: Engine, clock: Clock) -> int:
    with UnitOfWork(engine) as uow:
        queued = queue_resolution_questions(uow, ProcedureContext(clock=clock))
        uow.commit()
        return queued


def question(engine: Engine) -> Reply:
    with UnitOfWork(engine) as uow:
        (row,) = uow.session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == QUESTION_KIND)
        ).all()
        return Reply.of(render(row.kind, row.data))


async def test_issue13_c3_a_resident_who_answers_no_sees_the_petition_reopened(
    driver: Driver, world: ChatWorld, chat_engine: Engine, clock: Clock
) -> None:
    code = await answered_petition(driver, chat_engine, clock)
    with UnitOfWork(chat_engine) as uow:
        calendar = load_calendar(uow)
    periods = ProcedureContext().periods
    ask_day = resolution_check_day(calendar, clock().date(), periods).due
    # Ten working days after Thursday 12/03/2026: Thursday 26/03/2026.
    assert ask_day.isoformat() == "2026-03-26"
    clock.set((ask_day - timedelta(days=1)).isoformat())
    assert run_scheduler(chat_engine, clock) == 0
    clock.set(ask_day.isoformat())
    assert run_scheduler(chat_engine, clock) == 1
    assert run_scheduler(chat_engine, clock) == 0  # asked once

    # The resident presses "no" under the question pushed to them.
    asked = question(chat_engine)
    assert code in asked.text and "đã được giải quyết chưa" in asked.text
    (no,) = [data for label, data in asked.buttons if "Chưa giải quyết" in label]
    replies = await driver.forge(ALICE, no)
    new_due = inbox_result_deadline(calendar, ask_day, periods).due
    said = texts(replies)
    assert "mở lại" in said and f"hết ngày {format_date(new_due)}" in said
    assert "nhận xét" in said
    saved = await driver.text(ALICE, "Cống vẫn tắc ở đầu hẻm 12, nước vẫn ngập khi mưa.")
    assert "Đã ghi nhận nhận xét" in texts(saved)
    with UnitOfWork(chat_engine) as uow:
        (feedback,) = uow.session.exec(select(ResolutionFeedback)).all()
        assert (feedback.answer, feedback.reopened) == ("no", True)
        assert feedback.comment and "đầu hẻm 12" in feedback.comment
    (comment,) = notices(chat_engine, "agency.resolution_comment")
    assert code in comment and "đầu hẻm 12" in comment
    # A second press of the same question is answered, and changes nothing.
    again = await driver.forge(ALICE, no)
    assert "đã trả lời" in texts(again)

    # C3, X2: the timeline shows the answer and the reopening with its new due date.
    timeline = texts(await driver.command(ALICE, "tracuu", code))
    assert "đã mở lại, đang giải quyết lại" in timeline
    assert "Quý ông/bà cho biết vấn đề chưa được giải quyết" in timeline
    assert (
        "ý kiến được mở lại, chuyển lại Phòng Kinh tế, Hạ tầng và Đô thị giải quyết; "
        f"hạn trả lời mới: hết ngày {format_date(new_due)}"
    ) in timeline

    # The agency sees it again in /viec; agency and head were told.
    tasks = texts(await driver.command(AGENCY_USER, "viec"))
    assert code in tasks and format_date(new_due) in tasks
    assert "đã mở lại, đang giải quyết lại" in tasks
    (to_agency,) = notices(chat_engine, "agency.reopened")
    assert code in to_agency and "chưa được giải quyết" in to_agency
    (to_head,) = notices(chat_engine, "head.reopened")
    assert code in to_head and format_date(new_due) in to_head

    # The review counts it.
    review = texts(await driver.command(HEAD_USER, "tonghop", "2026"))
    assert "Đã hỏi 1, đã trả lời 1: đã giải quyết 0; một phần 0; chưa giải quyết 1" in review
    assert "Mở lại 1 lần" in review


async def test_issue13_yes_thanks_and_skip_ends_the_comment(
    driver: Driver, world: ChatWorld, chat_engine: Engine, clock: Clock
) -> None:
    code = await answered_petition(driver, chat_engine, clock)
    clock.set("2026-03-26")
    assert run_scheduler(chat_engine, clock) == 1
    (yes,) = [data for label, data in question(chat_engine).buttons if "Đã giải quyết" in label]
    said = texts(await driver.forge(ALICE, yes))
    assert f"ý kiến {code} đã được giải quyết" in said and "mở lại" not in said
    assert "Vâng" in texts(await driver.press(ALICE, "Bỏ qua"))
    # Someone else pressing a resident's question (forged) is told it is no longer valid.
    other = await driver.forge(OFFICE_USER, yes)
    assert "không còn hiệu lực" in texts(other)
    timeline = texts(await driver.command(ALICE, "tracuu", code))
    assert "đã có văn bản trả lời" in timeline
    assert "Quý ông/bà cho biết vấn đề đã được giải quyết" in timeline
    with UnitOfWork(chat_engine) as uow:
        rows = uow.session.exec(
            select(OutboxMessage.kind).where(col(OutboxMessage.kind).like("%reopened"))
        ).all()
        assert rows == []
