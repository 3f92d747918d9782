"""Database addresses, without importing SQLAlchemy (the CLI's quick commands read them)."""

from __future__ import annotations

from pathlib import Path

SQLITE_FILE_NAME = "doithoai.sqlite3"


def sqlite_url(data_dir: Path) -> str:
    """The default database: one SQLite file under the data directory."""
    return f"sqlite:///{(data_dir / SQLITE_FILE_NAME).resolve()}"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` go through psycopg 3, the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///…`` address; None for another database or an in-memory one."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url.removeprefix(prefix)
    return Path(path) if path and path != ":memory:" else None
