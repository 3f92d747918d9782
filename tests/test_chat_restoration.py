"""Q4 in the chat: a restored text is offered safely. Certain words only: one tap uses it;
uncertain words are underlined and confirmed one by one; below the confidence floor there is
no suggestion, only the explanation; the resident's text is kept all along (X4). Names typed
without diacritics get a suggestion too, and are stored in title case."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from handlers.conversations import Conversations
from handlers.turn import ChatSettings
from nlp.diacritics import restore
from procedure.use_cases.context import ProcedureContext
from storage.tables import Person
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, Reply, joined
from tests.chat_world import ChatWorld
from tests.procedure_world import Clock

ALICE = 7_000_000_001
CERTAIN = "xin hoi thu tuc cap giay phep xay dung"
UNCERTAIN = "Duong Le Loi bi ngap sau moi khi mua lon, de nghi phuong nao vet cong <hem 5> & ho."
BELOW_FLOOR = "ban ban ban ban ban ban ban ban ban ban"


@pytest.fixture
async def driver(
    chat_engine: Engine, clock: Clock, world: ChatWorld
) -> AsyncIterator[ConsoleDriver]:
    def make() -> Conversations:
        return Conversations(
            chat_engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )

    chosen = ConsoleDriver(make)
    try:
        yield chosen
    finally:
        await chosen.close()


def labels(replies: list[Reply]) -> list[str]:
    return [label for reply in replies for label, _ in reply.buttons]


async def typed_opinion(driver: ConsoleDriver, text: str) -> list[Reply]:
    await driver.command(ALICE, "gopy")
    await driver.press(ALICE, "Không gắn với buổi đối thoại")
    await driver.press(ALICE, "Kiến nghị")
    await driver.press(ALICE, "Giao thông")
    return await driver.text(ALICE, text)


def test_q4_the_chosen_texts_are_what_the_tests_below_need() -> None:
    certain, uncertain, low = restore(CERTAIN), restore(UNCERTAIN), restore(BELOW_FLOOR)
    assert certain is not None and certain.offered and not certain.uncertain, certain
    assert uncertain is not None and uncertain.offered and uncertain.uncertain, uncertain
    assert low is not None and not low.offered, low


async def test_q4_a_certain_suggestion_is_used_with_one_tap(driver: ConsoleDriver) -> None:
    replies = await typed_opinion(driver, CERTAIN)
    assert "Bản gợi ý có dấu" in joined(replies)
    assert "Xác nhận các chữ gạch dưới" not in labels(replies)
    replies = await driver.press(ALICE, "Dùng bản gợi ý")
    assert "Đã dùng bản gợi ý" in joined(replies)


async def test_q4_an_uncertain_suggestion_needs_its_words_confirmed(
    driver: ConsoleDriver,
) -> None:
    restored = restore(UNCERTAIN)
    assert restored is not None
    replies = await typed_opinion(driver, UNCERTAIN)
    html = replies[-1].html
    # No one-tap acceptance; the uncertain words are underlined; the resident's text is escaped.
    assert "Dùng bản gợi ý" not in labels(replies)
    assert "Xác nhận các chữ gạch dưới" in labels(replies)
    assert "&lt;hẻm 5&gt; &amp;" in html or "&lt;hem 5&gt; &amp;" in html
    for word in restored.uncertain:
        assert f"<u>{word.best}</u>" in html
    replies = await driver.press(ALICE, "Xác nhận các chữ gạch dưới")
    chosen: list[str] = []
    for number, word in enumerate(restored.uncertain, start=1):
        said = joined(replies)
        assert f"Chữ {number}/{len(restored.uncertain)}" in said, said
        assert labels(replies)[: len(word.alternatives)] == list(word.alternatives)
        # The last alternative each time: what the resident picks is what is used.
        pick = word.alternatives[-1]
        chosen.append(pick)
        replies = await driver.press(ALICE, pick) if len(word.alternatives) > 1 else replies
        if len(word.alternatives) == 1:
            replies = await driver.text(ALICE, pick)
    said = joined(replies)
    assert "Đã dùng bản có dấu Quý ông/bà đã xác nhận" in said
    for pick in chosen:
        assert pick in said


async def test_q4_a_word_can_be_typed_and_a_new_text_replaces_the_old(
    driver: ConsoleDriver,
) -> None:
    restored = restore(UNCERTAIN)
    assert restored is not None
    first = restored.uncertain[0]
    await typed_opinion(driver, UNCERTAIN)
    replies = await driver.press(ALICE, "Xác nhận các chữ gạch dưới")
    assert "muốn viết là chữ nào" in joined(replies)
    # A restart in the middle keeps the words to confirm (X4); one typed word is taken.
    await driver.restart()
    replies = await driver.text(ALICE, first.alternatives[-1])
    said = joined(replies)
    assert "muốn viết là chữ nào" in said or "Đã dùng bản có dấu" in said
    # Typing a whole sentence instead of one word: the new text is judged instead.
    replies = await driver.text(ALICE, "Đường Lê Lợi bị ngập sâu mỗi khi mưa lớn, đề nghị nạo vét.")
    assert "không dấu" not in joined(replies)


async def test_q4_below_the_floor_there_is_no_suggestion_and_the_text_is_kept(
    driver: ConsoleDriver, chat_engine: Engine
) -> None:
    replies = await typed_opinion(driver, BELOW_FLOOR)
    said = joined(replies)
    assert "không dấu" in said and "chưa đủ chắc" in said
    assert "Bản gợi ý có dấu" not in said
    assert labels(replies) == ["Tự gõ lại"]
    # The text is kept: stopped and started again, the draft is offered with its excerpt.
    await driver.command(ALICE, "huy")
    replies = await driver.command(ALICE, "gopy")
    assert "đang soạn dở" in joined(replies) and "ban ban ban" in joined(replies)


async def answer_until_name(driver: ConsoleDriver) -> list[Reply]:
    replies = await typed_opinion(driver, "Đèn đường trước nhà tôi bị hỏng đã một tuần nay.")
    if "Thông báo về dữ liệu cá nhân" in joined(replies):
        replies = await driver.press(ALICE, "Tôi đồng ý")
    assert "họ và tên" in joined(replies), joined(replies)
    return replies


def stored_name(engine: Engine) -> str | None:
    with UnitOfWork(engine) as uow:
        # In the order of creation: PostgreSQL returns rows in no set order (the world's staff
        # member came last in one run).
        people = uow.session.exec(select(Person).order_by(col(Person.id))).all()
        people = [p for p in people if p.full_name]
    return people[-1].full_name if people else None


async def test_q4_a_name_without_diacritics_gets_a_suggestion_in_title_case(
    driver: ConsoleDriver, chat_engine: Engine
) -> None:
    await answer_until_name(driver)
    replies = await driver.text(ALICE, "nguyen van an")
    assert "Nguyễn Văn An" in joined(replies)
    replies = await driver.press(ALICE, "Đúng, dùng tên này")
    assert "Đã ghi họ tên: Nguyễn Văn An" in joined(replies)
    assert stored_name(chat_engine) == "Nguyễn Văn An"


async def test_q4_an_uncertain_name_is_confirmed_word_by_word(
    driver: ConsoleDriver, chat_engine: Engine
) -> None:
    await answer_until_name(driver)
    replies = await driver.text(ALICE, "Nguyen Van Hung")
    assert "<u>" in replies[-1].html and "Đúng, dùng tên này" not in labels(replies)
    replies = await driver.press(ALICE, "Xác nhận các chữ gạch dưới")
    while "Đã ghi họ tên" not in joined(replies):
        assert "muốn viết là chữ nào" in joined(replies)
        options = labels(replies)
        replies = await driver.press(ALICE, "Hưng" if "Hưng" in options else options[0])
    assert stored_name(chat_engine) == "Nguyễn Văn Hưng"


async def test_q4_a_name_can_be_kept_as_typed_and_is_stored_in_title_case(
    driver: ConsoleDriver, chat_engine: Engine
) -> None:
    await answer_until_name(driver)
    replies = await driver.text(ALICE, "nguyen van an")
    assert "Giữ như đã gõ" in labels(replies)
    replies = await driver.press(ALICE, "Giữ như đã gõ")
    assert "Đã ghi họ tên: Nguyen Van An" in joined(replies)
    assert stored_name(chat_engine) == "Nguyen Van An"


async def test_q4_a_name_with_diacritics_is_stored_in_title_case(
    driver: ConsoleDriver, chat_engine: Engine
) -> None:
    await answer_until_name(driver)
    replies = await driver.text(ALICE, "NGUYỄN  văn   an")
    assert "Đã ghi họ tên: Nguyễn Văn An" in joined(replies)
    assert stored_name(chat_engine) == "Nguyễn Văn An"
