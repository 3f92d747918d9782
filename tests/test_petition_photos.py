"""The photos a resident sends with a petition reach the officials who resolve it (issue 13,
item 3; C3, P8): on Telegram the agency's notice carries the photos themselves, sent again by
the file id Telegram gave the resident's message (sendPhoto, or an album by sendMediaGroup),
and /viec has a "Xem ảnh" button that sends them again; a channel that cannot show them says
how many there are and where to see them. Through the real aiogram and python-telegram-bot
adapters against the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.channels.telegram.delivery import render as telegram_call
from bot.channels.telegram.text import telegram_pieces
from bot.outbox_sender import OutboxSender
from handlers.channel import Button, Outgoing, Photo
from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.permissions import Role
from procedure.use_cases import inbox
from procedure.use_cases.context import ProcedureContext
from storage.tables import Attachment, OrgUnit, Petition
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, joined
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock
from tests.telegram_driver import TelegramDriver
from tests.test_chat_contract import ACCENTED, ALICE, give_details, verify_code
from tests.test_staff_chat import invite

AGENCY, OFFICE = 2**33 + 3, 2**33 + 1


def make(chat_engine: Engine, clock: Clock) -> Conversations:
    return Conversations(
        chat_engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
    )


@pytest.fixture(params=["aiogram", "ptb"])
async def telegram(
    request: pytest.FixtureRequest, chat_engine: Engine, clock: Clock, world: ChatWorld
) -> AsyncIterator[TelegramDriver]:
    driver = await TelegramDriver.start(request.param, lambda: make(chat_engine, clock))
    try:
        yield driver
    finally:
        await driver.close()


def sender(driver: TelegramDriver, engine: Engine) -> OutboxSender:
    if driver.name == "aiogram":
        from bot.transports import TelegramAiogramTransport

        transport = TelegramAiogramTransport(driver.channel.bot)
    else:
        from bot.transports import TelegramPtbTransport

        transport = TelegramPtbTransport(driver.channel.bot)
    return OutboxSender(
        engine, {"telegram": transport}, global_per_second=500, per_chat_per_second=100
    )


async def petition_with_photos(driver, photos: int) -> None:
    """A resident writes a petition outside any session and sends ``photos`` photos with it."""
    await driver.command(ALICE, "gopy")
    await driver.press(ALICE, "Không gắn với buổi đối thoại")
    await driver.press(ALICE, "Kiến nghị")
    await driver.press(ALICE, "Giao thông")
    for _ in range(photos):
        await driver.photo(ALICE)
    replies = await give_details(driver, ALICE, await driver.text(ALICE, ACCENTED))
    summary = joined(await driver.text(ALICE, verify_code(replies)))
    assert f"Tệp đính kèm: {photos}" in summary
    await driver.press(ALICE, "Gửi")


def forward_to_agency(engine: Engine, clock: Clock, world: ChatWorld) -> tuple[str, list[str]]:
    """The office forwards the petition to the agency; its code and its photos' file ids."""
    with UnitOfWork(engine, write=True) as uow:
        (petition,) = uow.session.exec(select(Petition)).all()
        agency = uow.session.exec(select(OrgUnit).where(OrgUnit.code == "ben-thanh-dt")).one()
        assert agency.id is not None
        inbox.forward_petition(
            uow, world.office, petition.tracking_code, agency.id, ProcedureContext(clock=clock)
        )
        uow.commit()
        refs = [
            a.file_ref
            for a in uow.session.exec(select(Attachment).order_by(Attachment.id)).all()  # type: ignore[arg-type]
        ]
        return petition.tracking_code, refs


def photo_ids_sent(driver: TelegramDriver, since: int) -> list[list[str]]:
    """The file ids of the photos the bot sent since request ``since``, one list per call."""
    sent = []
    for call in driver.fake.calls():
        if call.number <= since or call.status != 200:
            continue
        if call.method == "sendPhoto":
            sent.append([call.params["photo"]])
        elif call.method == "sendMediaGroup":
            sent.append([item["media"] for item in call.params["media"]])
    return sent


def last_call(driver: TelegramDriver) -> int:
    calls = driver.fake.calls()
    return calls[-1].number if calls else 0


@pytest.mark.parametrize("photos", [1, 2])
async def test_c3_p8_the_agency_on_telegram_receives_the_petitions_photos_by_file_id(
    telegram: TelegramDriver, chat_engine: Engine, clock: Clock, world: ChatWorld, photos: int
) -> None:
    driver = telegram
    code = invite(chat_engine, clock, "ben-thanh-dt", Role.AGENCY)
    assert "đã được gán vai trò" in joined(await driver.command(AGENCY, "start", code))
    await petition_with_photos(driver, photos)
    tracking_code, refs = forward_to_agency(chat_engine, clock, world)
    assert len(refs) == photos and all(not ref.startswith("http") for ref in refs)

    before = last_call(driver)
    await sender(driver, chat_engine).drain_once()
    # The notice, then the photos themselves: one sendPhoto, or one album of both.
    notice = [m for m in driver.fake.sent_messages(AGENCY) if m.method == "sendMessage"][-1]
    assert tracking_code in (notice.text or "")
    assert f"{photos} ảnh kèm theo" in (notice.text or "")
    assert photo_ids_sent(driver, before) == [refs]
    pictures = [
        m for m in driver.fake.sent_messages(AGENCY) if m.method in {"sendPhoto", "sendMediaGroup"}
    ]
    assert len(pictures) == photos
    assert all(m.chat_id == AGENCY for m in pictures)
    assert tracking_code in (pictures[0].text or "")  # the caption names the petition
    if photos > 1:
        assert len({m.message["media_group_id"] for m in pictures}) == 1

    # /viec: the petition with a button that sends the photos again, here.
    tasks = await driver.command(AGENCY, "viec")
    assert tracking_code in joined(tasks)
    assert f"/anh {tracking_code}" in joined(tasks)
    before = last_call(driver)
    shown = await driver.press(AGENCY, "Xem ảnh")
    assert f"{photos} ảnh được gửi ngay dưới đây" in joined(shown)
    assert photo_ids_sent(driver, before) == [refs]


