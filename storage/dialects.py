"""A database's own ``INSERT`` (with ``ON CONFLICT``), its SQLAlchemy dialect imported when first
used."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any


@cache
def dialect_insert(dialect: str) -> Any:
    """``insert`` of ``sqlalchemy.dialects.<dialect>``: ``sqlite`` or ``postgresql``, the two
    databases the bot runs on, both with ``INSERT … ON CONFLICT``. Imported on first use, so a
    SQLite install never loads PostgreSQL's dialect (40-50 ms of a start)."""
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
