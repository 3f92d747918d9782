"""Q4 (issue 11, item 1): the sixth file of written resident sentences for the restoration model
(``nlp/data/resident_sentences_6.txt``, the south, the centre and the Central Highlands) is clean
training text: NFC, no line twice (also not twice once the diacritics are gone, which is what the
model is given), no line and no near copy of a line of any other data file (in particular of no
held-out set), real current ward and commune names of many provinces, mostly of its emphasis."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from nlp import build_restoration as build
from nlp.text import fold_tone_placement, strip_diacritics
from tests.near_copies import near_copies

DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"
SIXTH = DATA / "resident_sentences_6.txt"
#: The size the batch was written to reach.
MINIMUM = 2500
#: Current wards and communes named ("phường Bến Thành", "xã Ea Kar", ...).
WARDS = 800
#: A line whose syllable set is this close (Jaccard) to a line of another data file is a near
#: copy (the threshold the held-out sets are checked with).
NEAR_COPY = 0.8
#: Provinces of the emphasis: most of the wards and communes named come from here.
SOUTH_AND_CENTRE = (
    "Hồ Chí Minh", "Đồng Nai", "Tây Ninh", "Cần Thơ", "An Giang", "Cà Mau", "Vĩnh Long",
    "Đồng Tháp", "Huế", "Đà Nẵng", "Quảng Ngãi", "Gia Lai", "Đắk Lắk", "Lâm Đồng", "Khánh Hòa",
)
#: Ward names where "Thành" and "Thạnh" must both appear, spelled as the package spells them.
THANH = ("phường bến thành", "xã trường thành", "xã thành thới", "phường bình thạnh")


def _sentences() -> list[str]:
    return build._data_lines(SIXTH.name)


def _key(line: str) -> str:
    return fold_tone_placement(unicodedata.normalize("NFC", line.strip())).lower()


def _other_lines() -> list[str]:
    return [
        line.strip()
        for path in sorted(DATA.glob("*.txt"))
        if path != SIXTH
        for line in path.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_q4_sixth_resident_batch_is_nfc_and_big_enough() -> None:
    text = SIXTH.read_text("utf-8")
    assert unicodedata.normalize("NFC", text) == text
    sentences = _sentences()
    assert len(sentences) >= MINIMUM
    assert all(line == line.strip() and "  " not in line for line in sentences)
    # Written with diacritics: the model learns the accented form.
    assert all(strip_diacritics(line) != line for line in sentences)


def test_q4_sixth_resident_batch_has_no_line_twice_even_without_diacritics() -> None:
    sentences = _sentences()
    keys = [_key(line) for line in sentences]
    assert len(set(keys)) == len(keys), [s for s in sentences if keys.count(_key(s)) > 1]
    typed = [strip_diacritics(key) for key in keys]
    twice = [s for s in sentences if typed.count(strip_diacritics(_key(s))) > 1]
    assert len(set(typed)) == len(typed), twice


def test_q4_sixth_resident_batch_repeats_no_line_of_another_data_file() -> None:
    mine = {strip_diacritics(_key(line)): n for n, line in enumerate(_sentences(), start=1)}
    # Compared as typed (no diacritics): the model is given that form.
    theirs = {strip_diacritics(_key(line)) for line in _other_lines()}
    clashes = {number for key, number in mine.items() if key in theirs}
    # Only our own sentence numbers are shown: the held-out sets are not printed.
    assert not clashes, sorted(clashes)


def test_q4_sixth_resident_batch_has_no_near_copy_of_another_data_file() -> None:
    numbered = list(enumerate(_sentences(), start=1))
    # Only our own sentence numbers are shown: the held-out sets are not printed.
    near = near_copies(numbered, _other_lines(), NEAR_COPY)
    assert not near, near


def test_q4_sixth_resident_batch_names_wards_across_the_country_mostly_south_and_centre() -> None:
    from vietnam_provinces import Province, Ward

    text = " ".join(_sentences()).lower()
    provinces = {province.code: province.name for province in Province.iter_all()}
    named = [ward for ward in Ward.iter_all() if " ".join(ward.name.lower().split()) in text]
    # Every province of the emphasis, and hundreds of current wards and communes.
    emphasis = {c for c, name in provinces.items() if any(s in name for s in SOUTH_AND_CENTRE)}
    assert emphasis <= {ward.province_code for ward in named}
    assert len(named) >= WARDS
    southern = [w for w in named if w.province_code in emphasis]
    assert len(southern) * 4 >= len(named) * 3
    # Thành and Thạnh, both as the package spells them.
    assert all(name in text for name in THANH)
