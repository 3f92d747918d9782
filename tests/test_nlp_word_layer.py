"""Q4: the loan syllables of today's ward names (Đắk, Lắk, Krông) and the word-level layer of
the restoration (known names, ``nlp.word_layer``)."""

from __future__ import annotations

from nlp import word_layer
from nlp.syllables import canonical, inventory, loan_syllables
from nlp.text import strip_diacritics


def test_q4_tay_nguyen_syllables_of_todays_ward_names_are_read_as_syllables() -> None:
    for word, syllable in (("Đắk", "đắk"), ("Lắk", "lắk"), ("Krông", "krông"), ("Đăk", "đăk")):
        assert canonical(word) == syllable
        assert syllable in loan_syllables()
        assert syllable in inventory().candidates(strip_diacritics(syllable))
    # Without its marks a loan is typed as a name of its own too (Xã Krong ...): both weighed.
    assert {"krông", "krong"} <= set(inventory().candidates("krong"))
    # Words of one name only (Đal, SRó) and unmarked ones (Ea, Kon) are no syllables.
    for word in ("Đal", "SRó", "Ea", "Kon", "hello"):
        assert canonical(word) is None
    assert canonical("Hoà") == "hoà"


def test_q4_syllables_of_street_and_ward_names_are_candidates() -> None:
    assert "duẩn" in inventory().candidates("duan")  # Lê Duẩn
    assert "búk" not in loan_syllables()  # Krông Búk: one name only


def test_q4_the_name_layer_finds_known_names_typed_capitalised() -> None:
    found = word_layer.name_syllables(["o", "cho", "Ben", "Thanh", "va", "Dak", "Lak"])
    assert found == [set(), set(), {"bến"}, {"thành"}, set(), {"đắk"}, {"lắk"}]
    # Names spelt alike without marks: every reading is a candidate, the model decides.
    assert {"thanh", "thành", "thạnh"} <= word_layer.name_syllables(["Binh", "Thanh"])[1]
    # Lower case is no name; a number between breaks the name.
    assert word_layer.name_syllables(["ben", "thanh"]) == [set(), set()]
    assert word_layer.name_syllables(["Ben", None, "Thanh"]) == [set(), set(), set()]
    # A name written with a dash is two names; a word that is no syllable is matched as typed.
    assert word_layer.name_syllables(["Cam", "Ly"])[1] >= {"ly"}
    assert word_layer.name_syllables(["Dak", "Wil"]) == [{"đắk"}, set()]


def test_q4_the_person_layer_reads_surname_middle_and_given_names() -> None:
    found = word_layer.person_syllables(["ba", "Dang", "Van", "Phuc", "o", "Cau", "Giay"])
    assert found[:4] == [set(), {"đặng"}, {"văn"}, {"phúc"}]
    assert found[5:] == [set(), set()]  # Cầu is no surname: no person's name


def test_q4_the_shipped_table_restores_tay_nguyen_and_street_names() -> None:
    from nlp.diacritics import restore

    for typed, expected in (
        ("Toi o tinh Dak Lak", "Đắk Lắk"),
        ("Duong Le Duan bi ngap nuoc", "Lê Duẩn"),
        ("Cho Ben Thanh dong cua som", "Bến Thành"),
    ):
        restored = restore(typed)
        assert restored is not None and expected in restored.text