async def test_c3_p8_only_the_office_and_the_assigned_agency_see_the_photos(
    telegram: TelegramDriver, chat_engine: Engine, clock: Clock, world: ChatWorld
) -> None:
    driver = telegram
    for user, org, role in (
        (OFFICE, "ben-thanh", Role.OFFICE),
        (AGENCY, "ben-thanh-dt", Role.AGENCY),
        (AGENCY + 1, "ben-thanh", Role.MONITOR),
    ):
        code = invite(chat_engine, clock, org, role)
        assert "đã được gán vai trò" in joined(await driver.command(user, "start", code))
    await petition_with_photos(driver, 1)
    with UnitOfWork(chat_engine) as uow:
        (petition,) = uow.session.exec(select(Petition)).all()
        tracking_code = petition.tracking_code
    # Before it is forwarded, the agency may not see it; the office may.
    before = last_call(driver)
    refused = joined(await driver.command(AGENCY, "anh", tracking_code))
    assert "không có quyền" in refused
    assert "1 ảnh được gửi ngay dưới đây" in joined(
        await driver.command(OFFICE, "anh", tracking_code)
    )
    assert len(photo_ids_sent(driver, before)) == 1
    # The office inbox shows the photo line and the button too.
    waiting = await driver.command(OFFICE, "hopthu")
    assert f"1 ảnh kèm theo — xem ảnh: /anh {tracking_code}" in joined(waiting)
    before = last_call(driver)
    await driver.press(OFFICE, "Xem ảnh (1)")
    assert len(photo_ids_sent(driver, before)) == 1
    # A monitor reads the oversight figures, not the residents' photos.
    before = last_call(driver)
    await driver.command(AGENCY + 1, "anh", tracking_code)
    assert photo_ids_sent(driver, before) == []
    # A resident: a staff command is as unknown as any other.
    assert "ảnh" not in joined(await driver.command(ALICE, "anh", tracking_code)).lower()


async def test_c3_p8_staff_on_the_console_are_told_how_many_photos_and_where_to_see_them(
    chat_engine: Engine, clock: Clock, world: ChatWorld
) -> None:
    telegram = await TelegramDriver.start("aiogram", lambda: make(chat_engine, clock))
    try:
        await petition_with_photos(telegram, 2)
    finally:
        await telegram.close()
    console = ConsoleDriver(lambda: make(chat_engine, clock))
    code = invite(chat_engine, clock, "ben-thanh-dt", Role.AGENCY)
    assert "đã được gán vai trò" in joined(await console.command(AGENCY, "start", code))
    tracking_code, _ = forward_to_agency(chat_engine, clock, world)
    tasks = joined(await console.command(AGENCY, "viec"))
    assert f"2 ảnh kèm theo — xem ảnh: /anh {tracking_code}" in tasks
    said = joined(await console.press(AGENCY, "Xem ảnh"))
    assert f"Ý kiến {tracking_code} có 2 ảnh người dân gửi kèm" in said
    assert "2 ảnh người dân gửi qua Telegram" in said
    assert f"mở bot trên Telegram và gửi /anh {tracking_code}" in said


def test_c7_telegram_sends_kept_photos_after_the_text_one_album_per_petition() -> None:
    photos = (
        Photo("telegram", "AgAC-1", caption="<code>KN-A</code>"),
        Photo("telegram", "AgAC-2"),
        Photo("zalo_oa", "https://zalo.example/x.jpg"),  # another platform's: not sent here
        Photo("telegram", "AgAC-3", caption="<code>KN-B</code>"),
    )
    message = Outgoing(text="Thông báo", buttons=((Button("Xem", "track:KN-A"),),), photos=photos)
    pieces = telegram_pieces(message)
    assert [p.text for p in pieces] == ["Thông báo", "", ""]
    assert pieces[0].buttons and not pieces[0].photos
    album, single = (telegram_call("1", piece) for piece in pieces[1:])
    assert (album.method, album.photo_ids, album.text) == (
        "sendMediaGroup",
        ("AgAC-1", "AgAC-2"),
        "<code>KN-A</code>",
    )
    assert (single.method, single.photo_ids, single.file) == ("sendPhoto", ("AgAC-3",), None)
    many = Outgoing(text="", photos=tuple(Photo("telegram", f"id-{n}") for n in range(12)))
    assert [len(p.photos) for p in telegram_pieces(many)] == [10, 2]
    assert telegram_pieces(Outgoing(text="", photos=(photos[2],))) == []
