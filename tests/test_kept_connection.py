"""C8 (issue 12): the database thread keeps one SQLite connection for every turn's unit of work
(storage/unit_of_work.py ``keep_connection_on_this_thread``) instead of checking one out of the
pool and back in for each. The units of work on it commit and roll back as before, a unit
opened inside another one on the same thread does not share its transaction, and a unit on
another database returns the kept connection to its pool."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, func
from sqlmodel import select

from storage.conversation_store import claim_update
from storage.engine import make_engine, sqlite_url
from storage.migrate import upgrade_to_head
from storage.tables import ProcessedUpdate
from storage.unit_of_work import UnitOfWork, keep_connection_on_this_thread

T = TypeVar("T")


def _on_keeping_thread(work: Callable[[], T]) -> T:
    """``work()`` on a thread of its own that keeps its connection, as the database thread."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        keep_connection_on_this_thread()
        try:
            outcome.append(work())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


def _database(folder: Path) -> Engine:
    engine = make_engine(sqlite_url(folder))
    upgrade_to_head(engine)
    return engine


def _claimed(engine: Engine) -> list[str]:
    with UnitOfWork(engine) as uow:
        return sorted(uow.session.exec(select(ProcessedUpdate.update_id)).all())


def test_c8_a_keeping_thread_uses_one_connection_and_commits_or_rolls_back(
    tmp_path: Path,
) -> None:
    engine = _database(tmp_path)

    def work() -> tuple[list[object], int]:
        drivers: list[object] = []
        with UnitOfWork(engine, write=True) as uow:
            assert claim_update(uow, "telegram", "1")
            drivers.append(uow.session.connection().connection.driver_connection)
            uow.commit()
        with UnitOfWork(engine, write=True) as uow:  # not committed: rolled back
            assert claim_update(uow, "telegram", "2")
            drivers.append(uow.session.connection().connection.driver_connection)
        with UnitOfWork(engine, write=True) as uow:
            assert not claim_update(uow, "telegram", "1")  # committed above
            assert claim_update(uow, "telegram", "2")  # rolled back above
            drivers.append(uow.session.connection().connection.driver_connection)
            uow.commit()
        return drivers, engine.pool.checkedout()  # type: ignore[attr-defined]

    drivers, checked_out = _on_keeping_thread(work)
    assert drivers[0] is drivers[1] is drivers[2]
    assert checked_out == 1  # kept between the units of work
    assert _claimed(engine) == ["1", "2"]


def test_c8_a_unit_inside_another_on_a_keeping_thread_has_its_own_transaction(
    tmp_path: Path,
) -> None:
    engine = _database(tmp_path)

    def work() -> tuple[int, int]:
        with UnitOfWork(engine, write=True) as outer:
            assert claim_update(outer, "telegram", "1")
            with UnitOfWork(engine) as inner:  # another connection: the claim is not seen
                seen_inside = inner.session.exec(
                    select(func.count()).select_from(ProcessedUpdate)
                ).one()
            outer.commit()
        with UnitOfWork(engine) as after:  # the kept connection is used again, and sees it
            seen_after = after.session.exec(select(func.count()).select_from(ProcessedUpdate)).one()
        return seen_inside, seen_after

    assert _on_keeping_thread(work) == (0, 1)


def test_c8_a_unit_on_another_database_returns_the_kept_connection(tmp_path: Path) -> None:
    first = _database(tmp_path / "first")
    second = _database(tmp_path / "second")

    def work() -> tuple[int, int]:
        with UnitOfWork(first, write=True) as uow:
            claim_update(uow, "telegram", "1")
            uow.commit()
        with UnitOfWork(second, write=True) as uow:
            claim_update(uow, "telegram", "2")
            uow.commit()
        return first.pool.checkedout(), second.pool.checkedout()  # type: ignore[attr-defined]

    assert _on_keeping_thread(work) == (0, 1)
    assert _claimed(first) == ["1"]
    assert _claimed(second) == ["2"]
