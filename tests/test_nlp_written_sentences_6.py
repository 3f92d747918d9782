"""Q4 (issue 11, item 1): the sixth file of written resident sentences for the restoration model
(``nlp/data/resident_sentences_6.txt``, the south, the centre and the Central Highlands) is clean
training text: NFC, no line twice (also not twice once the diacritics are gone, which is what the
model is given), no line and no near copy of a line of any other data file (in particular of no
held-out set), real current ward and commune names of many provinces, mostly of its emphasis.
The checks every written file shares are in ``tests/test_nlp_written_files.py``; here,
the wards and provinces of this file's emphasis."""

from __future__ import annotations

from pathlib import Path

from nlp import build_restoration as build

DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"
SIXTH = DATA / "resident_sentences_6.txt"
#: Current wards and communes named ("phường Bến Thành", "xã Ea Kar", ...).
WARDS = 800
#: Provinces of the emphasis: most of the wards and communes named come from here.
SOUTH_AND_CENTRE = (
    "Hồ Chí Minh", "Đồng Nai", "Tây Ninh", "Cần Thơ", "An Giang", "Cà Mau", "Vĩnh Long",
    "Đồng Tháp", "Huế", "Đà Nẵng", "Quảng Ngãi", "Gia Lai", "Đắk Lắk", "Lâm Đồng", "Khánh Hòa",
)
#: Ward names where "Thành" and "Thạnh" must both appear, spelled as the package spells them.
THANH = ("phường bến thành", "xã trường thành", "xã thành thới", "phường bình thạnh")


def _sentences() -> list[str]:
    return build._data_lines(SIXTH.name)


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
