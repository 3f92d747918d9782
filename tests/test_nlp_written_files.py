"""Q4 (issue 11, item 1): the written resident sentences the restoration model learns from
(``nlp/data/resident_sentences_3.txt`` to ``_7.txt``) are clean training text: NFC, written with
diacritics, big enough, no line twice (also not twice once the diacritics are gone, which is what
the model is given), no line and no near copy of a line of any other data file (in particular of
no held-out set), and read by the build. Each file's own checks (the wards and provinces of its
emphasis) are in ``tests/test_nlp_written_sentences*.py``. Failures show only the file's own
line numbers or sentences, never a held-out set's text."""

from __future__ import annotations

import unicodedata

import pytest

from nlp import build_restoration as build
from nlp.text import fold_tone_placement, strip_diacritics
from tests.near_copies import DATA, lines_of_other_files, near_copies

#: A line whose syllable set is this close (Jaccard) to a line of another data file is a near
#: copy (the threshold the held-out sets are checked with).
NEAR_COPY = 0.8
#: Each file and the size its batch was written to reach.
FILES = [
    pytest.param("resident_sentences_3.txt", 2500, id="third"),
    pytest.param("resident_sentences_4.txt", 2500, id="fourth"),
    pytest.param("resident_sentences_5.txt", 2500, id="fifth"),
    pytest.param("resident_sentences_6.txt", 2500, id="sixth"),
    pytest.param("resident_sentences_7.txt", 4000, id="seventh"),
]


def sentences(name: str) -> list[str]:
    """The sentences of a written file, as the build reads them."""
    return build._data_lines(name)


def _key(line: str) -> str:
    return fold_tone_placement(unicodedata.normalize("NFC", line.strip())).lower()


@pytest.mark.parametrize(("name", "minimum"), FILES)
def test_q4_a_written_file_is_nfc_with_diacritics_and_big_enough(name: str, minimum: int) -> None:
    text = (DATA / name).read_text("utf-8")
    assert unicodedata.normalize("NFC", text) == text
    lines = sentences(name)
    assert len(lines) >= minimum
    assert all(line == line.strip() and "  " not in line for line in lines)
    # Written with diacritics: the model learns the accented form.
    assert all(strip_diacritics(line) != line for line in lines)


@pytest.mark.parametrize(("name", "minimum"), FILES)
def test_q4_a_written_file_has_no_line_twice_even_without_diacritics(
    name: str, minimum: int
) -> None:
    lines = sentences(name)
    keys = [_key(line) for line in lines]
    assert len(set(keys)) == len(keys), [s for s in lines if keys.count(_key(s)) > 1]
    typed = [strip_diacritics(key) for key in keys]
    assert len(set(typed)) == len(typed), [
        s for s in lines if typed.count(strip_diacritics(_key(s))) > 1
    ]


@pytest.mark.parametrize(("name", "minimum"), FILES)
def test_q4_a_written_file_repeats_no_line_of_another_data_file(name: str, minimum: int) -> None:
    mine = {_key(line): number for number, line in enumerate(sentences(name), start=1)}
    clashes = {mine[_key(line)] for line in lines_of_other_files(name) if _key(line) in mine}
    # Only the file's own sentence numbers are shown: the held-out sets are not printed.
    assert not clashes, sorted(clashes)


#: The files written under the near-copy rule (the third to fifth share close lines with each
#: other, which is harmless between training files; the held-out sets' own tests check that no
#: held-out line is close to any of them).
NEAR_COPY_RULE = ["resident_sentences_6.txt", "resident_sentences_7.txt"]


@pytest.mark.parametrize("name", NEAR_COPY_RULE)
def test_q4_a_written_file_has_no_near_copy_of_another_data_file(name: str) -> None:
    numbered = list(enumerate(sentences(name), start=1))
    # Both ways: none of its lines is close to another file's, and so no held-out line becomes
    # a near copy of a tuning line through this file.
    assert near_copies(numbered, lines_of_other_files(name), NEAR_COPY) == []


@pytest.mark.parametrize(("name", "minimum"), FILES)
def test_q4_the_build_reads_a_written_file(name: str, minimum: int) -> None:
    assert name in build.WRITTEN
    assert set(sentences(name)) <= set(build.written_sentences())
