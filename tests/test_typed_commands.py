"""What people type instead of a command (handlers/typed_commands.py): a menu button's words,
with or without diacritics and a few polite words around them, are its command; a tracking code
pasted on its own is looked up; anything more is a message (C2, C3, X5)."""

from __future__ import annotations

import pytest

from handlers.replies import main_menu
from handlers.typed_commands import typed_command
from nlp.text import strip_diacritics


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("góp ý", "gopy"),
        ("Gop y", "gopy"),
        ("tôi muốn góp ý ạ", "gopy"),
        ("gửi ý kiến", "gopy"),
        ("Kiến nghị", "gopy"),
        ("phan anh", "gopy"),
        ("Câu hỏi ạ", "gopy"),
        ("đăng ký", "dangky"),
        ("dang ki", "dangky"),
        ("Cho em đăng ký dự với!", "dangky"),
        ("tra cứu", "tracuu"),
        ("TRA CUU Y KIEN", "tracuu"),
        ("hướng dẫn", "trogiup"),
        ("tro giup", "trogiup"),
        ("buổi đối thoại", "phien"),
        ("xem lịch đối thoại", "phien"),
        ("Menu", "start"),
        ("hủy", "huy"),
        ("đổi phường", "khuvuc"),
        ("thông tin cá nhân", "dulieu"),
    ],
)
def test_c2_x5_a_commands_words_are_the_command(text: str, command: str) -> None:
    assert typed_command(text) == (command, "")


@pytest.mark.parametrize(
    "text",
    [
        "KN-7QH4-MX2C",
        "kn-7qh4-mx2c",
        "KN 7QH4 MX2C",
        "mã kn7qh4mx2c ạ",
        "Tra cứu KN-7QH4-MX2C",
        "ý kiến số KN-7QH4-MX2C của tôi",
    ],
)
def test_c3_x5_a_pasted_tracking_code_is_looked_up(text: str) -> None:
    assert typed_command(text) == ("tracuu", "KN-7QH4-MX2C")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "xin chào",
        "không góp ý",  # a word that turns the phrase around
        "chưa đăng ký",
        "góp ý về đèn đường hẻm 12 bị hỏng",  # says what the opinion is: a message
        "đăng ký 2 người",
        "đường Lê Lợi ngập nước sau mưa, xin phường xem giúp",
        "KN-7QH4-MX2C đã ba tháng chưa có trả lời, đề nghị phường giải quyết",
        "KN-0QH4-MX2C",  # 0 is not in the codes' alphabet
        "ý kiến của tôi về rác",
    ],
)
def test_x5_more_than_a_command_is_a_message(text: str) -> None:
    assert typed_command(text) is None


def test_c2_every_button_of_the_main_menu_typed_is_its_command() -> None:
    """Its label as shown (with its emoji), without the emoji, without diacritics, in capitals:
    the phrases keep up with texts/vi.toml's labels."""
    for row in main_menu():
        for button in row:
            command = button.data.removeprefix("cmd:")
            words = button.label.split(" ", 1)[1]  # the label after its emoji
            for typed in (button.label, words, strip_diacritics(words), words.upper()):
                assert typed_command(typed) == (command, ""), typed
