"""X5: one catalogue, Vietnamese in NFC, every key used in the code present, dates with weekdays."""

from __future__ import annotations

import ast
import re
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from texts import MissingText, catalogue, format_date, format_datetime, placeholders, t

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("bot", "handlers", "procedure", "storage", "nlp", "texts")
LITERAL_KEY = re.compile(
    r"""\b(?:t|Refusal|NotFound|NotAllowed|InvalidTransition)\(\s*"([a-z_.]+)\""""
)
FSTRING_KEY = re.compile(r"""\bt\(\s*f"([a-z_.]+)\{""")


def code_files() -> list[Path]:
    return [p for d in CODE_DIRS for p in (ROOT / d).rglob("*.py")]


def test_x5_every_key_used_in_code_is_in_the_catalogue() -> None:
    keys = catalogue()
    used = set()
    for path in code_files():
        text = path.read_text("utf-8")
        used |= set(LITERAL_KEY.findall(text))
        for prefix in FSTRING_KEY.findall(text):
            assert any(key.startswith(prefix) for key in keys), (path, prefix)
    missing = sorted(key for key in used if key not in keys)
    assert missing == []


def test_x5_catalogue_is_nfc_and_has_no_empty_entries() -> None:
    for key, value in catalogue().items():
        assert value.strip(), key
        assert unicodedata.normalize("NFC", value) == value, key
    for part in (ROOT / "texts").glob("vi*.toml"):
        raw = part.read_text("utf-8")
        assert unicodedata.normalize("NFC", raw) == raw, part


def test_x5_no_vietnamese_sentences_are_buried_in_logic() -> None:
    # A string literal with a Vietnamese letter is text for people: it belongs in the catalogue.
    # Docstrings and comments may quote Vietnamese words.
    vietnamese = re.compile(
        "[ăâđêôơưàáạảãằắặẳẵầấậẩẫèéẹẻẽềếệểễìíịỉĩòóọỏõồốộổỗờớợởỡùúụủũừứựửữỳýỵỷỹ]", re.IGNORECASE
    )
    offenders = []
    # nlp/ holds the letters and syllables of Vietnamese as data: that is its job.
    for path in (p for p in code_files() if p.parts[-2:][0] != "nlp" and "nlp" not in p.parts):
        tree = ast.parse(path.read_text("utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and vietnamese.search(node.value)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_x5_dates_show_the_weekday_and_times_are_in_ho_chi_minh_city() -> None:
    assert format_date(date(2026, 3, 16)) == "Thứ Hai, 16/03/2026"
    assert format_date(date(2026, 3, 15)) == "Chủ nhật, 15/03/2026"
    # 01:30 UTC is 08:30 in Asia/Ho_Chi_Minh.
    assert format_datetime(datetime(2026, 3, 16, 1, 30, tzinfo=UTC)) == "08:30, Thứ Hai, 16/03/2026"
    assert format_datetime(datetime(2026, 3, 15, 18, 0, tzinfo=UTC)) == "01:00, Thứ Hai, 16/03/2026"


def test_x5_placeholders_are_filled_and_unknown_keys_fail() -> None:
    assert placeholders("refusal.invitation_too_late") == {
        "days",
        "session_date",
        "latest",
        "earliest",
    }
    with pytest.raises(MissingText):
        t("no.such.key")
    with pytest.raises(KeyError):
        t("refusal.invitation_too_late", days=5)
