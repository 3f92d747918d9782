"""Q4 (issue 11, item 1): the fifth file of written resident sentences for the restoration model
(``nlp/data/resident_sentences_5.txt``, the north and north-central emphasis) is clean training
text: NFC, no line twice (also not twice once the diacritics are gone, which is what the model is
given), no line of any other data file (in particular of no held-out set), real current ward and
commune names of many provinces.
The checks every written file shares are in ``tests/test_nlp_written_files.py``; here,
the wards and provinces of this file's emphasis."""

from __future__ import annotations

from pathlib import Path

from nlp import build_restoration as build

DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"
FIFTH = DATA / "resident_sentences_5.txt"
#: Current wards and communes named with their unit word ("xã Bát Tràng", "phường Cầu Giấy").
WARDS = 300
#: Provinces of the emphasis: most of their wards and communes named come from here.
NORTH = (
    "Hà Nội", "Hải Phòng", "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Ninh Bình", "Hưng Yên",
    "Bắc Ninh", "Quảng Ninh", "Phú Thọ", "Thái Nguyên", "Tuyên Quang", "Lào Cai", "Cao Bằng",
    "Lạng Sơn", "Điện Biên", "Lai Châu", "Sơn La",
)


def _sentences() -> list[str]:
    return build._data_lines(FIFTH.name)


def test_q4_fifth_resident_batch_names_wards_across_the_country_mostly_in_the_north() -> None:
    from vietnam_provinces import Province, Ward

    text = " ".join(_sentences()).lower()
    provinces = {province.code: province.name for province in Province.iter_all()}
    named = [ward for ward in Ward.iter_all() if " ".join(ward.name.lower().split()) in text]
    # Every one of the 34 provinces, and hundreds of current wards and communes.
    assert {ward.province_code for ward in named} == set(provinces)
    assert len(named) >= WARDS
    northern = [w for w in named if any(n in provinces[w.province_code] for n in NORTH)]
    assert len(northern) * 3 >= len(named) * 2
