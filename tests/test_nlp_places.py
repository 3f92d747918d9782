"""B1: wards as residents type them, today's and before 1 July 2025, against the official
old-to-new table that ships in the underthesea wheel (read here straight from the JSON, so
the expectations do not go through our parser's index)."""

from __future__ import annotations

import json
from collections import defaultdict
from importlib.util import find_spec
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.places import fold, read_address

HCM = "Thành phố Hồ Chí Minh"


def _table() -> list[dict]:
    spec = find_spec("underthesea")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "address/data/mapping.json"
    return json.loads(path.read_text("utf-8"))["ward_mapping"]


def _compact(text: str) -> str:
    return "".join(fold(text).replace(",", " ").replace(".", " ").split())


def _hcm_old_wards() -> dict[tuple[str, str, str], set[str]]:
    """(old province, old district, old ward) -> today's wards, for everything that is now
    Ho Chi Minh City (the old city, Bình Dương and Bà Rịa - Vũng Tàu). A few records give the
    new ward only by its key ("xãthanhan"): it names one of the city's wards."""
    from vietnam_provinces import Ward

    city = {
        _compact(w.name): " ".join(w.name.split())
        for w in Ward.iter_all()
        if int(w.province_code) == 79
    }
    expected: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for record in _table():
        if record["new_province"] != HCM or not record["old_ward"]:
            continue
        key = (record["old_province"], record["old_district"], record["old_ward"])
        expected[key].add(city[_compact(record["new_ward"] or record["new_ward_key"])])
    return expected


HCM_OLD = _hcm_old_wards()


def test_b1_the_table_for_ho_chi_minh_city_is_complete() -> None:
    assert len(HCM_OLD) >= 400  # 273 wards of the old city, plus Bình Dương and Bà Rịa - Vũng Tàu
    assert HCM_OLD[(HCM, "Quận 1", "Phường Bến Nghé")] == {"Phường Sài Gòn"}
    assert HCM_OLD[(HCM, "Quận 3", "Phường 4")] == {"Phường Bàn Cờ", "Phường Xuân Hòa"}
    assert (HCM, "Quận 3", "Phường 7") not in HCM_OLD  # merged into Võ Thị Sáu in 2020


@pytest.mark.parametrize("style", ["official", "folded_no_commas"])
def test_b1_every_old_ward_of_ho_chi_minh_city_leads_to_exactly_its_new_wards(style: str) -> None:
    wrong: list[str] = []
    for (province, district, ward), new_wards in HCM_OLD.items():
        typed = f"{ward}, {district}, {province}"
        if style == "folded_no_commas":
            typed = fold(typed).replace(",", " ")
        reading = read_address(typed)
        got = {unit.name for unit in reading.wards}
        if reading.status != "old" or got != new_wards:
            wrong.append(f"{typed!r}: {reading.status} {sorted(got)} != {sorted(new_wards)}")
        if any(unit.province_code != 79 for unit in reading.wards):
            wrong.append(f"{typed!r}: outside the city")
    assert not wrong, f"{len(wrong)} of {len(HCM_OLD)}:\n" + "\n".join(wrong[:20])


def test_b1_every_old_ward_of_the_old_city_with_its_district_only() -> None:
    """Without the province, the district still decides (Quận 3 is not Quận 8)."""
    wrong = []
    for (province, district, ward), new_wards in HCM_OLD.items():
        if province != HCM:
            continue
        reading = read_address(f"{ward} {district}")
        if reading.status != "old" or {u.name for u in reading.wards} != new_wards:
            wrong.append(f"{ward}, {district}: {reading}")
    assert not wrong, "\n".join(wrong[:20])


CURRENT_SAI_GON = [
    "Phường Sài Gòn",
    "Phường Sài Gòn, Thành phố Hồ Chí Minh",
    "Phường Sài Gòn, TP.HCM",
    "phuong sai gon tphcm",
    "Sài Gòn, Tp Hồ Chí Minh",
    "P. Sài Gòn, TP. HCM",
    "phường sài gòn thành phố hồ chí minh",
    "PHUONG SAI GON, HCM",
    "sai gon",
    "Phuong Sai Gon, Thanh pho Ho Chi Minh",
    "Phường Sài Gòn, Tp.HCM",
    "Phường Sài Gòn - TP. Hồ Chí Minh",
    "P Sài Gòn",
]


