"""/congkhai and /ancongkhai in chat (issue 13, item 4; X2): the office and the head of the
ward publish a checked petition and see exactly what became public; nobody else may."""

from __future__ import annotations

import re

from sqlalchemy import Engine
from sqlmodel import select

from storage.tables import Event, PublicRecord
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import Driver, joined
from tests.test_chat_contract import opinion_until_summary
from tests.test_staff_chat import AGENCY, HEAD, MONITOR, OFFICE, OTHER_OFFICE, RESIDENT, driver

__all__ = ["driver"]  # fixture
UNKNOWN = "Không có lệnh này"
ROLE_NEEDED = "dành cho vai trò: văn phòng, người đứng đầu"


async def test_p10_x2_the_office_publishes_and_the_head_withdraws_in_chat(
    driver: Driver, chat_engine: Engine
) -> None:
    await opinion_until_summary(driver, RESIDENT)
    sent = await driver.press(RESIDENT, "Gửi")
    found = re.search(r"KN-[2-9A-Z]{4}-[2-9A-Z]{4}", joined(sent))
    assert found is not None
    code = found.group(0)
    assert "/congkhai" in joined(await driver.command(OFFICE, "congkhai"))  # usage
    # Staff of another role are told which role the command needs; a resident gets "unknown".
    assert ROLE_NEEDED in joined(await driver.command(MONITOR, "congkhai", code))
    assert ROLE_NEEDED in joined(await driver.command(AGENCY, "congkhai", code))
    assert UNKNOWN in joined(await driver.command(RESIDENT, "congkhai", code))
    assert "không có quyền" in joined(await driver.command(OTHER_OFFICE, "congkhai", code))
    replies = joined(
        await driver.command(OFFICE, "congkhai", f"{code} Ngập đường Lê Lợi, gọi 0912 345 678")
    )
    assert "Đã công khai" in replies and "/congkhai/ben-thanh" in replies
    assert "Ngập đường Lê Lợi, gọi […]" in replies and "0912" not in replies
    assert "chưa có văn bản trả lời" in replies
    # Issue 13: the place the public sees is shown to be checked (none written: the ward only).
    assert "Địa điểm công khai: (không ghi, chỉ tên phường, xã)" in replies
    with UnitOfWork(chat_engine) as uow:
        record = uow.session.exec(select(PublicRecord)).one()
        assert record.subject == "Ngập đường Lê Lợi, gọi […]" and record.place is None
    # After "|", the street the office checked; house numbers never become public.
    corrected = joined(
        await driver.command(OFFICE, "congkhai", f"{code} Ngập đường Lê Lợi | Số 12 Lê Lợi")
    )
    assert "Địa điểm công khai: Lê Lợi (chỉ tên đường" in corrected
    with UnitOfWork(chat_engine) as uow:
        record = uow.session.exec(select(PublicRecord)).one()
        assert (record.subject, record.place) == ("Ngập đường Lê Lợi", "Lê Lợi")
        kinds = [e.kind for e in uow.session.exec(select(Event).order_by(Event.id)).all()]  # type: ignore[arg-type]
        assert kinds[-1] == "petition.published"
    assert "Đã rút" in joined(await driver.command(HEAD, "ancongkhai", code))
    assert "chưa được công khai" in joined(await driver.command(HEAD, "ancongkhai", code))
    with UnitOfWork(chat_engine) as uow:
        assert uow.session.exec(select(PublicRecord)).all() == []
