"""A turn's replies joined into as few messages as read well (handlers/joined_replies.py): an
acknowledgement above the next question, in one message; never into a picture or a file, never
a keyboard removed by the one and shown by the other, nor past Zalo's length."""

from __future__ import annotations

from handlers.channel import Button, Outgoing
from handlers.joined_replies import MAX_JOINED_CHARACTERS, join_text_replies

SAVED = Outgoing(text="Đã ghi họ tên: Nguyễn Văn An.")
QUESTION = Outgoing(text="Xin cho biết số điện thoại.", ask_contact="📱 Chia sẻ")
CHOICES = Outgoing(text="Xin chọn:", buttons=((Button("Một", "a"),),))


def test_c7_x5_an_acknowledgement_and_the_next_question_are_one_message() -> None:
    (joined,) = join_text_replies([SAVED, QUESTION])
    assert joined.text == f"{SAVED.text}\n\n{QUESTION.text}"
    assert joined.ask_contact == QUESTION.ask_contact
    (three,) = join_text_replies([SAVED, Outgoing(text="Cảm ơn."), CHOICES])
    assert three.text.split("\n\n") == [SAVED.text, "Cảm ơn.", CHOICES.text]
    assert three.buttons == CHOICES.buttons


def test_c7_x5_a_reply_with_buttons_keyboard_extra_or_file_is_not_joined_to_the_next() -> None:
    after = Outgoing(text="Quý ông/bà vẫn đang gửi ý kiến.")
    assert join_text_replies([CHOICES, after]) == [CHOICES, after]
    hinted = Outgoing(text="Đã đăng ký.", extra={"menu": "refresh"})
    assert join_text_replies([hinted, after]) == [hinted, after]
    picture = Outgoing(text="Mã kiểm tra", image=b"png")
    assert join_text_replies([SAVED, picture]) == [SAVED, picture]
    document = Outgoing(text="Báo cáo", document=("bao-cao.docx", b"x"))
    assert join_text_replies([SAVED, document]) == [SAVED, document]


def test_c7_x5_a_keyboard_removed_then_shown_again_stays_two_messages() -> None:
    removed = Outgoing(text="Đã ghi số điện thoại.", remove_keyboard=True)
    assert join_text_replies([removed, QUESTION]) == [removed, QUESTION]
    # Inline buttons too: Telegram sends one keyboard a message, the removal would be lost.
    assert join_text_replies([removed, CHOICES]) == [removed, CHOICES]
    area = Outgoing(text="Quý ông/bà cư trú ở phường, xã nào?")
    (joined,) = join_text_replies([removed, area])
    assert joined.remove_keyboard and joined.text.endswith(area.text)


def test_c7_x5_a_message_that_would_grow_too_long_is_not_joined() -> None:
    long = Outgoing(text="ý kiến " * (MAX_JOINED_CHARACTERS // 7))
    assert join_text_replies([long, QUESTION]) == [long, QUESTION]
    assert join_text_replies([Outgoing(text=""), QUESTION]) == [Outgoing(text=""), QUESTION]
