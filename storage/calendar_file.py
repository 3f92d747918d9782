"""The administrators' calendar days read straight from a SQLite file with the standard library:
``doithoai workdays …`` answers without loading SQLAlchemy or running migrations (issue 12)."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

CalendarRow = tuple[date, str, str, str]  # day, kind, name, source


def read_calendar_overrides(path: Path) -> list[CalendarRow] | None:
    """The rows of ``calendar_override`` in the SQLite file ``path``: none when the file does not
    exist (no database yet, so nothing was added); None when the file cannot be read this way
    (no such table yet: the caller opens the database the usual way, which migrates it)."""
    if not path.exists():
        return []
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        rows = connection.execute(
            "SELECT day, kind, name, source FROM calendar_override ORDER BY day"
        ).fetchall()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return [(date.fromisoformat(str(day)), kind, name, source) for day, kind, name, source in rows]
