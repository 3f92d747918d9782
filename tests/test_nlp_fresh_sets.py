"""Q4: the third, fourth and fifth held-out sets (``petitions_fresh_2.txt``, ``_3``, ``_4``)
are new text the build never reads.

The third and fourth sets were written on 30/11/2026 and the fifth on 01/12/2026, each while
other helpers were improving the model and writing training text, without reading any other
sentence file and before any model was evaluated on it. These tests score nothing:
they check that each file is well formed, that none of its lines is a copy or a near copy of a
line of another data file (so the model cannot have learnt it from there), and that no module
of the build names it. Failures show only line numbers of the set, never the other files' text.
"""

from __future__ import annotations

import ast
import fnmatch
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from nlp import build_restoration as build
from nlp import gold
from nlp.text import fold_tone_placement, strip_diacritics
from tests.near_copies import lines_of_other_files, near_copies

#: A line whose syllable set is this close (Jaccard) to a line of another data file is a near
#: copy.
NEAR_COPY = 0.8


@dataclass(frozen=True)
class FreshSet:
    path: Path
    read: Callable[[], tuple[str, ...]]
    #: The names by which code could reach it (the path's constant and the reader).
    names: frozenset[str]
    #: What a string naming it would hold (besides the file name).
    stem: str
    #: At least this many distinct sentences.
    minimum: int


SETS = [
    pytest.param(
        FreshSet(
            gold.FRESH_2,
            gold.second_fresh_held_out,
            frozenset({"FRESH_2", "second_fresh_held_out"}),
            "fresh_2",
            300,
        ),
        id="third set (fresh_2)",
    ),
    pytest.param(
        FreshSet(
            gold.FRESH_3,
            gold.third_fresh_held_out,
            frozenset({"FRESH_3", "third_fresh_held_out"}),
            "fresh_3",
            400,
        ),
        id="fourth set (fresh_3)",
    ),
    pytest.param(
        FreshSet(
            gold.FRESH_4,
            gold.fourth_fresh_held_out,
            frozenset({"FRESH_4", "fourth_fresh_held_out"}),
            "fresh_4",
            480,
        ),
        id="fifth set (fresh_4)",
    ),
]


def _typed(line: str) -> str:
    """A line as it compares when typed: lower case, without diacritics, spaces collapsed."""
    return " ".join(strip_diacritics(unicodedata.normalize("NFC", line)).lower().split())


def _numbered(fresh: FreshSet) -> list[tuple[int, str]]:
    """The sentences of the set with their line numbers (comments and blanks left out)."""
    lines = fresh.path.read_text("utf-8").splitlines()
    return [
        (number, line.strip())
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.startswith("#")
    ]



@pytest.mark.parametrize("fresh", SETS)
def test_q4_a_fresh_held_out_set_is_nfc_written_with_diacritics_and_big_enough(
    fresh: FreshSet,
) -> None:
    text = fresh.path.read_text("utf-8")
    assert unicodedata.normalize("NFC", text) == text
    sentences = fresh.read()
    assert len(sentences) >= fresh.minimum
    assert len(set(sentences)) == len(sentences)
    assert all(line == line.strip() and "  " not in line for line in sentences)
    # Every sentence carries diacritics: the typed form is derived from it by code.
    assert all(strip_diacritics(line) != line for line in sentences)
    # Distinct even as typed without diacritics.
    typed = [_typed(line) for line in sentences]
    assert len(set(typed)) == len(typed)


@pytest.mark.parametrize("fresh", SETS)
def test_q4_a_fresh_held_out_set_is_new_text(fresh: FreshSet) -> None:
    others = lines_of_other_files(fresh.path.name)
    typed_others = {_typed(line) for line in others}
    numbered = _numbered(fresh)
    equal = [number for number, line in numbered if _typed(line) in typed_others]
    near = near_copies(numbered, others, NEAR_COPY)
    assert not equal, f"lines of {fresh.path.name} equal to a line of another file: {equal}"
    assert not near, f"lines of {fresh.path.name} near copies of another file's: {near}"


@pytest.mark.parametrize("fresh", SETS)
def test_q4_a_fresh_held_out_set_names_wards_of_every_province(fresh: FreshSet) -> None:
    from vietnam_provinces import Province, Ward

    text = fold_tone_placement(" ".join(fresh.read()).lower())
    provinces = {province.code for province in Province.iter_all()}
    named = [
        ward
        for ward in Ward.iter_all()
        if fold_tone_placement(" ".join(ward.name.lower().split())) in text
    ]
    assert {ward.province_code for ward in named} == provinces
    assert len(named) >= 100


@pytest.mark.parametrize("fresh", SETS)
def test_q4_the_build_never_reads_a_fresh_held_out_set(fresh: FreshSet) -> None:
    """No module of nlp/ but gold.py names the file or its reader, and no pattern the build
    globs matches it: the table cannot be built from it (checked on the source, not by a
    rebuild)."""
    root = Path(gold.__file__).parent
    modules = [path for path in sorted(root.glob("*.py")) if path.name != "gold.py"]
    assert root / "build_restoration.py" in modules
    for path in modules:
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert fresh.path.name not in node.value, path.name
                assert fresh.stem not in node.value, path.name
                if "*" in node.value or "?" in node.value:
                    assert not fnmatch.fnmatch(fresh.path.name, node.value), path.name
            assert not (isinstance(node, ast.Attribute) and node.attr in fresh.names), path.name
            assert not (isinstance(node, ast.Name) and node.id in fresh.names), path.name
    # The build's own list of written data files does not hold it either.
    assert fresh.path.name not in build.WRITTEN
    assert not set(fresh.read()) & set(gold.tuning())


def test_q4_the_near_copy_check_finds_a_near_copy_and_only_it() -> None:
    others = ["đèn đường hẻm năm bị hư", "nước ngập sâu"]
    lines = [
        (1, "đèn đường hẻm năm bị hư rồi"),  # 6 of 7 syllables shared: a near copy
        (2, "đèn đường hẻm bị tắt"),  # 4 of 7
        (3, "Nước ngập sâu!"),  # the same syllables
        (4, "12/3"),  # no syllable, and no other line without one
    ]
    assert near_copies(lines, others, NEAR_COPY) == [1, 3]
    assert near_copies(lines, [*others, "15"], NEAR_COPY) == [1, 3, 4]
