"""Shared fixtures: a real database on SQLite and, where configured, on a real PostgreSQL."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from procedure.use_cases.administration import ensure_reference_data
from storage.engine import make_engine, sqlite_url
from storage.migrate import upgrade_to_head
from storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from tests.chat_world import ChatWorld
    from tests.procedure_world import Clock

POSTGRES_URL_VARIABLE = "DOITHOAI_TEST_POSTGRES_URL"

# CI explores the same examples every run (a red main must be reproducible); a developer's run
# explores new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def committer_in_procedure() -> str | None:
    """The procedure/ function on the stack of a commit, if any: use cases never commit (the
    conversation or the CLI command owns the one transaction)."""
    frame = sys._getframe(1)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if module == "procedure" or module.startswith("procedure."):
            return f"{module}.{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _forbid_commit_in_procedure(session: Session) -> None:
    committer = committer_in_procedure()
    if committer is not None:
        raise AssertionError(f"{committer} commits: the caller owns the transaction")


@pytest.fixture(autouse=True)
def use_cases_never_commit() -> Iterator[None]:
    """Every test fails if a use case (anything under procedure/) commits a session."""
    event.listen(Session, "before_commit", _forbid_commit_in_procedure)
    yield
    event.remove(Session, "before_commit", _forbid_commit_in_procedure)


def postgres_url() -> str | None:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url and os.environ.get("CI"):
        # In CI PostgreSQL is required: .ci/run starts it. Never let CI skip it quietly.
        raise RuntimeError(f"CI must set {POSTGRES_URL_VARIABLE} (see .ci/start-postgres)")
    return url or None


def reset_postgres(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind, with no table yet."""
    if request.param == "sqlite":
        engine = make_engine(sqlite_url(tmp_path))
    else:
        url = postgres_url()
        if url is None:
            pytest.skip(f"no PostgreSQL: set {POSTGRES_URL_VARIABLE} (CI does)")
        engine = make_engine(url)
        reset_postgres(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """A database at the head migration with its reference data."""
    upgrade_to_head(empty_engine)
    with UnitOfWork(empty_engine) as uow:
        ensure_reference_data(uow)
        uow.commit()
    return empty_engine


@pytest.fixture
def uow(engine: Engine) -> Iterator[UnitOfWork]:
    with UnitOfWork(engine) as unit:
        yield unit


def at(day: str, clock: str = "09:00") -> datetime:
    """A moment given in Ho Chi Minh City time, as an aware UTC datetime."""
    from texts import LOCAL_TIMEZONE

    local = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=LOCAL_TIMEZONE)
    return local.astimezone(UTC)


# --- the chat tests' world: a database of each kind with a ward and two announced sessions ---


@pytest.fixture
def chat_engine(engine: Engine) -> Engine:
    """The chat tests' database: SQLite, and PostgreSQL too where configured (CI)."""
    return engine


@pytest.fixture
def clock() -> Clock:
    from tests.procedure_world import Clock

    clock = Clock()
    clock.set("2026-03-02")
    return clock


@pytest.fixture
def world(chat_engine: Engine, clock: Clock) -> ChatWorld:
    from tests.chat_world import seed_chat_world

    return seed_chat_world(chat_engine, clock)