@pytest.mark.parametrize("typed", CURRENT_SAI_GON)
def test_b1_a_current_ward_typed_many_ways(typed: str) -> None:
    reading = read_address(typed)
    assert reading.status == "current"
    assert [u.name for u in reading.wards] == ["Phường Sài Gòn"]


OLD_TYPED = [
    ("phuong ben nghe quan 1", {"Phường Sài Gòn"}),
    ("Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh", {"Phường Sài Gòn"}),
    ("P. Bến Nghé, Q.1, TPHCM", {"Phường Sài Gòn"}),
    ("Bến Nghé, Quận 1", {"Phường Sài Gòn"}),
    ("phuong ben nghe", {"Phường Sài Gòn"}),  # only one old district had it
    ("P.4, Q.3", {"Phường Bàn Cờ", "Phường Xuân Hòa"}),
    ("F4 Q3", {"Phường Bàn Cờ", "Phường Xuân Hòa"}),
    ("p4 q3 tp hcm", {"Phường Bàn Cờ", "Phường Xuân Hòa"}),
    ("Phường 04, Quận 03", {"Phường Bàn Cờ", "Phường Xuân Hòa"}),
    ("phường 7 quận 8", {"Phường Bình Đông", "Xã Bình Hưng"}),
    ("Phường Hiệp Phú, TP Thủ Đức", {"Phường Tăng Nhơn Phú"}),
    ("Phuong 14, Quan Binh Thanh", {"Phường Bình Thạnh"}),
    ("Phường Phú Lợi, Thủ Dầu Một, Bình Dương", {"Phường Phú Lợi"}),
    ("Phường Quán Thánh, Quận Ba Đình, Hà Nội", {"Phường Ba Đình"}),
    ("p ben nghe q1", {"Phường Sài Gòn"}),
    ("Bến Nghé Q.1", {"Phường Sài Gòn"}),
    ("phường bến nghé, quận 1, hcm", {"Phường Sài Gòn"}),
    ("F.7 Q.8", {"Phường Bình Đông", "Xã Bình Hưng"}),
    ("Phường 07, Q.08, TP HCM", {"Phường Bình Đông", "Xã Bình Hưng"}),
    ("X. Bình Hưng, H. Bình Chánh", {"Xã Bình Hưng"}),
    ("xa binh hung huyen binh chanh", {"Xã Bình Hưng"}),
    ("TT Củ Chi", {"Xã Tân An Hội"}),  # no "thị trấn" today: the old one, not Xã Củ Chi
    ("Phường Đa Kao quận 1", {"Phường Sài Gòn", "Phường Tân Định"}),  # divided between two
]


@pytest.mark.parametrize(("typed", "expected"), OLD_TYPED)
def test_b1_an_old_address_typed_many_ways(typed: str, expected: set[str]) -> None:
    reading = read_address(typed)
    assert reading.status == "old"
    assert {u.name for u in reading.wards} == expected


DISTRICT_8_NOW = {
    new
    for (province, district, _w), news in HCM_OLD.items()
    if district == "Quận 8"
    for new in news
}


@pytest.mark.parametrize(
    "typed", ["Phường 7, Quận 3", "P.7, Q.3", "F7 Q3", "phuong 7 quan 3 tphcm"]
)
def test_b1_a_ward_merged_away_before_2025_is_unknown_not_sent_to_another_district(
    typed: str,
) -> None:
    reading = read_address(typed)
    assert reading.status == "old_unknown"
    assert reading.wards == ()
    assert not DISTRICT_8_NOW & {u.name for u in reading.wards}


def test_b1_an_old_ward_without_its_district_is_ambiguous_when_several_districts_had_it() -> None:
    reading = read_address("Phường 7, TP.HCM")
    assert reading.status == "old_ambiguous"


def test_b1_namesakes_in_other_provinces_come_after_the_one_written_with_its_diacritics() -> None:
    reading = read_address("Xã Tân Thành")
    assert reading.status == "current" and len(reading.wards) > 1
    assert reading.wards[0].name == "Xã Tân Thành"
    narrowed = read_address("Xã Tân Thành, Tỉnh Lâm Đồng")
    assert [u.province_name for u in narrowed.wards] == ["Lâm Đồng"]


def test_b1_unknown_text_is_none() -> None:
    assert read_address("").status == "none"
    assert read_address("xin chào").status == "none"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_b1_reading_any_text_never_fails(text: str) -> None:
    reading = read_address(text)
    assert reading.status in {"current", "old", "old_unknown", "old_ambiguous", "none"}
