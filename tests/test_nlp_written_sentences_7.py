"""Q4 (issue 11, item 1): the seventh file of written resident sentences for the restoration
model (``nlp/data/resident_sentences_7.txt``: the north, the north-central region and the
northern mountains, and the word pairs the model still confuses) is clean training text: NFC, no
line twice (also not twice once the diacritics are gone, which is what the model is given), no
line or near copy of a line of any other data file (in particular of no held-out set), real
current ward and commune names of many provinces, mostly of the north.
The checks every written file shares are in ``tests/test_nlp_written_files.py``; here,
the wards and provinces of this file's emphasis."""

from __future__ import annotations

from pathlib import Path

from nlp import build_restoration as build

DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"
SEVENTH = DATA / "resident_sentences_7.txt"
#: Current wards and communes named with their unit word ("xã Bát Tràng", "phường Lê Chân").
WARDS = 1000
#: Each province of the emphasis: at least this many of its wards and communes named.
PER_NORTHERN_PROVINCE = 25
#: Provinces of the emphasis: most of the wards and communes named come from here.
NORTH = (
    "Hà Nội", "Hải Phòng", "Quảng Ninh", "Bắc Ninh", "Hưng Yên", "Ninh Bình", "Phú Thọ",
    "Thái Nguyên", "Tuyên Quang", "Lào Cai", "Lạng Sơn", "Cao Bằng", "Điện Biên", "Lai Châu",
    "Sơn La", "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Quảng Trị",
)


def _sentences() -> list[str]:
    return build._data_lines(SEVENTH.name)


def test_q4_seventh_resident_batch_names_wards_across_the_country_mostly_in_the_north() -> None:
    from vietnam_provinces import Province, Ward

    text = " ".join(_sentences()).lower()
    provinces = {province.code: province.name for province in Province.iter_all()}
    named = [ward for ward in Ward.iter_all() if " ".join(ward.name.lower().split()) in text]
    # Every one of the 34 provinces, and hundreds of current wards and communes.
    assert {ward.province_code for ward in named} == set(provinces)
    assert len(named) >= WARDS
    northern = [w for w in named if any(n in provinces[w.province_code] for n in NORTH)]
    assert len(northern) * 3 >= len(named) * 2
    for province in NORTH:
        here = [w for w in named if province in provinces[w.province_code]]
        assert len(here) >= PER_NORTHERN_PROVINCE, (province, len(here))
