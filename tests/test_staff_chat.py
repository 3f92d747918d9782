"""Staff in chat (issue: officials in chat): enrolment by invite code, and every staff command
refused to residents, to staff of another org unit and to the wrong role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from handlers.conversations import STAFF_COMMANDS, Conversations
from handlers.turn import ChatSettings
from procedure.permissions import Role
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.staff import create_invite
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, Driver, joined
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock
from tests.test_chat_contract import opinion_until_summary

RESIDENT, OFFICE, OTHER_OFFICE, AGENCY, MONITOR, HEAD = 101, 102, 103, 104, 105, 106
UNKNOWN = "Không có lệnh này"


def invite(engine: Engine, clock: Clock, org: str, role: Role) -> str:
    with UnitOfWork(engine) as uow:
        code = create_invite(uow, org, role, ProcedureContext(clock=clock), created_by="test").code
        uow.commit()
        return code


@pytest.fixture
async def driver(chat_engine: Engine, clock: Clock, world: ChatWorld) -> AsyncIterator[Driver]:
    chosen = ConsoleDriver(
        lambda: Conversations(
            chat_engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )
    )
    for user, org, role in (
        (OFFICE, "ben-thanh", Role.OFFICE),
        (OTHER_OFFICE, "sai-gon", Role.OFFICE),
        (AGENCY, "ben-thanh-dt", Role.AGENCY),
        (MONITOR, "ben-thanh", Role.MONITOR),
        (HEAD, "ben-thanh", Role.HEAD),
    ):
        replies = await chosen.command(user, "start", invite(chat_engine, clock, org, role))
        assert "đã được gán vai trò" in joined(replies)
    yield chosen


async def test_staff_invite_codes_are_single_use_and_expire(
    driver: Driver, chat_engine: Engine, clock: Clock
) -> None:
    code = invite(chat_engine, clock, "ben-thanh", Role.OFFICE)
    assert "đã được gán vai trò" in joined(await driver.command(RESIDENT, "start", code))
    again = await driver.command(RESIDENT + 50, "start", code)
    assert "không hợp lệ, đã được dùng hoặc đã hết hạn" in joined(again)
    expired = invite(chat_engine, clock, "ben-thanh", Role.OFFICE)
    clock.now += timedelta(days=8)
    late = await driver.command(RESIDENT + 51, "start", expired)
    assert "đã hết hạn" in joined(late)


@pytest.mark.parametrize("command", sorted(STAFF_COMMANDS))
async def test_staff_commands_are_unknown_to_residents(driver: Driver, command: str) -> None:
    payload = "1" if command not in {"ketqua", "giahan", "traloi"} else "KN-2345-6789"
    replies = await driver.command(RESIDENT, command, payload)
    assert joined(replies) == joined(await driver.command(RESIDENT, "khongcolenhnay"))
    assert UNKNOWN in joined(replies)


SESSION_COMMANDS = ["moi", "dsdangky", "ykienphien", "diemdanh", "ghiykien", "ketthuc", "ketluan"]


@pytest.mark.parametrize("command", SESSION_COMMANDS)
async def test_staff_of_another_ward_may_not_touch_this_wards_session(
    driver: Driver, world: ChatWorld, command: str
) -> None:
    replies = await driver.command(OTHER_OFFICE, command, str(world.session_id))
    assert "không có quyền" in joined(replies)


@pytest.mark.parametrize("command", [*SESSION_COMMANDS, "taophien", "viec"])
async def test_a_monitor_only_reads(driver: Driver, world: ChatWorld, command: str) -> None:
    replies = await driver.command(MONITOR, command, str(world.session_id))
    # A staff member lacking the role is told which role the command needs.
    assert "dành cho vai trò" in joined(replies) and UNKNOWN not in joined(replies)
    overview = await driver.command(MONITOR, "quanlyphien")
    assert "Buổi đối thoại số" in joined(overview)


@pytest.mark.parametrize("command", ["taophien", "moi", "diemdanh", "ketluan", "traloi"])
async def test_an_agency_officer_does_not_run_sessions(
    driver: Driver, world: ChatWorld, command: str
) -> None:
    replies = await driver.command(AGENCY, command, str(world.session_id))
    assert "dành cho vai trò: văn phòng, người đứng đầu" in joined(replies)


async def test_results_and_extensions_only_by_the_assigned_agency(
    driver: Driver, world: ChatWorld
) -> None:
    await opinion_until_summary(driver, RESIDENT)
    sent = await driver.press(RESIDENT, "Gửi")
    import re

    code = re.search(r"KN-[2-9A-Z]{4}-[2-9A-Z]{4}", joined(sent))
    assert code is not None
    # Not assigned to any agency yet: nobody can post a result.
    replies = await driver.command(AGENCY, "ketqua", code.group(0))
    assert "Không tìm thấy ý kiến có mã này" in joined(replies)  # not theirs: as if unknown
    replies = await driver.command(OFFICE, "ketqua", code.group(0))
    assert "dành cho vai trò: cơ quan giải quyết" in joined(replies)


async def test_staff_help_lists_staff_commands_only_for_staff(driver: Driver) -> None:
    assert "/taophien" in joined(await driver.command(OFFICE, "trogiup"))
    assert "/taophien" not in joined(await driver.command(RESIDENT, "trogiup"))


async def test_p10_c3_a_monitor_is_shown_no_action_button(driver: Driver, world: ChatWorld) -> None:
    from tests.chat_drivers import ConsoleDriver

    assert isinstance(driver, ConsoleDriver)
    overview = await driver.command(MONITOR, "quanlyphien")
    assert all(not reply.buttons for reply in overview)
    office = await driver.command(OFFICE, "quanlyphien")
    labels = [label for reply in office for label, _ in reply.buttons]
    assert "📅 Dời lịch" in labels
    agency = await driver.command(AGENCY, "quanlyphien")
    assert all(not reply.buttons for reply in agency)  # agencies do not run sessions


def _end_buttons(replies: list, session_id: int) -> list[str]:
    end = f"staff:ketthuc:{session_id}"
    return [data for reply in replies for _, data in reply.buttons if data == end]


async def test_p6_the_end_button_shows_only_once_the_session_has_started(
    driver: Driver, world: ChatWorld, clock: Clock
) -> None:
    """/ketthuc is refused before the session's start time (procedure/lifecycles.may_mark_held);
    its button is not offered before then either, and is offered from the start."""
    session_id = world.session_id  # announced, 08:00 on Monday 16/03/2026
    for day, hour, shown in (
        ("2026-03-02", "09:00", False),
        ("2026-03-16", "07:59", False),  # its day, before the start
        ("2026-03-16", "08:00", True),
        ("2026-03-16", "15:00", True),
    ):
        clock.set(day, hour)
        cards = await driver.command(OFFICE, "quanlyphien")
        assert bool(_end_buttons(cards, session_id)) is shown, (day, hour)
    held = await driver.press(OFFICE, "🏁 Đã tổ chức xong")
    assert f"Đã ghi nhận buổi đối thoại số {session_id} đã tổ chức" in joined(held)
    cards = await driver.command(OFFICE, "quanlyphien")
    assert not _end_buttons(cards, session_id)  # held: nothing to end any more


def test_c7_command_menus_per_role() -> None:
    from handlers.conversations import MENU_COMMANDS, commands_for
    from procedure.permissions import Actor, Grant

    def names(*roles: Role) -> list[str]:
        actor = Actor(person_id=1, grants=tuple(Grant(role, 1) for role in roles))
        return [name for name, _ in commands_for(actor)]

    assert names() == list(MENU_COMMANDS)
    assert names(Role.MONITOR) == [*MENU_COMMANDS, "quanlyphien", "tonghop", "baocao"]
    agency = names(Role.AGENCY)
    assert {"viec", "ketqua", "giahan"} <= set(agency) and "taophien" not in agency
    office = names(Role.OFFICE)
    assert {"taophien", "hopthu", "cauhoi", "doilich", "huyphien"} <= set(office)
    assert "ketqua" not in office
    assert all(description for _, description in commands_for(Actor(1, (Grant(Role.HEAD, 1),))))


async def test_c7_enrolment_tells_the_channel_to_refresh_the_menu(
    chat_engine: Engine, clock: Clock, world: ChatWorld
) -> None:
    from handlers.channel import Incoming
    from handlers.conversations import MENU_HINT, menu_for_account

    conversations = Conversations(chat_engine, ProcedureContext(clock=clock))
    code = invite(chat_engine, clock, "ben-thanh", Role.MONITOR)
    assert [n for n, _ in menu_for_account(chat_engine, "console", "555")][-1] == "trogiup"
    replies = conversations.handle(
        Incoming(channel="console", user_id="555", chat_id="555", command="start", payload=code)
    )
    assert replies[0].extra.get(MENU_HINT) == "refresh"
    assert [n for n, _ in menu_for_account(chat_engine, "console", "555")][-1] == "baocao"
    from handlers.conversations import staff_menus

    menus = dict(staff_menus(chat_engine, "console"))
    assert [n for n, _ in menus["555"]][-3:] == ["quanlyphien", "tonghop", "baocao"]


async def test_c7_help_lists_only_the_commands_of_ones_roles(driver: Driver) -> None:
    monitor = joined(await driver.command(MONITOR, "trogiup"))
    assert "/tonghop" in monitor and "/taophien" not in monitor and "/ketqua" not in monitor
    agency = joined(await driver.command(AGENCY, "trogiup"))
    assert "/ketqua" in agency and "/hopthu" not in agency


async def test_p6_a_second_check_in_with_the_same_code_is_flagged(
    driver: Driver, world: ChatWorld, clock: Clock
) -> None:
    from tests.test_chat_contract import REGISTRATION_CODE, give_details

    await driver.command(RESIDENT, "start", f"s{world.session_id}")
    registered = await give_details(driver, RESIDENT, await driver.press(RESIDENT, "Đăng ký dự"))
    code = REGISTRATION_CODE.search(joined(registered))
    assert code is not None
    clock.set("2026-03-16", "07:45")
    await driver.command(OFFICE, "diemdanh", str(world.session_id))
    first = await driver.text(OFFICE, code.group(0))
    assert "đã điểm danh" in joined(first) and "⚠️" not in joined(first)
    clock.set("2026-03-16", "08:10")
    second = await driver.text(OFFICE, code.group(0).lower())
    assert "đã được điểm danh lúc 07:45, Thứ Hai, 16/03/2026" in joined(second)


async def test_x5_ghiykien_asks_the_official_for_the_speakers_details(
    driver: Driver, world: ChatWorld
) -> None:
    await driver.command(OFFICE, "ghiykien", str(world.session_id))
    await driver.text(OFFICE, "Trần Thị Bình")
    asked = joined(await driver.text(OFFICE, "0912345678"))
    assert "Người phát biểu nêu góp ý" in asked and "Quý ông/bà muốn gửi gì" not in asked


def test_p10_baocao_in_the_console_writes_the_three_files_and_says_where(
    chat_engine: Engine, clock: Clock, world: ChatWorld, tmp_path
) -> None:
    from bot.console import ConsoleChat

    chat = ConsoleChat(
        Conversations(chat_engine, ProcedureContext(clock=clock), ChatSettings("text")),
        image_dir=tmp_path / "files",
    )
    assert "đã được gán vai trò" in chat.say(
        f"/start {invite(chat_engine, clock, 'ben-thanh', Role.HEAD)}"
    )
    said = chat.say("/baocao 2026")
    written = sorted(path.suffix for path in (tmp_path / "files").iterdir())
    assert written == [".docx", ".png", ".xlsx"]
    for path in (tmp_path / "files").iterdir():
        assert str(path) in said


async def test_x5_no_session_open_is_said_without_khac(
    driver: Driver, world: ChatWorld, clock: Clock
) -> None:
    from tests.test_chat_contract import give_details

    await driver.command(RESIDENT, "start", f"s{world.session_id}")
    await give_details(driver, RESIDENT, await driver.press(RESIDENT, "Đăng ký dự"))
    clock.set("2026-03-16", "12:00")  # the first is over; the resident is registered for none
    await driver.command(RESIDENT, "start", f"s{world.full_session_id}")
    await driver.press(RESIDENT, "Đăng ký dự")
    other = joined(await driver.command(RESIDENT, "dangky"))
    assert "chưa có buổi đối thoại nào khác" in other  # registered for the only one open
    clock.set("2026-03-20")  # both sessions of the ward are over
    nothing = joined(await driver.command(RESIDENT, "dangky"))
    assert "chưa có buổi đối thoại nào" in nothing and "khác" not in nothing
