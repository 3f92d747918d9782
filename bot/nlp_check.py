"""``doithoai nlp check``: the Q4 verdict of one line of text, as a JSON-ready dict.

The inventory and the restoration table are loaded once (on the first call) and kept for the
process, so a command streaming thousands of lines pays the load once.
"""

from __future__ import annotations

from typing import Any

from nlp import restoration, syllables
from nlp.diacritics import judge, restore


def warm_up() -> None:
    """Load the syllable inventory and the restoration table now (about two seconds)."""
    syllables.inventory()
    restoration.model()


def check_line(text: str) -> dict[str, Any]:
    """The verdict, whether the text is refused, the suggestion offered (None when there is
    none, or below the confidence floor) and its uncertain words (to be confirmed before the
    suggestion may be used)."""
    report = judge(text)
    suggestion: str | None = None
    uncertain: list[str] = []
    if report.refused:
        restored = restore(text)
        if restored is not None and restored.offered:
            suggestion = restored.text
            uncertain = [word.best for word in restored.uncertain]
    return {
        "verdict": report.verdict.value,
        "refused": report.refused,
        "suggestion": suggestion,
        "uncertain": uncertain,
    }
