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
    assert UNKNOWN in joined(replies)
    overview = await driver.command(MONITOR, "quanlyphien")
    assert "Buổi đối thoại số" in joined(overview)


@pytest.mark.parametrize("command", ["taophien", "moi", "diemdanh", "ketluan", "traloi"])
async def test_an_agency_officer_does_not_run_sessions(
    driver: Driver, world: ChatWorld, command: str
) -> None:
    replies = await driver.command(AGENCY, command, str(world.session_id))
    assert UNKNOWN in joined(replies)


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
    assert UNKNOWN in joined(replies)


async def test_staff_help_lists_staff_commands_only_for_staff(driver: Driver) -> None:
    assert "/taophien" in joined(await driver.command(OFFICE, "trogiup"))
    assert "/taophien" not in joined(await driver.command(RESIDENT, "trogiup"))
