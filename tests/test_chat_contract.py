"""The resident's conversations, driven the same way through every channel adapter (C7):
the console adapter in-process, and aiogram and python-telegram-bot for real against the fake
Bot API server on 127.0.0.1. C1 register, C2 opinion with Q1–Q5, C3 tracking, X3 consent,
X4 nothing lost (restart, duplicate update)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from procedure.use_cases.context import ProcedureContext
from storage.tables import Attachment, Consent, Person, Petition, Registration
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, Driver, Reply, find_button, joined
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock

REGISTRATION_CODE = re.compile(r"\b[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{3}\b")
TRACKING_CODE = re.compile(r"\bKN-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b")
VERIFY_CODE = re.compile(r"mã kiểm tra[^0-9]*(\d{5})|mã mới: (\d{5})")
ACCENTED = (
    "Đường Lê Lợi bị ngập sâu mỗi khi mưa lớn, đề nghị phường nạo vét cống thoát nước "
    "trước mùa mưa <năm nay> & kiểm tra lại các hố ga."
)
STRIPPED = "Duong Le Loi bi ngap sau moi khi mua lon, de nghi phuong nao vet cong thoat nuoc."
ALICE, BOB = 7_000_000_001, 2**40 + 5  # Telegram ids are 64-bit

DRIVERS = ["console", "aiogram", "ptb", "web"]


@pytest.fixture(params=DRIVERS)
async def driver(
    request: pytest.FixtureRequest,
    chat_engine: Engine,
    clock: Clock,
    world: ChatWorld,
    tmp_path: Path,
) -> AsyncIterator[Driver]:
    def make() -> Conversations:
        settings = ChatSettings(verify_code_as="text", typed_phone_channels=frozenset({"web"}))
        return Conversations(chat_engine, ProcedureContext(clock=clock), settings)

    if request.param == "console":
        chosen: Driver = ConsoleDriver(make)
    elif request.param == "web":
        from tests.chat_drivers import WebDriver

        chosen = await WebDriver.start(make, chat_engine, tmp_path / "web-uploads")
    else:
        from tests.telegram_driver import TelegramDriver

        chosen = await TelegramDriver.start(request.param, make)
    try:
        yield chosen
    finally:
        await chosen.close()


def shares_phone(driver: Driver) -> bool:
    """Whether the channel shares a verified phone (Telegram's contact); the web page cannot."""
    return bool(getattr(driver, "shares_phone", True))


def texts(replies: list[Reply]) -> str:
    return joined(replies)


async def give_details(driver: Driver, user: int, replies: list[Reply]) -> list[Reply]:
    """Answer consent, name, phone (shared contact) and ward as they are asked."""
    for _ in range(6):
        said = texts(replies)
        if "Thông báo về dữ liệu cá nhân" in said:
            replies = await driver.press(user, "Tôi đồng ý")
        elif "họ và tên" in said and "Xin cho biết" in said:
            replies = await driver.text(user, "Nguyễn Văn An")
        elif "số điện thoại cá nhân" in said and not shares_phone(driver):
            assert not any(r.ask_contact for r in replies)  # no share button where none works
            replies = await driver.text(user, "0912 345 678")
        elif "số điện thoại cá nhân" in said:
            assert any(r.ask_contact for r in replies)
            replies = await driver.contact(user, "+84912345678", owner=user)
        elif "phường, xã" in said and "cư trú" in said and "Xin chọn" not in said:
            replies = await driver.text(user, "ben thanh")
        elif "Xin chọn phường, xã" in said:
            replies = await driver.press(user, "Phường Bến Thành")
        else:
            return replies
    return replies


def verify_code(replies: list[Reply]) -> str:
    for reply in reversed(replies):
        match = VERIFY_CODE.search(reply.text)
        if match:
            return match.group(1) or match.group(2)
    raise AssertionError(f"no verification code in {texts(replies)!r}")


async def opinion_until_summary(driver: Driver, user: int, text: str = ACCENTED) -> list[Reply]:
    replies = await driver.command(user, "gopy")
    assert "gửi cho buổi đối thoại nào" in texts(replies)
    replies = await driver.press(user, "Không gắn với buổi đối thoại")
    replies = await driver.press(user, "Kiến nghị")
    assert "lĩnh vực" in texts(replies)
    replies = await driver.press(user, "Giao thông")
    assert "Xin gõ nội dung" in texts(replies)
    replies = await driver.text(user, text)
    replies = await give_details(driver, user, replies)
    replies = await driver.text(user, verify_code(replies))
    assert "Xin kiểm tra lại trước khi gửi" in texts(replies)
    return replies


def petitions(engine: Engine) -> list[Petition]:
    with UnitOfWork(engine) as uow:
        return list(uow.session.exec(select(Petition)).all())


async def test_c1_register_for_a_session_from_its_deep_link(
    driver: Driver, world: ChatWorld, chat_engine: Engine
) -> None:
    replies = await driver.command(ALICE, "start")
    assert "Đối thoại" in texts(replies) and find_button(replies, "Gửi ý kiến")
    replies = await driver.command(ALICE, "start", f"s{world.session_id}")
    said = texts(replies)
    # User-provided and official text is escaped, and shown as it was written (X5).
    assert "Đối thoại về chỉnh trang đô thị & vệ sinh <môi trường>" in said
    assert "&lt;" in replies[0].html
    assert "08:00, Thứ Hai, 16/03/2026" in said
    replies = await driver.press(ALICE, "Đăng ký dự")
    assert "Thông báo về dữ liệu cá nhân" in texts(replies)  # X3: consent first
    replies = await give_details(driver, ALICE, replies)
    said = texts(replies)
    assert "Đăng ký thành công" in said
    # P4, C1: the confirmation carries the session as a calendar file, at 08:00 local time.
    files = [reply.document for reply in replies if reply.document is not None]
    assert [name for name, _ in files] == [f"doi-thoai-phien-{world.session_id}.ics"]
    assert b"DTSTART;TZID=Asia/Ho_Chi_Minh:20260316T080000" in files[0][1]
    code = REGISTRATION_CODE.search(said)
    assert code is not None
    with UnitOfWork(chat_engine) as uow:
        registration = uow.session.exec(select(Registration)).one()
        assert registration.code == code.group(0) and registration.state == "registered"
        consent = uow.session.exec(select(Consent)).one()
        assert consent.notice_version and consent.given_at is not None
        person = uow.session.get(Person, registration.person_id)
        assert person is not None and person.phone_e164 == "+84912345678"
        # A shared contact of the sender's own account is verified; a typed number is not.
        assert person.phone_verified is shares_phone(driver)
    again = await driver.command(ALICE, "start", f"s{world.session_id}")
    again = await driver.press(ALICE, "Đăng ký dự")
    assert "đã đăng ký buổi này rồi" in texts(again) and code.group(0) in texts(again)


async def test_c1_a_full_session_puts_the_next_resident_on_the_waitlist(
    driver: Driver, world: ChatWorld
) -> None:
    await driver.command(ALICE, "start", f"s{world.full_session_id}")
    first = await give_details(driver, ALICE, await driver.press(ALICE, "Đăng ký dự"))
    assert "Đăng ký thành công" in texts(first)
    await driver.command(BOB, "start", f"s{world.full_session_id}")
    second = await give_details(driver, BOB, await driver.press(BOB, "Đăng ký dự"))
    assert "danh sách chờ" in texts(second)
    cancelled = await driver.press(ALICE, "Hủy đăng ký")
    assert "Đã hủy đăng ký" in texts(cancelled)


async def test_c2_q1_q3_q4_send_an_opinion_and_track_it(
    driver: Driver, world: ChatWorld, chat_engine: Engine
) -> None:
    replies = await driver.command(ALICE, "gopy")
    replies = await driver.press(ALICE, "Không gắn với buổi đối thoại")
    replies = await driver.press(ALICE, "Kiến nghị")
    replies = await driver.press(ALICE, "Giao thông")
    # Q4: text without diacritics is refused, kept, and a restored text is offered.
    replies = await driver.text(ALICE, STRIPPED)
    said = texts(replies)
    assert "không dấu" in said and "Bản gợi ý có dấu" in said and "ngập" in said
    find_button(replies, "Dùng bản gợi ý")
    replies = await driver.press(ALICE, "Tự gõ lại")
    replies = await driver.text(ALICE, ACCENTED)
    # Q1: the required details not yet known are asked, after consent (X3).
    assert "Thông báo về dữ liệu cá nhân" in texts(replies)
    replies = await driver.press(ALICE, "Tôi đồng ý")
    replies = await driver.text(ALICE, "Nguyễn Văn An")
    # Q2: an old 11-digit number gets its new 10-digit form proposed.
    replies = await driver.text(ALICE, "0162 345 6789")
    assert "0323456789" in texts(replies)
    replies = await driver.press(ALICE, "Đúng, dùng số mới")
    replies = await give_details(driver, ALICE, replies)
    # Q3: a wrong code three times draws a new one; the text is never lost.
    first_code = verify_code(replies)
    for _ in range(2):
        wrong = await driver.text(ALICE, "22222" if first_code != "22222" else "33333")
        assert "chưa đúng" in texts(wrong)
    renewed = await driver.text(ALICE, "22222" if first_code != "22222" else "33333")
    assert "đã được đổi" in texts(renewed)
    replies = await driver.text(ALICE, verify_code(renewed))
    summary = texts(replies)
    assert "Xin kiểm tra lại trước khi gửi" in summary and "<năm nay> & kiểm tra" in summary
    replies = await driver.press(ALICE, "Gửi")
    code = TRACKING_CODE.search(texts(replies))
    assert code is not None
    (petition,) = petitions(chat_engine)
    assert petition.text == ACCENTED and petition.tracking_code == code.group(0)
    assert petition.petitioner_phone_e164 == "+84323456789" and petition.kind == "petition"
    tracked = await driver.command(ALICE, "tracuu", code.group(0).lower())
    assert "đã tiếp nhận" in texts(tracked) and code.group(0) in texts(tracked)


async def test_x4_a_restart_in_the_middle_keeps_the_text(
    driver: Driver, world: ChatWorld, chat_engine: Engine
) -> None:
    await driver.command(ALICE, "gopy")
    await driver.press(ALICE, "Không gắn với buổi đối thoại")
    await driver.press(ALICE, "Góp ý")
    await driver.press(ALICE, "Môi trường")
    refused = await driver.text(ALICE, STRIPPED)
    assert "Bản gợi ý có dấu" in texts(refused)
    await driver.restart()
    replies = await driver.press(ALICE, "Dùng bản gợi ý")
    assert "Đã dùng bản gợi ý" in texts(replies)
    replies = await give_details(driver, ALICE, replies)
    replies = await driver.text(ALICE, verify_code(replies))
    assert "ngập" in texts(replies)  # the restored text is in the summary
    await driver.press(ALICE, "Gửi")
    (petition,) = petitions(chat_engine)
    assert petition.text.startswith("Đường") and "ngập" in petition.text


async def test_x4_a_repeated_update_creates_one_petition(
    driver: Driver, world: ChatWorld, chat_engine: Engine
) -> None:
    await opinion_until_summary(driver, ALICE)
    replies = await driver.press(ALICE, "Gửi")
    assert TRACKING_CODE.search(texts(replies))
    again = await driver.replay_last(ALICE)
    assert again == []
    assert len(petitions(chat_engine)) == 1


async def test_q2_a_contact_that_is_not_the_senders_is_refused(
    driver: Driver, world: ChatWorld
) -> None:
    if not shares_phone(driver):
        pytest.skip(f"{driver.name} cannot share a contact: tests/test_web_chat.py checks it")
    await driver.command(ALICE, "start", f"s{world.session_id}")
    replies = await driver.press(ALICE, "Đăng ký dự")
    replies = await driver.press(ALICE, "Tôi đồng ý")
    replies = await driver.text(ALICE, "Nguyễn Văn An")
    replies = await driver.contact(ALICE, "+84987654321", owner=BOB)
    assert "không phải số điện thoại của chính" in texts(replies)
    replies = await driver.text(ALICE, "12345")
    assert "chưa phải số điện thoại Việt Nam hợp lệ" in texts(replies)
    replies = await driver.contact(ALICE, "+84912345678", owner=ALICE)
    assert "Đã ghi số điện thoại" in texts(replies)


async def test_c3_another_residents_tracking_code_is_not_found(
    driver: Driver, world: ChatWorld
) -> None:
    await opinion_until_summary(driver, ALICE)
    code = TRACKING_CODE.search(texts(await driver.press(ALICE, "Gửi")))
    assert code is not None
    someone_elses = await driver.command(BOB, "tracuu", code.group(0))
    unknown = await driver.command(BOB, "tracuu", "KN-2345-6789")
    assert "Không tìm thấy" in texts(someone_elses)
    assert texts(someone_elses).replace(code.group(0), "X") == texts(unknown).replace(
        "KN-2345-6789", "X"
    )
    for _ in range(3):
        await driver.command(BOB, "tracuu", "KN-2345-6789")
    slowed = await driver.command(BOB, "tracuu", code.group(0))
    assert "thử lại sau" in texts(slowed)
    mine = await driver.command(ALICE, "tracuu")
    assert find_button(mine, code.group(0))


async def test_x4_huy_stops_and_keeps_the_draft(driver: Driver, world: ChatWorld) -> None:
    await driver.command(ALICE, "gopy")
    await driver.press(ALICE, "Không gắn với buổi đối thoại")
    await driver.press(ALICE, "Góp ý")
    await driver.press(ALICE, "Môi trường")
    await driver.text(ALICE, STRIPPED)
    stopped = await driver.command(ALICE, "huy")
    assert "vẫn được giữ lại" in texts(stopped)
    back = await driver.command(ALICE, "gopy")
    assert "đang soạn dở" in texts(back) and "Duong Le Loi" in texts(back)
    resumed = await driver.press(ALICE, "Tiếp tục ý kiến đang soạn")
    assert "Bản gợi ý có dấu" in texts(resumed)


async def test_input_that_is_not_an_answer_gets_a_clear_message(
    driver: Driver, world: ChatWorld
) -> None:
    await driver.command(ALICE, "gopy")
    replies = await driver.text(ALICE, "xin chào")
    assert "bấm một trong các nút" in texts(replies)
    replies = await driver.text(ALICE, "😀😀")
    assert "biểu tượng cảm xúc" in texts(replies)
    replies = await driver.command(ALICE, "khongco")
    assert "Không có lệnh này" in texts(replies)
    replies = await driver.command(ALICE, "trogiup")
    assert "/tracuu" in texts(replies) and "vẫn đang gửi ý kiến" in texts(replies)
    replies = await driver.command(ALICE, "dangky")
    assert "đang gửi ý kiến dở" in texts(replies)
    await driver.press(ALICE, "Không gắn với buổi đối thoại")
    await driver.press(ALICE, "Câu hỏi")
    replies = await driver.press(ALICE, "dân vận")
    assert "Xin gõ nội dung" in texts(replies)
    replies = await driver.text(ALICE, "Hỏi gì")
    assert "hơi ngắn" in texts(replies)  # under three syllables: asked, not refused
    replies = await driver.press(ALICE, "Tự gõ lại")
    replies = await driver.text(ALICE, "What is the schedule of the next dialogue session please?")
    assert "chưa phải tiếng Việt" in texts(replies)


async def test_c2_photos_are_kept_with_the_opinion(
    driver: Driver, world: ChatWorld, chat_engine: Engine
) -> None:
    await driver.command(ALICE, "gopy")
    await driver.press(ALICE, "Không gắn với buổi đối thoại")
    await driver.press(ALICE, "Kiến nghị")
    await driver.press(ALICE, "Giao thông")
    replies = await driver.photo(ALICE)
    assert "Đã nhận ảnh" in texts(replies)
    replies = await driver.text(ALICE, ACCENTED)
    replies = await give_details(driver, ALICE, replies)
    replies = await driver.text(ALICE, verify_code(replies))
    assert "Tệp đính kèm: 1" in texts(replies)
    await driver.press(ALICE, "Gửi")
    with UnitOfWork(chat_engine) as uow:
        (attachment,) = uow.session.exec(select(Attachment)).all()
        assert attachment.kind == "photo" and attachment.file_ref


async def test_c2_a_long_petition_in_several_messages_is_joined(
    driver: Driver, world: ChatWorld, chat_engine: Engine
) -> None:
    await driver.command(ALICE, "gopy")
    await driver.press(ALICE, "Không gắn với buổi đối thoại")
    await driver.press(ALICE, "Kiến nghị")
    await driver.press(ALICE, "Giao thông")
    # Telegram splits a long message at 4,096 characters: the bot waits for the next part.
    first = (ACCENTED + " ") * 40
    first = first[: 4000 - 1] + "."
    replies = await driver.text(ALICE, first)
    assert "Đã nhận phần 1" in texts(replies)
    replies = await driver.text(ALICE, "Phần cuối: xin cảm ơn phường đã lắng nghe ý kiến.")
    replies = await give_details(driver, ALICE, replies)
    replies = await driver.text(ALICE, verify_code(replies))
    assert "Phần cuối" in texts(replies)
    await driver.press(ALICE, "Gửi")
    (petition,) = petitions(chat_engine)
    assert petition.text.startswith(first[:50]) and petition.text.endswith("ý kiến.")
    assert len(petition.text) > 4000


async def test_c2_too_long_says_the_limit_and_keeps_what_was_sent(
    driver: Driver, world: ChatWorld
) -> None:
    await driver.command(ALICE, "gopy")
    await driver.press(ALICE, "Không gắn với buổi đối thoại")
    await driver.press(ALICE, "Góp ý")
    await driver.press(ALICE, "Môi trường")
    part = ((ACCENTED + " ") * 40)[:3990]
    for _ in range(6):  # the sixth part would pass 20,000 characters
        replies = await driver.text(ALICE, part)
    assert "20.000 ký tự" in texts(replies) and "phần trước vẫn được giữ" in texts(replies)
    replies = await driver.press(ALICE, "Xong")
    assert "Thông báo về dữ liệu cá nhân" in texts(replies)


async def test_q4_nfd_and_zero_width_text_is_accepted_and_stored_in_nfc(
    driver: Driver, world: ChatWorld, chat_engine: Engine
) -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", ACCENTED).replace(" ", " \u200b", 3)
    await driver.command(ALICE, "gopy")
    await driver.press(ALICE, "Không gắn với buổi đối thoại")
    await driver.press(ALICE, "Góp ý")
    await driver.press(ALICE, "Môi trường")
    replies = await driver.text(ALICE, decomposed)
    assert "Thông báo về dữ liệu cá nhân" in texts(replies)  # accepted (NFD)
    replies = await give_details(driver, ALICE, replies)
    await driver.text(ALICE, verify_code(replies))
    await driver.press(ALICE, "Gửi")
    (petition,) = petitions(chat_engine)
    assert petition.text == ACCENTED
