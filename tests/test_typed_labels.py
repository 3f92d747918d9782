"""A button's label typed instead of pressed is that press, on every channel
(handlers/typed_labels.py): as written or as people type it, when it is one button's only (C2,
X5)."""

from __future__ import annotations

from dataclasses import replace

from handlers.channel import Button, Incoming, Outgoing
from handlers.typed_labels import MOST_KEPT, pressed, shown

TYPED = Incoming(channel="telegram", user_id="1", chat_id="1", text="")
REPLIES = [
    Outgoing(text="Chữ nào?", buttons=((Button("Bên", "w:1"), Button("Bền", "w:2")),)),
    Outgoing(
        text="Hoặc:",
        buttons=((Button("Bến", "w:3"),), (Button("✍️ Tự gõ lại cả câu", "w:again"),)),
    ),
]


def typed(text: str) -> Incoming:
    return replace(TYPED, text=text)


def test_c2_a_label_typed_as_written_or_as_people_type_it_is_its_press() -> None:
    kept = shown(REPLIES)
    assert kept == [
        ["Bên", "w:1"],
        ["Bền", "w:2"],
        ["Bến", "w:3"],
        ["✍️ Tự gõ lại cả câu", "w:again"],
    ]
    assert pressed(typed("Bến"), kept) == "w:3"
    assert pressed(typed("  bền "), kept) == "w:2"
    assert pressed(typed("Tự gõ lại cả câu!"), kept) == "w:again"
    assert pressed(typed("tu go lai ca cau"), kept) == "w:again"


def test_x5_a_text_several_labels_read_as_or_no_label_is_no_press() -> None:
    kept = shown(REPLIES)
    assert pressed(typed("ben"), kept) is None  # "Bên", "Bền" and "Bến" without diacritics
    assert pressed(typed("gõ lại"), kept) is None
    assert pressed(typed("Bến Thành"), kept) is None
    assert pressed(typed("😀"), kept) is None
    assert pressed(typed("Bến"), None) is None  # nothing kept
    assert pressed(typed("Bến"), "garbage") is None  # kept data of another version
    assert pressed(typed("Bến"), [["Bến"], "x"]) is None


def test_x5_a_press_a_command_or_a_file_is_what_it_is() -> None:
    kept = shown(REPLIES)
    assert pressed(replace(TYPED, text="Bến", button="w:1"), kept) is None
    assert pressed(replace(TYPED, text="Bến", command="gopy"), kept) is None
    assert pressed(replace(TYPED, text=None), kept) is None


def test_x5_a_turn_without_buttons_or_with_a_long_list_keeps_none() -> None:
    assert shown([Outgoing(text="Xin gõ nội dung")]) == []
    many = tuple((Button(f"Lựa chọn {n}", f"c:{n}"),) for n in range(MOST_KEPT + 1))
    assert shown([Outgoing(text="Chọn", buttons=many)]) == []


def test_c2_a_part_of_a_label_between_commas_is_its_press_when_it_is_one_labels() -> None:
    topics = Outgoing(
        text="Lĩnh vực?",
        buttons=(
            (Button("Giao thông, xây dựng, hạ tầng", "topic:gt"),),
            (Button("Đất đai, nhà ở", "topic:dd"),),
            (Button("Nhà ở, chung cư", "topic:nha"),),
        ),
    )
    kept = shown([topics])
    assert pressed(typed("giao thong"), kept) == "topic:gt"
    assert pressed(typed("Hạ tầng"), kept) == "topic:gt"
    assert pressed(typed("đất đai, nhà ở"), kept) == "topic:dd"
    assert pressed(typed("nhà ở"), kept) is None  # a part of two labels
    assert pressed(typed("giao"), kept) is None  # a word is not a part
