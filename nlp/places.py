"""Wards and communes as residents type them, today's and the ones before 1 July 2025 (B1).

Today's units (34 provinces, 3,321 wards/communes) come from ``vietnam-provinces``; the
official old-to-new table (old province, old district, old ward -> new ward, with the wards
that were divided between several new ones) is the ``mapping.json`` that ships in the
underthesea wheel, read here with our own parser. underthesea's own matcher is not used: it
drops the district when it does not find the ward, and so sends "Phường 7, Quận 3" (merged away
in 2020) to Phường 7 of old District 8.

Reading an address:

- the text is folded (no diacritics, lower case) and the usual abbreviations are written out:
  ``P.7``/``F7``/``p7`` -> phường 7, ``Q.3``/``q3`` -> quận 3, ``TP.HCM``/``TPHCM`` ->
  thành phố Hồ Chí Minh, ``tx``/``tt``/``h.`` -> thị xã/thị trấn/huyện;
- it is cut into units at the words that name a level (phường, xã, thị trấn, đặc khu, quận,
  huyện, thị xã, thành phố, tỉnh) and at commas; a unit keyword right after another keyword
  belongs to the name (``Phường Quán Thánh``, ``Xã Xa Dung``);
- with an old district, the old table decides: the old ward goes to every current ward it
  went into; an old ward the table does not know in that district is *unknown* (never looked
  up in another district);
- without a district, a current ward of that name is taken first, then an old ward that only
  one old district had.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

from nlp.loading import built_once

Status = Literal["current", "old", "old_unknown", "old_ambiguous", "none"]

_WARD_WORDS = {"phuong": "phuong", "xa": "xa", "thi tran": "thi tran", "dac khu": "dac khu"}
_DISTRICT_WORDS = {"quan": "quan", "huyen": "huyen", "thi xa": "thi xa"}
_PROVINCE_WORDS = {"tinh": "tinh"}
_CITY = "thanh pho"  # a province (Hồ Chí Minh) or an old district-level city (Thủ Đức)
_TWO_WORD_KEYWORDS = ("thi tran", "dac khu", "thi xa", "thanh pho")

# Abbreviations, on folded text. Order matters: longer forms first.
_ABBREVIATIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\btp\s*\.?\s*hcm\b", " thanh pho ho chi minh "),
        (r"\bhcm\b", " ho chi minh "),
        (r"\btp\s*\.?\s*hn\b", " thanh pho ha noi "),
        (r"\btp\b\.?", " thanh pho "),
        (r"\btx\b\.?", " thi xa "),
        (r"\btt\b\.?", " thi tran "),
        (r"\b(?:p|f|ph)\s*\.?\s*(\d+)\b", r" phuong \1 "),
        (r"\bq\s*\.?\s*(\d+)\b", r" quan \1 "),
        (r"\bp\b\.?", " phuong "),
        (r"\bq\b\.?", " quan "),
        (r"\bh\b\.", " huyen "),
        (r"\bx\b\.", " xa "),
    )
)


def fold(text: str) -> str:
    """Lower case, no diacritics, đ as d, punctuation other than ``.`` and ``,`` as spaces."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9.,]+", " ", bare)


def _key(text: str) -> str:
    """A compact comparison key: folded, letters and digits only, numbers without leading 0."""
    words = re.sub(r"[^a-z0-9]+", " ", fold(text)).split()
    return "".join(word.lstrip("0") or "0" if word.isdigit() else word for word in words)


def _bare_key(name: str) -> str:
    """The key of a unit's name without its level word: "Phường Bến Nghé" -> "bennghe"."""
    folded = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(name)).split())
    for word in (*_TWO_WORD_KEYWORDS, "phuong", "xa", "quan", "huyen", "tinh"):
        if folded.startswith(word + " "):
            return _key(folded[len(word) + 1 :])
    return _key(folded)


@dataclass(frozen=True)
class Unit:
    """A current ward or commune: its official code and name, and its province."""

    code: int
    name: str
    province_code: int
    province_name: str


@dataclass(frozen=True)
class Reading:
    """What an address was understood as. ``wards`` are today's units, best first; ``old``
    names the old unit found (or not found) in the table, as "Phường 7, Quận 3"."""

    status: Status
    wards: tuple[Unit, ...] = ()
    old: str = ""


