"""Q4 (issue 11, item 1): the fifth file of written resident sentences for the restoration model
(``nlp/data/resident_sentences_5.txt``, the north and north-central emphasis) is clean training
text: NFC, no line twice (also not twice once the diacritics are gone, which is what the model is
given), no line of any other data file (in particular of no held-out set), real current ward and
commune names of many provinces."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from nlp import build_restoration as build
from nlp.text import fold_tone_placement, strip_diacritics

DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"
FIFTH = DATA / "resident_sentences_5.txt"
#: The size the batch was written to reach.
MINIMUM = 2500
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


def _key(line: str) -> str:
    return fold_tone_placement(unicodedata.normalize("NFC", line.strip())).lower()


def test_q4_fifth_resident_batch_is_nfc_and_big_enough() -> None:
    text = FIFTH.read_text("utf-8")
    assert unicodedata.normalize("NFC", text) == text
    sentences = _sentences()
    assert len(sentences) >= MINIMUM
    assert all(line == line.strip() and "  " not in line for line in sentences)
    # Written with diacritics: the model learns the accented form.
    assert all(strip_diacritics(line) != line for line in sentences)


def test_q4_fifth_resident_batch_has_no_line_twice_even_without_diacritics() -> None:
    sentences = _sentences()
    keys = [_key(line) for line in sentences]
    assert len(set(keys)) == len(keys), [s for s in sentences if keys.count(_key(s)) > 1]
    typed = [strip_diacritics(key) for key in keys]
    assert len(set(typed)) == len(typed)


def test_q4_fifth_resident_batch_repeats_no_line_of_another_data_file() -> None:
    mine = {_key(line): number for number, line in enumerate(_sentences(), start=1)}
    clashes: set[int] = set()
    for path in sorted(DATA.glob("*.txt")):
        if path == FIFTH:
            continue
        for line in path.read_text("utf-8").splitlines():
            if line.strip() and not line.startswith("#") and _key(line) in mine:
                clashes.add(mine[_key(line)])
    # Only our own sentence numbers are shown: the held-out sets are not printed.
    assert not clashes, sorted(clashes)


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
