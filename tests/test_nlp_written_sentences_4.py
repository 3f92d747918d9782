"""Q4 (issue 11, item 1): the fourth batch of resident sentences written for the restoration
model (``nlp/data/resident_sentences_4.txt``, the south and the centre, city life and the word
pairs the model still confuses) is clean training text: NFC, no line twice (also not twice once
the diacritics are gone, which is what the model is given), no line of any other data file (in
particular of no held-out set), real current ward names of every province.
The checks every written file shares are in ``tests/test_nlp_written_files.py``; here,
the wards and provinces of this file's emphasis."""

from __future__ import annotations

from pathlib import Path

from nlp import build_restoration as build

DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"
FOURTH = DATA / "resident_sentences_4.txt"
#: Current wards and communes named with their unit word ("phường Bàn Cờ", "xã Cần Giờ").
WARDS = 600
#: The south and the centre, which the batch is about: at least this many wards each.
FOCUS = {
    "Thành phố Hồ Chí Minh": 120,
    "Thành phố Cần Thơ": 30,
    "An Giang": 30,
    "Đồng Tháp": 25,
    "Vĩnh Long": 25,
    "Cà Mau": 20,
    "Tây Ninh": 25,
    "Đồng Nai": 25,
    "Lâm Đồng": 30,
    "Thành phố Đà Nẵng": 30,
    "Thành phố Huế": 25,
    "Quảng Ngãi": 25,
    "Gia Lai": 25,
    "Khánh Hòa": 15,
    "Đắk Lắk": 15,
    "Quảng Trị": 15,
}


def _sentences() -> list[str]:
    return build._data_lines(FOURTH.name)


def test_q4_fourth_resident_batch_names_wards_across_the_country() -> None:
    from vietnam_provinces import Province, Ward

    text = " ".join(_sentences()).lower()
    provinces = {province.code: province.name for province in Province.iter_all()}
    named = [ward for ward in Ward.iter_all() if " ".join(ward.name.lower().split()) in text]
    # Every one of the 34 provinces, and hundreds of current wards and communes.
    assert {ward.province_code for ward in named} == set(provinces)
    assert len(named) >= WARDS
    for province, least in FOCUS.items():
        here = [ward for ward in named if provinces[ward.province_code] == province]
        assert len(here) >= least, (province, len(here))