@dataclass
class _Segment:
    kind: str | None  # phuong/xa/.../quan/huyen/thi xa/thanh pho/tinh, or None
    words: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return _key(" ".join(self.words))


@dataclass(frozen=True)
class _OldWard:
    province_key: str  # current province bare key of the old province, e.g. "hochiminh"
    old_province_key: str
    district_kind: str
    district_key: str
    district: str
    ward_key: str
    ward: str
    new_wards: tuple[Unit, ...]


class Gazetteer:
    """Current units and the old-to-new table, indexed once."""

    def __init__(self, wards: list[Unit], table: dict) -> None:
        self.wards = wards
        self.current: dict[str, list[Unit]] = defaultdict(list)  # bare key -> units
        self.province_names: dict[str, str] = {}  # province bare key -> name
        self.province_codes: dict[str, int] = {}
        by_province_key: dict[tuple[int, str], Unit] = {}
        for unit in wards:
            self.current[_bare_key(unit.name)].append(unit)
            by_province_key[(unit.province_code, _key(unit.name))] = unit
            pkey = _bare_key(unit.province_name)
            self.province_names[pkey] = unit.province_name
            self.province_codes[pkey] = unit.province_code
        # Province aliases typed by residents: current and old names.
        self.province_alias: dict[str, str] = {key: key for key in self.province_names}
        old_to_new = table["province_mapping"]
        new_names = table["province_names"]
        for old_key, info in table["old_province_names"].items():
            new_info = new_names.get(old_to_new.get(old_key, ""), {})
            new_bare = _bare_key(new_info.get("name", ""))
            if new_bare in self.province_names:
                self.province_alias[_bare_key(info["name"])] = new_bare
        # The old table, grouped by old (province, district, ward).
        grouped: dict[tuple[str, str, str], list[tuple[bool, Unit]]] = defaultdict(list)
        labels: dict[tuple[str, str, str], tuple[str, str, str, str]] = {}
        for record in table["ward_mapping"]:
            new_province = _bare_key(record["new_province"])
            code = self.province_codes.get(new_province)
            if code is None:
                continue
            # A few records lack the new name; their key (with diacritics) still names it.
            new_key = _key(record["new_ward"] or record["new_ward_key"])
            new_unit = by_province_key.get((code, new_key))
            old_ward_name = record["old_ward"] or record["old_ward_key"]
            district_kind, district_key = _split_kind(record["old_district"])
            ident = (
                _bare_key(record["old_province"]),
                district_kind + ":" + district_key,
                _bare_key(old_ward_name),
            )
            if new_unit is None:
                continue
            grouped[ident].append((bool(record.get("is_default")), new_unit))
            labels[ident] = (new_province, district_kind, record["old_district"], old_ward_name)
        self.old: dict[str, list[_OldWard]] = defaultdict(list)  # old ward bare key -> entries
        for ident, units in grouped.items():
            new_province, district_kind, district, ward = labels[ident]
            ordered: list[Unit] = []
            for _default, unit in sorted(units, key=lambda pair: not pair[0]):
                if unit not in ordered:
                    ordered.append(unit)
            entry = _OldWard(
                province_key=new_province,
                old_province_key=ident[0],
                district_kind=district_kind,
                district_key=ident[1].split(":", 1)[1],
                district=district,
                ward_key=ident[2],
                ward=ward,
                new_wards=tuple(ordered),
            )
            self.old[entry.ward_key].append(entry)
        prefixes: set[str] = set()
        for name in [u.name for u in wards] + [e.ward for v in self.old.values() for e in v]:
            words = _words(name)
            if words and words[0] in ("phuong", "xa", "quan", "huyen", "tinh"):
                words = words[1:]
            elif len(words) > 1 and " ".join(words[:2]) in _TWO_WORD_KEYWORDS:
                words = words[2:]
            prefixes.update(" ".join(words[: i + 1]) for i in range(1, len(words)))
        self.name_prefixes = frozenset(prefixes)
        self.old_provinces = frozenset(e.old_province_key for v in self.old.values() for e in v)
        #: old district key -> its kinds ("3" -> quan), and (kind, key) -> today's wards it
        #: went into.
        self.old_districts: dict[str, set[str]] = defaultdict(set)
        self.district_wards: dict[tuple[str, str], set[Unit]] = defaultdict(set)
        for entries in self.old.values():
            for entry in entries:
                self.old_districts[entry.district_key].add(entry.district_kind)
                self.district_wards[(entry.district_kind, entry.district_key)].update(
                    entry.new_wards
                )

    # -- reading -------------------------------------------------------------------------

    def read(self, text: str) -> Reading:
        reading = self._read(text)
        if len(reading.wards) < 2:
            return reading
        # Best first: a unit written as typed (with its diacritics) before its namesakes.
        typed = unicodedata.normalize("NFC", text).lower()
        ranked = sorted(reading.wards, key=lambda u: u.name.lower().split(" ", 1)[-1] not in typed)
        return Reading(reading.status, tuple(ranked), reading.old)

    def _read(self, text: str) -> Reading:
        segments = _segments(text, self.name_prefixes)
        if not segments:
            return Reading("none")
        province = self._province(segments)
        ward_segment = next((s for s in segments if s.kind in _WARD_WORDS), None)
        if ward_segment is None and segments[0].kind is None:
            ward_segment = segments[0]
        districts = [
            s
            for s in segments
            if s is not ward_segment
            and (s.kind in _DISTRICT_WORDS or (s.kind == _CITY and not self._is_province(s)))
        ]
        if ward_segment is None or not ward_segment.key:
            return Reading("none")
        # An untyped unit after the ward may be an old district ("Bến Nghé, Bình Thạnh").
        if not districts:
            districts = [
                s
                for s in segments
                if s is not ward_segment and s.kind is None and not self._is_province(s)
            ]
        ward_key = ward_segment.key
        if districts:
            reading = self._read_old(ward_segment, districts[0], province)
            if reading is not None:
                return reading
        current = self._current(ward_key, province)
        # "Thị trấn Củ Chi" is no longer a unit: an old one of the kind typed comes first.
        if (
            current
            and ward_segment.kind is not None
            and not any(_kind_of(unit.name) == ward_segment.kind for unit in current)
        ):
            old = self._read_old_without_district(ward_segment, province)
            if old.status == "old":
                return old
        if current:
            return Reading("current", tuple(current))
        return self._read_old_without_district(ward_segment, province)

    def _read_old(self, ward: _Segment, district: _Segment, province: str | None) -> Reading | None:
        kind = district.kind if district.kind in _DISTRICT_WORDS or district.kind == _CITY else ""
        dkey = district.key
        same = [(k, dkey) for k in self.old_districts.get(dkey, ())]
        known = [(k, d) for (k, d) in same if k == kind] or (
            [] if dkey.isdigit() and kind else same
        )
        if not known:
            return None  # not an old district we know: read the rest without it
        entries = [
            e
            for e in self.old.get(ward.key, [])
            if (e.district_kind, e.district_key) in known
            and (province is None or province in (e.province_key, e.old_province_key))
        ]
        label = _label(ward, district)
        if not entries:
            # A current ward typed with the old district it took wards from is still today's.
            current = [
                unit
                for unit in self._current(ward.key, province)
                if any(unit in self.district_wards[district] for district in known)
            ]
            if current:
                return Reading("current", tuple(current))
            return Reading("old_unknown", (), label)
        if len({(e.old_province_key, e.district_kind, e.district_key) for e in entries}) > 1:
            return Reading("old_ambiguous", _union(entries), label)
        entry = entries[0]
        return Reading("old", entry.new_wards, f"{entry.ward}, {entry.district}")

    def _read_old_without_district(self, ward: _Segment, province: str | None) -> Reading:
        entries = [
            e
            for e in self.old.get(ward.key, [])
            if province is None or province in (e.province_key, e.old_province_key)
        ]
        if not entries:
            return Reading("none")
        places = {(e.old_province_key, e.district_kind, e.district_key) for e in entries}
        if len(places) == 1:
            entry = entries[0]
            return Reading("old", entry.new_wards, f"{entry.ward}, {entry.district}")
        return Reading("old_ambiguous", _union(entries), _label(ward, None))

    def _current(self, ward_key: str, province: str | None) -> list[Unit]:
        units = self.current.get(ward_key, [])
        if province is not None:
            wanted = self.province_alias.get(province, province)
            units = [u for u in units if _bare_key(u.province_name) == wanted]
        return list(units)

    def _is_province(self, segment: _Segment) -> bool:
        return segment.key in self.province_alias

    def _province(self, segments: list[_Segment]) -> str | None:
        for segment in reversed(segments):
            if segment.kind in (*_PROVINCE_WORDS, _CITY, None) and self._is_province(segment):
                alias = self.province_alias[segment.key]
                # The old province's key narrows the old table; remember both.
                return segment.key if segment.key in self.old_provinces else alias
        return None


