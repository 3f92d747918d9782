"""Q4 (issue 11, item 1): the third batch of resident sentences written for the restoration
model (``nlp/data/resident_sentences_3.txt``) is clean training text: NFC, no line twice (also
not twice once the diacritics are gone, which is what the model is given), no line of any other
data file (in particular of no held-out set), real current ward names of many provinces, and it
is read by the build.
The checks every written file shares are in ``tests/test_nlp_written_files.py``; here,
the wards and provinces of this file's emphasis."""

from __future__ import annotations

from pathlib import Path

from nlp import build_restoration as build

DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"
THIRD = DATA / "resident_sentences_3.txt"
#: Current wards and communes named with their unit word ("xã Bát Tràng", "phường Cầu Giấy").
WARDS = 400


def _sentences() -> list[str]:
    return build._data_lines(THIRD.name)


def test_q4_third_resident_batch_names_wards_across_the_country() -> None:
    from vietnam_provinces import Province, Ward

    text = " ".join(_sentences()).lower()
    provinces = {province.code for province in Province.iter_all()}
    named = [ward for ward in Ward.iter_all() if " ".join(ward.name.lower().split()) in text]
    # Every one of the 34 provinces, and hundreds of current wards and communes.
    assert {ward.province_code for ward in named} == provinces
    assert len(named) >= WARDS
