"""Q4: the fifth held-out set (``petitions_fresh_4.txt``) is new text the build never reads.

The set was written on 01/12/2026 by helper i11fresh4 while other helpers were improving the
model and writing training text, without reading any other sentence file and before any model
was evaluated on it.
These tests score nothing: they check that the file is well formed, that none of its lines is a
copy or a near copy of a line of another data file (so the model cannot have learnt it from
there), and that no module of the build names it. Failures show only line numbers of the new
file, never the other files' text.
"""

from __future__ import annotations

import ast
import fnmatch
import unicodedata
from pathlib import Path

from nlp import build_restoration as build
from nlp import gold
from nlp.text import fold_tone_placement, strip_diacritics
from tests.near_copies import near_copies

#: A line whose syllable set is this close (Jaccard) to a line of another data file is a near
#: copy.
NEAR_COPY = 0.8
#: At least this many distinct sentences.
MINIMUM = 480


def _typed(line: str) -> str:
    """A line as it compares when typed: lower case, without diacritics, spaces collapsed."""
    return " ".join(strip_diacritics(unicodedata.normalize("NFC", line)).lower().split())


def _numbered() -> list[tuple[int, str]]:
    """The sentences of the new file with their line numbers (comments and blanks left out)."""
    lines = gold.FRESH_4.read_text("utf-8").splitlines()
    return [
        (number, line.strip())
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.startswith("#")
    ]


def _other_lines() -> list[str]:
    return [
        line.strip()
        for path in sorted(gold.GOLD.parent.glob("*.txt"))
        if path != gold.FRESH_4
        for line in path.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_q4_the_fourth_fresh_held_out_set_is_nfc_written_with_diacritics_and_big_enough() -> None:
    text = gold.FRESH_4.read_text("utf-8")
    assert unicodedata.normalize("NFC", text) == text
    fresh = gold.fourth_fresh_held_out()
    assert len(fresh) >= MINIMUM
    assert len(set(fresh)) == len(fresh)
    assert all(line == line.strip() and "  " not in line for line in fresh)
    # Every sentence carries diacritics: the typed form is derived from it by code.
    assert all(strip_diacritics(line) != line for line in fresh)
    # Distinct even as typed without diacritics.
    typed = [_typed(line) for line in fresh]
    assert len(set(typed)) == len(typed)


def test_q4_the_fourth_fresh_held_out_set_is_new_text() -> None:
    others = _other_lines()
    typed_others = {_typed(line) for line in others}
    equal = [number for number, line in _numbered() if _typed(line) in typed_others]
    near = near_copies(_numbered(), others, NEAR_COPY)
    assert not equal, f"lines of {gold.FRESH_4.name} equal to a line of another file: {equal}"
    assert not near, f"lines of {gold.FRESH_4.name} near copies of another file's: {near}"


def test_q4_the_fourth_fresh_held_out_set_names_wards_of_every_province() -> None:
    from vietnam_provinces import Province, Ward

    text = " ".join(gold.fourth_fresh_held_out()).lower()
    text = fold_tone_placement(text)
    provinces = {province.code for province in Province.iter_all()}
    named = [
        ward
        for ward in Ward.iter_all()
        if fold_tone_placement(" ".join(ward.name.lower().split())) in text
    ]
    assert {ward.province_code for ward in named} == provinces
    assert len(named) >= 100


def test_q4_the_build_never_reads_the_fourth_fresh_set() -> None:
    """No module of nlp/ but gold.py names the file or its reader, and no pattern the build
    globs matches it: the table cannot be built from it (checked on the source, not by a
    rebuild)."""
    root = Path(gold.__file__).parent
    modules = [path for path in sorted(root.glob("*.py")) if path.name != "gold.py"]
    assert root / "build_restoration.py" in modules
    names = {"FRESH_4", "fourth_fresh_held_out"}
    for path in modules:
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert gold.FRESH_4.name not in node.value, path.name
                assert "fresh_4" not in node.value, path.name
                if "*" in node.value or "?" in node.value:
                    assert not fnmatch.fnmatch(gold.FRESH_4.name, node.value), path.name
            assert not (isinstance(node, ast.Attribute) and node.attr in names), path.name
            assert not (isinstance(node, ast.Name) and node.id in names), path.name
    # The build's own list of written data files does not hold it either.
    assert gold.FRESH_4.name not in build.WRITTEN
    assert not set(gold.fourth_fresh_held_out()) & set(gold.tuning())


def test_q4_the_fourth_fresh_set_near_copy_check_finds_a_near_copy_and_only_it() -> None:
    others = ["đèn đường hẻm năm bị hư", "nước ngập sâu"]
    lines = [
        (1, "đèn đường hẻm năm bị hư rồi"),  # 6 of 7 syllables shared: a near copy
        (2, "đèn đường hẻm bị tắt"),  # 4 of 7
        (3, "Nước ngập sâu!"),  # the same syllables
        (4, "12/3"),  # no syllable, and no other line without one
    ]
    assert near_copies(lines, others, NEAR_COPY) == [1, 3]
    assert near_copies(lines, [*others, "15"], NEAR_COPY) == [1, 3, 4]
