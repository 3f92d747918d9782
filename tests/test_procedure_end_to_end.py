"""The whole of Article 13 through the real Telegram adapters against the fake Bot API server:
plan → invitation refused when too late (P4) → lawful invitation to the followers (P4, P5) →
registration (C1) → opinion (C2) → reminder → check-in, session held (P6) → conclusion with
assignments (P7) → extension in writing (P9) → written result and report to the head (P8).
Every message to a resident or an official is checked, and every date against the calendar."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from bot.outbox_sender import OutboxSender
from bot.scheduler import Scheduler
from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.permissions import Role
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.staff import create_invite
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import Reply, find_button, joined
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock
from tests.telegram_driver import TelegramDriver, reply_of
from tests.test_chat_contract import ACCENTED, give_details, verify_code

OFFICE, HEAD, AGENCY = 2**33 + 1, 2**33 + 2, 2**33 + 3
LAN, MINH = 2**34 + 1, 2**34 + 2  # residents who follow the ward
TRACKING = re.compile(r"KN-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")
REGISTRATION = re.compile(r"\b[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{3}\b")


class Parties:
    """The driver, a sender draining the outbox through the same bot, and each chat's inbox."""

    def __init__(self, driver: TelegramDriver, engine: Engine) -> None:
        self.driver = driver
        self.engine = engine
        self._read: dict[int, int] = {}

    def sender(self) -> OutboxSender:
        if self.driver.name == "aiogram":
            from bot.transports import TelegramAiogramTransport

            transport = TelegramAiogramTransport(self.driver.channel.bot)
        else:
            from bot.transports import TelegramPtbTransport

            transport = TelegramPtbTransport(self.driver.channel.bot)
        return OutboxSender(
            self.engine, {"telegram": transport}, global_per_second=500, per_chat_per_second=100
        )

    async def deliver(self) -> None:
        """Drain the outbox: what the procedure queued reaches the other parties' chats."""
        await self.sender().drain_once()

    def mark_read(self, user: int) -> None:
        self._read[user] = len(self.driver.fake.sent_messages(user))

    def inbox(self, user: int) -> list[Reply]:
        messages = self.driver.fake.sent_messages(user)
        start = self._read.get(user, 0)
        self._read[user] = len(messages)
        return [reply_of(message) for message in messages[start:]]


@pytest.fixture(params=["aiogram", "ptb"])
async def parties(
    request: pytest.FixtureRequest, chat_engine: Engine, clock: Clock, world: ChatWorld
) -> AsyncIterator[Parties]:
    driver = await TelegramDriver.start(
        request.param,
        lambda: Conversations(
            chat_engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        ),
    )
    try:
        yield Parties(driver, chat_engine)
    finally:
        await driver.close()


async def enrol(parties: Parties, clock: Clock, user: int, org: str, role: Role) -> None:
    with UnitOfWork(parties.engine) as uow:
        code = create_invite(uow, org, role, ProcedureContext(clock=clock), created_by="test").code
        uow.commit()
    replies = await parties.driver.command(user, "start", code)
    assert "đã được gán vai trò" in joined(replies)


async def plan(driver: TelegramDriver, day: str, content: str, *, too_late: bool = False) -> int:
    await driver.command(OFFICE, "taophien")
    typed = joined(await driver.text(OFFICE, day))
    # P4: planning warns as soon as the invitation deadline has passed, with the earliest date.
    assert ("Ngày sớm nhất có thể tổ chức" in typed) is too_late
    if too_late:
        assert "Thứ Ba, 17/03/2026" in typed
        await driver.press(OFFICE, "Đúng, tiếp tục")
    await driver.text(OFFICE, "08:00")
    await driver.text(OFFICE, "11:00")
    await driver.text(OFFICE, "Hội trường UBND phường Bến Thành")
    await driver.text(OFFICE, "Ông Phạm Văn Chủ, Chủ tịch UBND phường")
    await driver.text(OFFICE, content)
    await driver.press(OFFICE, "Bỏ qua")  # no separate agenda topics
    await driver.press(OFFICE, "Phòng Kinh tế, Hạ tầng và Đô thị")
    await driver.press(OFFICE, "Xong")
    summary = await driver.press(OFFICE, "Bỏ qua")  # no capacity limit
    assert "Hạn cuối gửi giấy mời" in joined(summary)
    done = await driver.press(OFFICE, "Xác nhận")
    number = re.search(r"buổi đối thoại số (\d+)", joined(done))
    assert number is not None
    return int(number.group(1))


