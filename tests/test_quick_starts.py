"""Quick starts (issue 12): ``doithoai workdays …`` answers without loading the database
libraries, reading the administrators' days straight from the SQLite file (X1)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.calendar_file import read_calendar_overrides
from storage.urls import SQLITE_FILE_NAME, sqlite_file, sqlite_url

PROBE = """
import sys
from bot.cli import main
code = main(["workdays", "add", "2026-02-10", "10"])
heavy = sorted(m for m in ("sqlalchemy", "sqlmodel", "alembic", "aiohttp") if m in sys.modules)
print("loaded:", ",".join(heavy) or "none", "exit:", code)
"""


def _probe(data_dir: Path) -> str:
    env = {**os.environ, "DOITHOAI_DATA_DIR": str(data_dir), "PYTHONIOENCODING": "utf-8"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_x1_workdays_add_loads_no_database_library_and_creates_no_database(
    tmp_path: Path,
) -> None:
    out = _probe(tmp_path)
    assert "loaded: none exit: 0" in out
    assert out.startswith("2026-03-")  # Tết 2026 falls in the ten working days
    assert not (tmp_path / SQLITE_FILE_NAME).exists()


def test_x1_workdays_add_reads_the_days_administrators_added_without_sqlalchemy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    monkeypatch.setenv("DOITHOAI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    day = ["2026-12-24", "off", "--name", "Nghỉ bù", "--source", "Quyết định 12/QĐ-UBND"]
    assert main(["workdays", "override", "add", *day]) == 0
    path = sqlite_file(sqlite_url(tmp_path))
    assert path is not None
    rows = read_calendar_overrides(path)
    assert rows is not None and [(str(day), kind) for day, kind, _, _ in rows] == [
        ("2026-12-24", "off")
    ]
    # The same answer as the full path gives (tests/test_cli.py checks the CLI's output too).
    assert "loaded: none exit: 0" in _probe(tmp_path)


def test_c8_quick_read_gives_way_to_the_database_when_it_cannot_read_the_file(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.sqlite3"
    import sqlite3

    sqlite3.connect(empty).close()  # a file with no calendar table (not migrated yet)
    assert read_calendar_overrides(empty) is None
    assert read_calendar_overrides(tmp_path / "missing.sqlite3") == []
    assert sqlite_file("postgresql://u@h/db") is None
    assert sqlite_file("sqlite:///:memory:") is None


START_PROBE = """
import sys
from bot.app import chat_settings, web_application
from bot.channels.registry import configured_channels
from bot.config import Settings
from bot.database import open_database
from bot.runner import build_conversations
from handlers.channel import Incoming
from handlers.conversations import Conversations
from procedure.use_cases.context import ProcedureContext

settings = Settings.from_environ()
console = build_conversations(settings, console=True)
engine = open_database(settings)
channels = configured_channels(settings, engine, limiters={})
assert [channel.name for channel in channels] == ["web"], channels
web_application(channels)
conversations = Conversations(engine, ProcedureContext(), chat_settings(settings, channels))
for chat in (console, conversations):
    replies = chat.handle(Incoming(channel="web", user_id="u1", chat_id="c1", command="trogiup"))
    assert "/tracuu" in replies[0].text, replies
late = ("nlp.places", "nlp.similarity", "PIL", "underthesea", "docx", "openpyxl", "matplotlib",
        "icalendar", "sqlalchemy.dialects.postgresql", "holidays")
print("loaded:", ",".join(sorted(m for m in late if m in sys.modules)) or "none")
"""


def test_c7_c9_starting_the_bot_and_its_first_answer_load_no_late_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``doithoai run`` and ``doithoai chat`` answer their first message within 2 s (issue 12):
    the place table, the similarity index, Pillow (code pictures), underthesea, the report's
    Word/spreadsheet/chart libraries, icalendar, the holidays library (the working calendar)
    and, on SQLite, PostgreSQL's dialect are
    imported where first needed, not by a start (benchmarks/startup.py measures the start
    itself). The database is there already, as at every start but the first (the first runs
    the migrations: Alembic loads every dialect it knows)."""
    from bot.config import Settings
    from bot.database import open_database

    env = {**os.environ, "DOITHOAI_DATA_DIR": str(tmp_path), "PYTHONIOENCODING": "utf-8"}
    for name in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "ZALO_OA_ACCESS_TOKEN", "WEB_CHAT"):
        env.pop(name, None)
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOITHOAI_DATA_DIR", str(tmp_path))
    open_database(Settings.from_environ()).dispose()
    done = subprocess.run(
        [sys.executable, "-c", START_PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "loaded: none" in done.stdout


def test_c7_the_collector_paused_for_the_start_is_on_again_once_the_heap_is_settled() -> None:
    """``doithoai run`` starts with the garbage collector paused (bot/cli.py); a bot no one
    writes to settles its heap at the latest SETTLE_AT_THE_LATEST seconds after the start, and
    the collector is on again. After a first turn had it scheduled, the later call does not
    settle twice."""
    from bot import runner

    threshold = gc.get_threshold()
    gc.disable()
    try:
        runner.settle_heap_after_first_turn()
        runner.settle_heap_if_no_turn_yet()
        assert gc.isenabled()
        assert gc.get_threshold()[0] == runner.YOUNG_COLLECTION_AT

        gc.disable()
        runner.settle_heap_if_no_turn_yet()  # nothing waits: not settled again
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.set_threshold(*threshold)


def test_c7_every_table_is_a_table_whose_validator_is_built_only_if_used() -> None:
    """Each table class derives from storage.tables.base.Table (pydantic's ``defer_build``): a
    table added the usual way (``SQLModel, table=True``) would have its validator built at every
    start again. A table's validator still works when something asks for it."""
    from sqlmodel import SQLModel

    import storage.tables  # noqa: F401  (every table mapped)
    from storage.tables import CalendarOverride
    from storage.tables.base import Table

    mapped = [mapper.class_ for mapper in SQLModel._sa_registry.mappers]  # type: ignore[attr-defined]
    assert len(mapped) >= 34
    assert [cls.__name__ for cls in mapped if not issubclass(cls, Table)] == []
    day = CalendarOverride.model_validate(
        {"day": "2026-02-16", "kind": "off", "name": "Tết", "source": "QĐ", "added_by": "x"}
    )
    assert day.day.isoformat() == "2026-02-16"