def _union(entries: list[_OldWard]) -> tuple[Unit, ...]:
    units: list[Unit] = []
    for entry in entries:
        units.extend(u for u in entry.new_wards if u not in units)
    return tuple(units)


_KIND_NAMES = {
    "phuong": "Phường",
    "xa": "Xã",
    "thi tran": "Thị trấn",
    "dac khu": "Đặc khu",
    "quan": "Quận",
    "huyen": "Huyện",
    "thi xa": "Thị xã",
    "thanh pho": "Thành phố",
    "tinh": "Tỉnh",
}


def _label(ward: _Segment, district: _Segment | None) -> str:
    """An old unit as typed, for messages: "Phường 7, Quận 3" (names without diacritics)."""

    def show(segment: _Segment) -> str:
        words = " ".join(word.capitalize() for word in segment.words)
        return f"{_KIND_NAMES[segment.kind]} {words}" if segment.kind else words

    return show(ward) if district is None else f"{show(ward)}, {show(district)}"


def _kind_of(name: str) -> str | None:
    words = _words(name)
    pair = " ".join(words[:2])
    if pair in _TWO_WORD_KEYWORDS:
        return pair
    return words[0] if words and words[0] in (*_WARD_WORDS, *_DISTRICT_WORDS, "tinh") else None


