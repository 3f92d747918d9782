"""Q4 (issue 11, item 1): the seventh file of written resident sentences for the restoration
model (``nlp/data/resident_sentences_7.txt``: the north, the north-central region and the
northern mountains, and the word pairs the model still confuses) is clean training text: NFC, no
line twice (also not twice once the diacritics are gone, which is what the model is given), no
line or near copy of a line of any other data file (in particular of no held-out set), real
current ward and commune names of many provinces, mostly of the north."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from nlp import build_restoration as build
from nlp.text import fold_tone_placement, strip_diacritics
from tests.near_copies import near_copies

DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"
SEVENTH = DATA / "resident_sentences_7.txt"
#: The size the batch was written to reach.
MINIMUM = 4000
#: Current wards and communes named with their unit word ("xã Bát Tràng", "phường Lê Chân").
WARDS = 1000
#: Each province of the emphasis: at least this many of its wards and communes named.
PER_NORTHERN_PROVINCE = 25
#: A line whose syllable set is this close (Jaccard) to another file's line is a near copy (the
#: threshold the held-out sets are checked with in tests/test_nlp_restoration.py).
NEAR_COPY = 0.8
#: Provinces of the emphasis: most of the wards and communes named come from here.
NORTH = (
    "Hà Nội", "Hải Phòng", "Quảng Ninh", "Bắc Ninh", "Hưng Yên", "Ninh Bình", "Phú Thọ",
    "Thái Nguyên", "Tuyên Quang", "Lào Cai", "Lạng Sơn", "Cao Bằng", "Điện Biên", "Lai Châu",
    "Sơn La", "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Quảng Trị",
)


def _sentences() -> list[str]:
    return build._data_lines(SEVENTH.name)


def _key(line: str) -> str:
    return fold_tone_placement(unicodedata.normalize("NFC", line.strip())).lower()


def _other_lines() -> list[str]:
    return [
        line.strip()
        for path in sorted(DATA.glob("*.txt"))
        if path != SEVENTH
        for line in path.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_q4_seventh_resident_batch_is_nfc_and_big_enough() -> None:
    text = SEVENTH.read_text("utf-8")
    assert unicodedata.normalize("NFC", text) == text
    sentences = _sentences()
    assert len(sentences) >= MINIMUM
    assert all(line == line.strip() and "  " not in line for line in sentences)
    # Written with diacritics: the model learns the accented form.
    assert all(strip_diacritics(line) != line for line in sentences)


def test_q4_seventh_resident_batch_has_no_line_twice_even_without_diacritics() -> None:
    sentences = _sentences()
    keys = [_key(line) for line in sentences]
    assert len(set(keys)) == len(keys), [s for s in sentences if keys.count(_key(s)) > 1]
    typed = [strip_diacritics(key) for key in keys]
    assert len(set(typed)) == len(typed), [
        s for s in sentences if typed.count(strip_diacritics(_key(s))) > 1
    ]


def test_q4_seventh_resident_batch_repeats_no_line_of_another_data_file() -> None:
    mine = {_key(line): number for number, line in enumerate(_sentences(), start=1)}
    clashes = {mine[_key(line)] for line in _other_lines() if _key(line) in mine}
    # Only our own sentence numbers are shown: the held-out sets are not printed.
    assert not clashes, sorted(clashes)


def test_q4_seventh_resident_batch_has_no_near_copy_of_another_data_file() -> None:
    numbered = list(enumerate(_sentences(), start=1))
    # Both ways: none of our lines is close to another file's, and so no held-out line becomes
    # a near copy of a tuning line through this file.
    assert near_copies(numbered, _other_lines(), NEAR_COPY) == []


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


def test_q4_the_build_reads_the_seventh_resident_batch() -> None:
    if SEVENTH.name not in build.WRITTEN:
        pytest.skip("the build lists its sources in WRITTEN; the batch is added there on merge")
    assert set(_sentences()) <= set(build.written_sentences())