async def test_article_13_end_to_end(parties: Parties, clock: Clock, chat_engine: Engine) -> None:
    driver = parties.driver
    clock.set("2026-03-09", "09:00")  # Monday
    await enrol(parties, clock, OFFICE, "ben-thanh", Role.OFFICE)
    await enrol(parties, clock, HEAD, "ben-thanh", Role.HEAD)
    await enrol(parties, clock, AGENCY, "ben-thanh-dt", Role.AGENCY)
    for resident in (LAN, MINH):
        await driver.command(resident, "khuvuc")
        await driver.text(resident, "Bến Thành")
        await driver.press(resident, "Phường Bến Thành")  # they follow the ward

    # P1, P4: a session on Monday 16/03 is too close to announce on Monday 09/03.
    too_soon = await plan(
        driver, "16/03/2026", "Đối thoại về ngập nước đường Lê Lợi", too_late=True
    )
    refused = joined(await driver.command(OFFICE, "moi", str(too_soon)))
    assert "Không thể gửi giấy mời" in refused
    assert "Chủ nhật, 08/03/2026" in refused  # the latest lawful sending day
    assert "Thứ Ba, 17/03/2026" in refused  # the earliest lawful session date if sent today

    # A session on Friday 20/03: the invitation may go out until Thursday 12/03.
    session = await plan(driver, "20/03/2026", "Đối thoại về ngập nước và vệ sinh môi trường")
    for person in (LAN, MINH, AGENCY, HEAD):
        parties.mark_read(person)
    announced = joined(await driver.command(OFFICE, "moi", str(session)))
    assert "đến 2 người dân" in announced
    await parties.deliver()
    for resident in (LAN, MINH):
        (invitation,) = parties.inbox(resident)
        assert "Giấy mời tham dự" in invitation.text
        assert "từ 08 giờ 00 đến 11 giờ 00, Thứ Sáu, ngày 20/03/2026" in invitation.text
        assert "Hội trường UBND phường Bến Thành" in invitation.text
        assert "Ông Phạm Văn Chủ" in invitation.text
        assert find_button([invitation], "Đăng ký dự")
    (notice,) = parties.inbox(AGENCY)
    assert "chuẩn bị nội dung và tham dự" in notice.text and "20/03/2026" in notice.text
    assert parties.inbox(HEAD) == []

    # C1: Lan registers from the invitation; C2: and sends a petition for the session.
    replies = await give_details(driver, LAN, await driver.press(LAN, "Đăng ký dự"))
    code = REGISTRATION.search(joined(replies))
    assert code is not None and "Đăng ký thành công" in joined(replies)
    await driver.press(LAN, "Gửi ý kiến cho buổi này")
    await driver.press(LAN, "Kiến nghị")
    await driver.press(LAN, "Giao thông")
    replies = await driver.text(LAN, ACCENTED)
    await driver.text(LAN, verify_code(replies))
    sent = joined(await driver.press(LAN, "Gửi"))
    tracking = TRACKING.search(sent)
    assert tracking is not None

    # The day before: a reminder to the registered resident only.
    clock.set("2026-03-19", "09:00")
    parties.mark_read(LAN)
    parties.mark_read(MINH)
    Scheduler(chat_engine, ProcedureContext(clock=clock)).run_once()
    await parties.deliver()
    (reminder,) = parties.inbox(LAN)
    assert "ngày mai" in reminder.text and code.group(0) in reminder.text
    assert parties.inbox(MINH) == []

    # P6: on the day, check-in by code, then the session is held.
    clock.set("2026-03-20", "08:05")
    await driver.command(OFFICE, "diemdanh", str(session))
    checked = joined(await driver.text(OFFICE, code.group(0).lower()))
    assert "đã điểm danh" in checked
    await driver.press(OFFICE, "Xong")
    clock.set("2026-03-20", "11:30")
    held = joined(await driver.command(OFFICE, "ketthuc", str(session)))
    # P7: 10 working days after Friday 20/03 is Friday 03/04.
    assert "hết ngày Thứ Sáu, 03/04/2026" in held

    # P7: the head's conclusion on Thursday 02/04, the petition's topic given to the agency.
    clock.set("2026-04-02", "10:00")
    intro = joined(await driver.command(HEAD, "ketluan", str(session)))
    assert "hết ngày Thứ Sáu, 03/04/2026" in intro
    await driver.text(
        HEAD,
        "Giao Phòng Kinh tế, Hạ tầng và Đô thị khảo sát và nạo vét cống "
        "đường Lê Lợi trước mùa mưa.",
    )
    summary = joined(await driver.press(HEAD, "Phòng Kinh tế, Hạ tầng và Đô thị"))
    # P8: 20 working days after 02/04: Giỗ Tổ (27/04) and 30/4–1/5 are not counted.
    assert "hết ngày Thứ Ba, 05/05/2026" in summary
    parties.mark_read(AGENCY)
    parties.mark_read(LAN)
    done = joined(await driver.press(HEAD, "Xác nhận"))
    assert "1 ý kiến đã giao" in done
    # The deadline shown after /ketluan is the agencies' result deadline, labelled as such.
    assert "Hạn các cơ quan gửi văn bản trả lời" in done
    assert "hết ngày Thứ Ba, 05/05/2026" in done and "03/04/2026" not in done
    await parties.deliver()
    (assigned,) = parties.inbox(AGENCY)
    assert "Thông báo kết luận" in assigned.text and tracking.group(0) in assigned.text
    assert "hết ngày Thứ Ba, 05/05/2026" in assigned.text
    (forwarded,) = parties.inbox(LAN)
    assert "Phòng Kinh tế, Hạ tầng và Đô thị" in forwarded.text
    assert "Thứ Ba, 05/05/2026" in forwarded.text

    # The agency's work list, then P9: an extension in writing.
    clock.set("2026-04-28", "09:00")
    tasks = joined(await driver.command(AGENCY, "viec"))
    assert tracking.group(0) in tasks and "Thứ Ba, 05/05/2026" in tasks
    await driver.command(AGENCY, "giahan", tracking.group(0))
    saturday = joined(await driver.text(AGENCY, "16/05/2026"))
    assert "Thứ Hai, 18/05/2026" in saturday  # a Saturday is refused, a working day suggested
    await driver.text(AGENCY, "15/05/2026")
    await driver.text(AGENCY, "Cần khảo sát toàn tuyến cống và lập dự toán kinh phí.")
    await driver.text(AGENCY, "87/TB-PKT")
    await driver.text(AGENCY, "28/04/2026")
    extended = joined(await driver.press(AGENCY, "Xác nhận"))
    assert "hết ngày Thứ Sáu, 15/05/2026" in extended
    await parties.deliver()
    (notice,) = parties.inbox(LAN)
    assert "Thông báo gia hạn" in notice.text and "Thứ Sáu, 15/05/2026" in notice.text
    assert "Thứ Ba, 05/05/2026" in notice.text and "lập dự toán" in notice.text

    # P8: the written result reaches the resident, and a report the head.
    clock.set("2026-05-14", "15:00")
    parties.mark_read(HEAD)
    await driver.command(AGENCY, "ketqua", tracking.group(0))
    await driver.text(AGENCY, "Phường đã nạo vét toàn tuyến cống đường Lê Lợi ngày 12/05/2026.")
    await driver.text(AGENCY, "101/PKT")
    await driver.text(AGENCY, "14/05/2026")
    await driver.press(AGENCY, "Bỏ qua")
    result = joined(await driver.press(AGENCY, "Xác nhận"))
    assert "Đã gửi kết quả" in result and "trễ" not in result
    await parties.deliver()
    (answer,) = parties.inbox(LAN)
    assert "văn bản trả lời" in answer.text and "nạo vét toàn tuyến" in answer.text
    assert "Thứ Năm, 14/05/2026" in answer.text
    (report,) = parties.inbox(HEAD)
    assert "Báo cáo kết quả" in report.text and "đúng hạn" in report.text

    # C3: the resident's timeline tells the whole story.
    timeline = joined(await driver.command(LAN, "tracuu", tracking.group(0)))
    for expected in (
        "đã tiếp nhận",
        "đã chuyển Phòng Kinh tế",
        "gia hạn giải quyết đến hết ngày Thứ Sáu, 15/05/2026",
        "đã có văn bản trả lời",
    ):
        assert expected in timeline
