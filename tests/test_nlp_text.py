"""Text as residents type it (X4: their wording is kept; Q4: checks see through encodings)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlp.orthography import Tone, canonical_syllable, parse, split_letter
from nlp.text import fold_tone_placement, normalise, strip_diacritics

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060"]


def test_x4_normalise_composes_nfd_and_keeps_the_wording() -> None:
    decomposed = unicodedata.normalize("NFD", "Tôi muốn hỏi về Đường Lê Lợi")  # NFD on purpose
    assert decomposed != "Tôi muốn hỏi về Đường Lê Lợi"
    assert normalise(decomposed) == "Tôi muốn hỏi về Đường Lê Lợi"
    assert normalise("Khoẻ, HOÀ bình!  ") == "Khoẻ, HOÀ bình!"


@pytest.mark.parametrize("invisible", ZERO_WIDTH)
def test_x4_normalise_strips_zero_width_characters(invisible: str) -> None:
    assert normalise(f"ng{invisible}ười{invisible} dân") == "người dân"


def test_x4_normalise_strips_controls_but_keeps_newlines_and_tabs() -> None:
    assert normalise("a\x00b\x07c\x1bd\x7fe") == "abcde"
    assert normalise("dòng 1\r\ndòng 2\rdòng 3\u2028dòng 4") == "dòng 1\ndòng 2\ndòng 3\ndòng 4"
    assert normalise("cột\tcột") == "cột\tcột"
    assert normalise("a\u202eb\u00adc") == "abc"  # bidi override, soft hyphen


def test_x4_normalise_collapses_runs_of_spaces() -> None:
    assert normalise("  một   hai\u00a0\u00a0ba \u3000 bốn  ") == "một hai ba bốn"
    assert normalise("dòng một   \n   dòng hai") == "dòng một\ndòng hai"


@given(st.text())
def test_x4_normalise_is_idempotent_and_leaves_no_invisible_character(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert unicodedata.is_normalized("NFC", once)
    for char in once:
        assert char in "\n\t" or unicodedata.category(char) not in {"Cc", "Cf"}
    assert "  " not in once


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hòa", "hoà"),
        ("thúy", "thuý"),
        ("khỏe", "khoẻ"),
        ("Hòa Bình", "Hoà Bình"),
        ("THỦY", "THUỶ"),
        ("ủy ban", "uỷ ban"),
        ("qúy", "quý"),
        ("gìa", "già"),
        ("đựơc", "được"),
        ("ngừơi", "người"),
        ("hoàng", "hoàng"),
        ("huỳnh", "huỳnh"),
        ("người", "người"),
        ("khuỷu", "khuỷu"),
        ("ngoèo", "ngoèo"),
    ],
)
def test_q4_fold_tone_placement_makes_both_styles_equal(old: str, new: str) -> None:
    assert fold_tone_placement(old) == new
    assert fold_tone_placement(new) == new


def test_q4_fold_tone_placement_reads_nfd_and_leaves_other_words_alone() -> None:
    nfd = unicodedata.normalize("NFD", "Thúy Hòa")  # NFD on purpose
    assert fold_tone_placement(nfd) == "Thuý Hoà"
    assert fold_tone_placement("café résumé 2024 e-mail") == "café résumé 2024 e-mail"


@given(st.text())
def test_q4_folding_is_idempotent_and_only_moves_marks(text: str) -> None:
    folded = fold_tone_placement(text)
    assert fold_tone_placement(folded) == folded
    assert strip_diacritics(folded) == strip_diacritics(text)


def test_q4_strip_diacritics_removes_every_mark() -> None:
    assert (
        strip_diacritics("Đường Nguyễn Thị Minh Khai, Quận 1")
        == "Duong Nguyen Thi Minh Khai, Quan 1"
    )
    nfd = unicodedata.normalize("NFD", "đề nghị sửa chữa")  # NFD on purpose
    assert strip_diacritics(nfd) == "de nghi sua chua"
    assert strip_diacritics("café") == "cafe"


def test_q4_syllable_structure() -> None:
    for word in ("nghiêng", "quyết", "gìn", "giữa", "khuỷu", "người", "oanh", "boong", "ạ"):
        assert parse(word) is not None, word
    for word in ("the", "can", "to", "me"):
        assert parse(word) is not None, word  # English words can be Vietnamese syllables too
    for word in (
        "string",
        "and",
        "this",
        "king",
        "ce",
        "ge",
        "nge",
        "ka",
        "gha",
        "tóá",
        "tàp",
        "hèt",
    ):
        assert parse(word) is None, word
    assert canonical_syllable("HÒA") == "hoà"
    assert split_letter("ế") == ("ê", Tone.ACUTE)
