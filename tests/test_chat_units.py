"""Pieces of the chat that the contract suite does not show one by one: pushes produced through
the outbox (C3), the verification picture (Q3), Telegram updates read into one Incoming, HTML
split at Telegram's limits."""

from __future__ import annotations

from datetime import date

import pytest
from PIL import Image
from sqlmodel import select

from bot.telegram.text import CAPTION_LIMIT, MESSAGE_LIMIT, as_plain, split_html
from bot.telegram.updates import incoming_from_update
from handlers import verification
from handlers.notifications import render
from procedure.use_cases import follow_up, petitions, sessions
from procedure.use_cases.follow_up import AssignmentRequest
from storage.tables import OutboxMessage
from storage.unit_of_work import UnitOfWork
from tests.procedure_world import build_world
from tests.test_use_cases import held_with_petitions


def test_c3_every_change_of_a_petition_queues_a_push_for_its_petitioner(uow: UnitOfWork):
    world = build_world(uow)
    session_id, a, b, q = held_with_petitions(world, uow)
    world.clock.set("2026-03-20")
    follow_up.notify_conclusion(
        uow,
        world.office,
        session_id,
        "Kết luận.",
        [AssignmentRequest(a.id, world.agency)],
        world.context,
    )
    follow_up.extend_deadline(
        uow,
        world.agency_officer,
        a.tracking_code,
        date(2026, 5, 15),
        "Cần khảo sát <toàn tuyến> cống.",
        world.context,
    )
    follow_up.post_result(
        uow, world.agency_officer, a.tracking_code, "Đã nạo vét xong.", world.context
    )
    follow_up.answer_question(uow, world.office, q.tracking_code, "Sáng thứ Năm.", world.context)
    petitions.mark_duplicate(uow, world.office, b.id, q.id, world.context)  # type: ignore[arg-type]
    rows = [
        row
        for row in uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # type: ignore[arg-type]
        if row.kind.startswith("petition.")
    ]
    kinds = [(row.kind, row.person_id) for row in rows]
    assert kinds == [
        ("petition.forwarded", a.person_id),
        ("petition.extended", a.person_id),
        ("petition.answered", a.person_id),
        ("petition.answered_directly", q.person_id),
        ("petition.merged", b.person_id),
    ]
    forwarded = render(rows[0].kind, rows[0].data)
    assert "Phòng Kinh tế, Hạ tầng và Đô thị" in forwarded.text
    assert "Thứ Sáu, 17/04/2026" in forwarded.text  # 20 working days after Friday 20/03
    extended = render(rows[1].kind, rows[1].data)
    assert "Thứ Sáu, 15/05/2026" in extended.text
    assert "&lt;toàn tuyến&gt;" in extended.text  # user text escaped for HTML
    assert extended.buttons[0][0].data == f"track:{a.tracking_code}"
    answered = render(rows[2].kind, rows[2].data)
    assert "Đã nạo vét xong." in answered.text
    # The same change twice queues one message (idempotency key).
    from procedure.notifications import enqueue

    assert (
        enqueue(
            uow,
            person_id=a.person_id,
            kind="petition.answered",
            data={},
            key=rows[2].idempotency_key,
        )
        is None
    )


def test_c3_a_merged_petition_follows_the_answer_of_the_original(uow: UnitOfWork):
    world = build_world(uow)
    session_id, a, b, _ = held_with_petitions(world, uow)
    petitions.mark_duplicate(uow, world.office, b.id, a.id, world.context)  # type: ignore[arg-type]
    world.clock.set("2026-03-20")
    follow_up.notify_conclusion(
        uow,
        world.office,
        session_id,
        "Kết luận.",
        [AssignmentRequest(a.id, world.agency)],
        world.context,
    )
    follow_up.post_result(uow, world.agency_officer, a.tracking_code, "Kết quả.", world.context)
    answers = uow.session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == "petition.answered")
    ).all()
    assert {row.person_id for row in answers} == {a.person_id, b.person_id}
    assert sessions.get_session(uow, session_id).state == "concluded"


def test_q3_the_code_picture_is_a_readable_png_of_unambiguous_digits(tmp_path):
    code = verification.new_code()
    assert len(code) == 5 and set(code) <= set("23456789")
    picture = verification.render_png(code)
    path = tmp_path / "code.png"
    path.write_bytes(picture)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width >= 300 and image.height >= 100
    assert verification.matches(code, f" {code[:2]} {code[2:]} ")
    assert not verification.matches(code, "00000")


def update(message: dict, update_id: int = 10) -> dict:
    base = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": 2**40, "type": "private"},
        "from": {"id": 2**40, "is_bot": False, "first_name": "An"},
    }
    return {"update_id": update_id, "message": {**base, **message}}


def test_c7_telegram_updates_become_one_incoming():
    start = incoming_from_update(
        update(
            {"text": "/start s12", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}
        )
    )
    assert start is not None and start.command == "start" and start.payload == "s12"
    assert start.user_id == str(2**40) and start.chat_id == str(2**40)
    named = incoming_from_update(
        update(
            {
                "text": "/tracuu@DoiThoaiBot KN-1",
                "entities": [{"type": "bot_command", "offset": 0, "length": 19}],
            }
        )
    )
    assert named is not None and named.command == "tracuu" and named.payload == "KN-1"
    path = incoming_from_update(update({"text": "/home/an không phải lệnh", "entities": []}))
    assert path is not None and path.command is None and path.text == "/home/an không phải lệnh"
    contact = incoming_from_update(
        update({"contact": {"phone_number": "+84912345678", "first_name": "An", "user_id": 2**40}})
    )
    assert contact is not None and contact.contact is not None
    assert contact.contact.user_id == str(2**40)
    photo = incoming_from_update(
        update(
            {
                "caption": "Ảnh hố ga",
                "photo": [
                    {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                    {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960},
                ],
            }
        )
    )
    assert photo is not None and photo.attachment is not None
    assert photo.attachment.file_ref == "large" and photo.text == "Ảnh hố ga"
    sticker = incoming_from_update(update({"sticker": {"file_id": "x"}}))
    assert sticker is not None and sticker.sticker
    voice = incoming_from_update(update({"voice": {"file_id": "v"}}))
    assert voice is not None and voice.unsupported
    press = incoming_from_update(
        {
            "update_id": 11,
            "callback_query": {
                "id": "1",
                "from": {"id": 3, "is_bot": False, "first_name": "B"},
                "data": "cmd:gopy",
                "chat_instance": "c",
                "message": {
                    "message_id": 9,
                    "date": 0,
                    "chat": {"id": -1001234567890, "type": "supergroup"},
                },
            },
        }
    )
    assert press is not None and press.button == "cmd:gopy" and press.chat_id == "-1001234567890"
    assert incoming_from_update({"update_id": 12, "poll": {}}) is None


@pytest.mark.parametrize("limit", [MESSAGE_LIMIT, CAPTION_LIMIT])
def test_c7_long_html_is_split_within_telegrams_limits_with_tags_kept_valid(limit: int):
    text = "<b>Nội dung</b>\n<i>" + "Đường Lê Lợi &amp; hẻm 12 ngập nước. " * 800 + "</i>"
    pieces = split_html(text, limit)
    assert len(pieces) > 1 and all(len(piece) <= limit for piece in pieces)
    for piece in pieces:
        assert piece.count("<i>") == piece.count("</i>")
        assert "&am" not in piece.replace("&amp;", "")
    assert as_plain("".join(pieces)).replace(" ", "") == as_plain(text).replace(" ", "")