def _words(name: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", fold(name)).split()


def _split_kind(district: str) -> tuple[str, str]:
    folded = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(district)).split())
    for word in (*_DISTRICT_WORDS, _CITY):
        if folded.startswith(word + " "):
            return word, _key(folded[len(word) + 1 :])
    return "", _key(folded)


def _segments(text: str, names: frozenset[str] = frozenset()) -> list[_Segment]:
    """Cut folded text into units; ``names`` are word-prefixes of known names, so that a level
    word inside a name ("Xã Phước Tỉnh", "Phường Quán Thánh") stays in it."""
    folded = fold(text)
    for pattern, replacement in _ABBREVIATIONS:
        folded = pattern.sub(replacement, folded)
    segments: list[_Segment] = []
    for part in folded.split(","):
        words = part.replace(".", " ").split()
        current: _Segment | None = None
        index = 0
        while index < len(words):
            pair = " ".join(words[index : index + 2])
            keyword = pair if pair in _TWO_WORD_KEYWORDS else words[index]
            is_keyword = keyword in {**_WARD_WORDS, **_DISTRICT_WORDS, **_PROVINCE_WORDS} or (
                keyword == _CITY
            )
            inside_name = (
                current is not None
                and bool(current.words)
                and " ".join([*current.words, *keyword.split()]) in names
            )
            if is_keyword and not inside_name and (current is None or current.words):
                current = _Segment(keyword)
                segments.append(current)
                index += len(keyword.split())
                continue
            if current is None:
                current = _Segment(None)
                segments.append(current)
            current.words.append(words[index])
            index += 1
    return [s for s in segments if s.words]


def _table_path() -> Path:
    spec = find_spec("underthesea")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        raise RuntimeError("underthesea (the old-to-new table) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "address" / "data" / "mapping.json"


@built_once
def gazetteer() -> Gazetteer:
    """The one gazetteer of this process (built on first use, about a third of a second)."""
    from vietnam_provinces import Province, Ward

    provinces = {int(p.code): p.name for p in Province.iter_all()}
    wards = [
        # A few names in the package have a double space ("Phường  An Nhơn").
        Unit(
            int(w.code),
            " ".join(w.name.split()),
            int(w.province_code),
            provinces[int(w.province_code)],
        )
        for w in Ward.iter_all()
    ]
    table = json.loads(_table_path().read_text("utf-8"))
    return Gazetteer(wards, table)


def read_address(text: str) -> Reading:
    """Today's ward(s) for what a resident typed: a current ward, or an old address."""
    return gazetteer().read(text)
