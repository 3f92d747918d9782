"""A greeting typed on its own is greeted back (nlp/greetings.py); a message that only starts
with one is a message."""

from __future__ import annotations

import pytest

from nlp.greetings import is_greeting


@pytest.mark.parametrize(
    "text",
    [
        "xin chào",
        "Xin chào!",
        "xin chao",
        "Chào anh ạ",
        "chao ban",
        "Chào buổi sáng",
        "chào cả nhà",
        "Alo",
        "alo alo",
        "hello ad",
        "Hi",
        "XIN CHÀO QUÝ VỊ",
        "Chào cán bộ phường",
        "chào bác ạ 🙏",
        "xinchao",
    ],
)
def test_x5_a_greeting_alone_is_a_greeting(text: str) -> None:
    assert is_greeting(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ạ",
        "anh ơi",  # no hello in it
        "chào, đèn đường hẻm 12 hỏng",
        "Xin chào, cho tôi hỏi lịch tiếp dân",
        "chào anh, nước ngập",
        "chào số 5",
        "xin phép",
        "Chào mừng ngày nhà giáo",  # "chào mừng": a celebration, said in a message
        "hi vọng sớm sửa",
    ],
)
def test_x5_a_message_that_only_starts_with_a_greeting_is_no_greeting(text: str) -> None:
    assert not is_greeting(text)
