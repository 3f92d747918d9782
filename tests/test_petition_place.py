"""The place of a problem and its photos (issue 13, item 3): a location shared through the real
Telegram frameworks (aiogram, python-telegram-bot) against the fake Bot API and through the Zalo
OA webhook against the fake Zalo server is attached to the petition being written (C2, C3); the
agency sees it with a map link in /viec and in the forward notice (P8); Open311 shows the point
rounded to the street for a published petition only (P10); erasure keeps only that rounded point
(X3)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from handlers.conversations import Conversations
from handlers.notifications import render
from handlers.turn import ChatSettings
from procedure.errors import Refusal
from procedure.permissions import Actor, Role
from procedure.places import checked_point, map_url, public_point
from procedure.use_cases import inbox, petitions
from procedure.use_cases.context import ProcedureContext
from procedure.use_cases.publication import publish_petition
from procedure.use_cases.residents import erase_personal_data
from procedure.use_cases.review import Period, figures
from storage.tables import Attachment, OrgUnit, OutboxMessage, Petition
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, Reply, joined
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock, World, build_world
from tests.test_chat_contract import ACCENTED, ALICE, give_details, verify_code
from tests.test_public_record import fetch, served
from tests.test_staff_chat import invite
from tests.test_use_cases import submission

# Chợ Bến Thành; the shared point has the precision of a phone's fix.
LATITUDE, LONGITUDE = 10.772154, 106.698312
PARIS = (48.8566, 2.3522)
AGENCY = 104


def settings() -> ChatSettings:
    return ChatSettings(verify_code_as="text", typed_phone_channels=frozenset({"web"}))


@pytest.fixture(params=["aiogram", "ptb", "zalo_oa", "web"])
async def driver(
    request: pytest.FixtureRequest,
    chat_engine: Engine,
    clock: Clock,
    world: ChatWorld,
    tmp_path: Path,
) -> AsyncIterator:
    def make() -> Conversations:
        return Conversations(chat_engine, ProcedureContext(clock=clock), settings())

    if request.param == "web":
        from tests.chat_drivers import WebDriver

        chosen = await WebDriver.start(make, chat_engine, tmp_path / "uploads")
    elif request.param == "zalo_oa":
        from tests.zalo_drivers import ZaloOADriver

        chosen = await ZaloOADriver.start(make)
    else:
        from tests.telegram_driver import TelegramDriver

        chosen = await TelegramDriver.start(request.param, make)
    try:
        yield chosen
    finally:
        await chosen.close()


async def start_petition(driver) -> None:
    await driver.command(ALICE, "gopy")
    await driver.press(ALICE, "Không gắn với buổi đối thoại")
    await driver.press(ALICE, "Kiến nghị")
    await driver.press(ALICE, "Giao thông")


async def until_summary(driver, replies: list[Reply]) -> list[Reply]:
    replies = await give_details(driver, ALICE, replies)
    return await driver.text(ALICE, verify_code(replies))


async def test_c2_c3_a_location_shared_while_writing_is_the_place_of_the_petition(
    driver, chat_engine: Engine
) -> None:
    await start_petition(driver)
    far = await driver.location(ALICE, *PARIS)
    assert "không nằm trong lãnh thổ Việt Nam" in joined(far)  # refused, and said why
    replies = await driver.location(ALICE, LATITUDE, LONGITUDE)
    assert "Đã nhận vị trí" in joined(replies)
    assert "openstreetmap.org/?mlat=10.772154&mlon=106.698312" in joined(replies)
    await driver.photo(ALICE)
    replies = await until_summary(driver, await driver.text(ALICE, ACCENTED))
    summary = joined(replies)
    assert "Tệp đính kèm: 1" in summary and "Địa điểm: vị trí đã gửi" in summary
    await driver.press(ALICE, "Gửi")
    with UnitOfWork(chat_engine) as uow:
        (petition,) = uow.session.exec(select(Petition)).all()
        assert (petition.latitude, petition.longitude) == (LATITUDE, LONGITUDE)
        assert petition.place_text is None
        assert len(uow.session.exec(select(Attachment)).all()) == 1


async def test_c2_the_place_can_be_added_from_the_summary_typed_or_shared(
    driver, chat_engine: Engine
) -> None:
    await start_petition(driver)
    replies = await until_summary(driver, await driver.text(ALICE, ACCENTED))
    assert "Địa điểm: (chưa có)" in joined(replies)
    replies = await driver.press(ALICE, "Thêm địa điểm")
    assert "Sự việc xảy ra ở đâu?" in joined(replies)
    if driver.name in {"aiogram", "ptb"}:
        # Telegram: a keyboard button that shares the location in one tap.
        assert any(sent.requests_location for sent in driver.fake.sent_messages(ALICE)[-2:])
    replies = await driver.text(ALICE, "Trước số 12 hẻm 42 Lê Lợi, khu phố 3")
    assert "Đã ghi địa chỉ: Trước số 12 hẻm 42 Lê Lợi, khu phố 3" in joined(replies)
    assert "Địa điểm: Trước số 12 hẻm 42 Lê Lợi, khu phố 3" in joined(replies)
    replies = await driver.location(ALICE, LATITUDE, LONGITUDE)  # at the summary: kept too
    assert "Xin kiểm tra lại trước khi gửi" in joined(replies)
    await driver.press(ALICE, "Gửi")
    with UnitOfWork(chat_engine) as uow:
        (petition,) = uow.session.exec(select(Petition)).all()
        assert petition.place_text == "Trước số 12 hẻm 42 Lê Lợi, khu phố 3"
        assert (petition.latitude, petition.longitude) == (LATITUDE, LONGITUDE)


async def test_c3_p8_the_agency_sees_the_place_with_a_map_link_in_viec_and_the_notice(
    chat_engine: Engine, clock: Clock, world: ChatWorld
) -> None:
    from handlers.channel import Attachment as Sent

    chat = ConsoleDriver(
        lambda: Conversations(chat_engine, ProcedureContext(clock=clock), settings())
    )
    code = invite(chat_engine, clock, "ben-thanh-dt", Role.AGENCY)
    assert "đã được gán vai trò" in joined(await chat.command(AGENCY, "start", code))
    await start_petition(chat)

    assert "Đã nhận vị trí" in joined(await chat.location(ALICE, LATITUDE, LONGITUDE))
    photo = Sent(kind="photo", file_ref="https://zalo.example/hong-cong.jpg")
    chat._as(ALICE)
    base = chat.chat.incoming_for("")
    chat._send(ALICE, replace(base, text=None, attachment=photo))
    await until_summary(chat, await chat.text(ALICE, ACCENTED))
    await chat.press(ALICE, "Gửi")
    link = map_url(LATITUDE, LONGITUDE)
    with UnitOfWork(chat_engine, write=True) as uow:
        (petition,) = uow.session.exec(select(Petition)).all()
        agency = uow.session.exec(select(OrgUnit).where(OrgUnit.code == "ben-thanh-dt")).one()
        assert agency.id is not None
        inbox.forward_petition(
            uow, world.office, petition.tracking_code, agency.id, ProcedureContext(clock=clock)
        )
        uow.commit()
        notices = uow.session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "agency.forwarded")
        ).all()
        assert notices
        notice = render(notices[0].kind, notices[0].data).text
    assert link.replace("&", "&amp;") in notice
    assert "1 ảnh kèm theo https://zalo.example/hong-cong.jpg" in notice
    tasks = joined(await chat.command(AGENCY, "viec"))
    assert petition.tracking_code in tasks and link in tasks
    assert "Vị trí người dân gửi" in tasks and "1 ảnh kèm theo" in tasks


def test_p8_a_point_outside_vietnam_is_refused_and_the_public_point_is_rounded() -> None:
    assert checked_point(LATITUDE, LONGITUDE).latitude == LATITUDE
    for latitude, longitude in (PARIS, (LONGITUDE, LATITUDE), (7.9, 105.0), (21.0, 110.5)):
        with pytest.raises(Refusal) as refused:
            checked_point(latitude, longitude)
        assert "lãnh thổ Việt Nam" in refused.value.message
    assert public_point(LATITUDE, LONGITUDE) == public_point(10.7724, 106.6976)
    assert public_point(None, LONGITUDE) is None


def place_world(uow: UnitOfWork) -> tuple[World, Petition, Petition, Petition]:
    world = build_world(uow)
    world.clock.set("2026-03-10")
    with_point = petitions.submit_petition(
        uow,
        submission(
            world,
            world.residents[0],
            None,
            street=None,
            latitude=LATITUDE,
            longitude=LONGITUDE,
            place_text="Hẻm 42 Lê Lợi",
        ),
        world.context,
    )
    hidden = petitions.submit_petition(
        uow,
        submission(
            world,
            world.residents[1],
            None,
            text="Đèn đường hẻm 5 hỏng đã một tuần.",
            full_name="Trần Thị Bình",
            street=None,
            latitude=10.7801,
            longitude=106.7002,
        ),
        world.context,
    )
    without = petitions.submit_petition(
        uow, submission(world, world.residents[2], None, full_name="Lý Văn Cường"), world.context
    )
    with pytest.raises(Refusal):
        petitions.submit_petition(
            uow,
            replace(submission(world, world.residents[2], None), latitude=PARIS[0], longitude=2.0),
            world.context,
        )
    publish_petition(uow, world.office, with_point.tracking_code, "Ngập hẻm 42", world.context)
    publish_petition(uow, world.office, without.tracking_code, "Ngập Lê Lợi", world.context)
    uow.commit()
    return world, with_point, hidden, without


async def test_p10_x3_open311_shows_the_rounded_point_of_published_petitions_only(
    uow: UnitOfWork, engine: Engine
) -> None:
    _, with_point, hidden, without = place_world(uow)
    async with served(engine) as base:
        status, _, body = await fetch(f"{base}/open311/v2/requests.json")
        assert status == 200
        by_id = {r["service_request_id"]: r for r in json.loads(body)}
        assert set(by_id) == {with_point.tracking_code, without.tracking_code}
        shown = by_id[with_point.tracking_code]
        assert (shown["lat"], shown["long"]) == (10.772, 106.698)  # the street, not the house
        # The street the office checked (proposed from the written address), and the ward.
        assert shown["address"] == "Hẻm 42 Lê Lợi, Phường Bến Thành"
        assert str(LATITUDE) not in body and str(LONGITUDE) not in body
        assert "10.7801" not in body and hidden.tracking_code not in body
        assert by_id[without.tracking_code]["lat"] is None
        assert by_id[without.tracking_code]["address"] == "Lê Lợi, Phường Bến Thành"
        status, _, xml = await fetch(f"{base}/open311/v2/requests/{with_point.tracking_code}.xml")
        assert status == 200 and "<lat>10.772</lat>" in xml and "<long>106.698</long>" in xml


def test_x3_erasure_keeps_only_the_point_rounded_to_the_street(uow: UnitOfWork) -> None:
    world, with_point, hidden, _ = place_world(uow)
    erase_personal_data(uow, world.residents[0], world.context)
    erase_personal_data(uow, world.residents[1], world.context)
    uow.commit()
    for petition, rounded in ((with_point, (10.772, 106.698)), (hidden, (10.78, 106.7))):
        uow.session.refresh(petition)
        assert (petition.latitude, petition.longitude) == rounded
    assert (
        uow.session.exec(
            select(Petition).where(Petition.latitude == LATITUDE)  # type: ignore[arg-type]
        ).first()
        is None
    )


def test_p2_p10_the_report_groups_petitions_by_spot(uow: UnitOfWork) -> None:
    world, *_ = place_world(uow)
    numbers = figures(uow, Actor.system(), world.ward, Period.year(2026), world.context)
    places = dict(numbers.by_place)
    assert any(label.endswith("— Hẻm 42 Lê Lợi") for label in places)
    assert any("vị trí 10.780, 106.700 (trong khoảng 100 m)" in label for label in places)
    assert any(label.endswith("— Lê Lợi") for label in places)


def test_p7_p8_the_conclusion_notice_gives_each_petitions_place_and_map_link(
    uow: UnitOfWork,
) -> None:
    from procedure.use_cases import follow_up
    from procedure.use_cases.follow_up import AssignmentRequest
    from tests.test_use_cases import held_with_petitions

    world = build_world(uow)
    session_id, a, _b, _q = held_with_petitions(world, uow)
    placed = petitions.submit_petition(
        uow,
        submission(
            world,
            world.residents[1],
            session_id,
            text="Cống hẻm 42 Lê Lợi bị vỡ, nước tràn ra đường.",
            latitude=LATITUDE,
            longitude=LONGITUDE,
            place_text="Hẻm 42 Lê Lợi",
        ),
        world.context,
    )
    world.clock.set("2026-03-27", "16:00")
    follow_up.notify_conclusion(
        uow,
        world.head,
        session_id,
        "Giao Phòng Kinh tế, Hạ tầng và Đô thị sửa cống.",
        [AssignmentRequest(a.id, world.agency), AssignmentRequest(placed.id, world.agency)],
        world.context,
    )
    (row,) = uow.session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "agency.assigned")
        .where(OutboxMessage.person_id == world.agency_officer.person_id)
    ).all()
    notice = render(row.kind, row.data).text
    assert "📍 Địa điểm: Hẻm 42 Lê Lợi" in notice
    assert map_url(LATITUDE, LONGITUDE).replace("&", "&amp;") in notice
    assert notice.count("openstreetmap.org") == 1  # the petition without a place has no link


def test_c7_telegram_locations_and_venues_are_read_and_live_updates_ignored() -> None:
    from bot.channels.telegram.updates import incoming_from_update
    from tests.fake_telegram import FakeTelegram

    fake = FakeTelegram()
    user = fake.user(ALICE, "An")
    update = fake.send_location(user, LATITUDE, LONGITUDE, horizontal_accuracy=20.0)
    shared = incoming_from_update(update)
    assert shared is not None and shared.location == (LATITUDE, LONGITUDE)
    assert not shared.unsupported and shared.text is None
    message = update["message"]
    venue = {**message, "venue": {"location": message.pop("location"), "title": "Chợ"}}
    read = incoming_from_update({"update_id": 9, "message": venue})
    assert read is not None and read.location == (LATITUDE, LONGITUDE)
    moved = {
        "update_id": 10,
        "edited_message": {**message, "location": {"latitude": 10.8, "longitude": 106.7}},
    }
    assert incoming_from_update(moved) is None


def test_c7_the_web_page_offers_the_browsers_location_and_reads_only_numbers() -> None:
    from bot.channels.web.channel import _location, frame_of
    from handlers.channel import Outgoing

    asked = frame_of(Outgoing(text="Ở đâu?", ask_location="📍 Gửi vị trí hiện tại"))
    assert asked["ask_location"] == "📍 Gửi vị trí hiện tại"
    assert "ask_location" not in frame_of(Outgoing(text="Chào"))
    base = {"channel": "web", "user_id": "w1", "chat_id": "w1", "update_id": "w1:f1"}
    read = _location(base, {"type": "location", "latitude": LATITUDE, "longitude": LONGITUDE})
    assert not isinstance(read, str) and read.location == (LATITUDE, LONGITUDE)
    for bad in ("10.7", True, None, float("nan"), float("inf")):
        assert _location(base, {"latitude": bad, "longitude": LONGITUDE}) == "bad_frame"


async def test_c2_c7_the_web_chat_shares_the_browsers_location_with_one_press(
    chat_engine: Engine, clock: Clock, world: ChatWorld, tmp_path: Path
) -> None:
    import shutil

    from tests.test_web_browser import CHROMIUM, TIMEOUT_MS, _require_browser, chat_server

    _require_browser()
    from playwright.async_api import async_playwright, expect

    from bot.channels.web import WebChatOptions

    options = WebChatOptions(upload_dir=tmp_path)
    async with chat_server(chat_engine, clock, options) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium"),
            args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        try:
            context = await browser.new_context(
                viewport={"width": 390, "height": 800},
                locale="vi-VN",
                geolocation={"latitude": LATITUDE, "longitude": LONGITUDE},
                permissions=["geolocation"],
            )
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)  # as tests/test_web_browser.py's page
            log = page.locator("#log")
            bot = page.locator("#log .msg.bot")

            async def press(label: str) -> None:
                count = await bot.count()
                await log.get_by_role("button", name=label).last.click()
                await expect(bot).not_to_have_count(count)

            async def type_line(text: str) -> None:
                count = await bot.count()
                await page.get_by_label("Tin nhắn của Quý ông/bà").fill(text)
                await page.keyboard.press("Enter")
                await expect(bot).not_to_have_count(count)

            await page.goto(url)
            await expect(page.locator("#status")).to_contain_text("Đã kết nối")
            await type_line("/gopy")
            await press("Không gắn với buổi đối thoại")
            await press("Kiến nghị")
            await press("Giao thông")
            await expect(log).to_contain_text("Xin gõ nội dung")
            await type_line(ACCENTED)
            await expect(log).to_contain_text("Thông báo về dữ liệu cá nhân")
            await press("Tôi đồng ý")
            await expect(log).to_contain_text("họ và tên")
            await type_line("Nguyễn Văn An")
            await expect(log).to_contain_text("số điện thoại cá nhân")
            await type_line("0912 345 678")
            await expect(log).to_contain_text("chưa được xác minh")
            await type_line("ben thanh")
            # The ward is either asked with buttons or taken at once: wait for one of the two (the
            # reply may come in more than one message) before looking for the button.
            ward = page.get_by_role("button", name="Phường Bến Thành")
            picture_shown = page.get_by_role("img", name=re.compile("Mã kiểm tra"))
            await expect(ward.or_(picture_shown).first).to_be_visible()
            if await ward.count():
                await press("Phường Bến Thành")
            picture = page.get_by_role("img", name=re.compile("Mã kiểm tra")).last
            alt = await picture.get_attribute("alt")
            await type_line(re.sub(r"\D", "", (alt or "").rpartition(":")[2]))
            await expect(log).to_contain_text("Xin kiểm tra lại trước khi gửi")
            await press("Thêm địa điểm")
            await expect(log).to_contain_text("Sự việc xảy ra ở đâu?")
            await page.get_by_role("button", name="Gửi vị trí hiện tại").last.click()
            await expect(log).to_contain_text("Đã nhận vị trí")
            await expect(log).to_contain_text("Địa điểm: vị trí đã gửi")
            await press("Gửi")
            await expect(log).to_contain_text("KN-")
        finally:
            await browser.close()
    with UnitOfWork(chat_engine) as uow:
        (petition,) = uow.session.exec(select(Petition)).all()
        assert (petition.latitude, petition.longitude) == (LATITUDE, LONGITUDE)
