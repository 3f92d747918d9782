"""Types (issue 12, item 7): mypy finds no error in the code it is configured for
(pyproject.toml: the packages, without the generated migrations).

It runs inside the suite, in a process of its own, so that its CPU overlaps the tests that wait
(rate limits, servers, a browser) instead of adding to the test command's length; any error it
reports fails the suite, and so CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_types_mypy_finds_no_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
