"""Shared fixtures: a real database on SQLite and, where configured, on a real PostgreSQL."""

from __future__ import annotations

import gc
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings
from sqlalchemy import Engine, event, make_url, text
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from bot.channels.telegram.aiogram_models import import_aiogram
from procedure.use_cases.administration import ensure_reference_data
from storage.engine import make_engine, normalise_url, sqlite_url
from storage.migrate import upgrade_to_head
from storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from nlp import restoration
    from tests.chat_world import ChatWorld
    from tests.procedure_world import Clock

POSTGRES_URL_VARIABLE = "DOITHOAI_TEST_POSTGRES_URL"

# aiogram as `doithoai run` imports it, its models built when first used
# (bot/channels/telegram/aiogram_models.py), before any test module imports it: every aiogram test
# runs on those models, and tests/test_aiogram_models.py builds the rest.
import_aiogram()

# CI explores the same examples every run (a red main must be reproducible); a developer's run
# explores new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


# -- the order of the tests on the pytest-xdist workers -------------------------------------------

# Seconds of the modules that take longest (setup, call and teardown of all their tests, summed
# by a hook in a whole run on this two-core machine, 1/12/2026, PostgreSQL and CI=true; only their
# ratios matter). A module not listed counts SECONDS_A_TEST a test (the mean of those not listed).
MODULE_SECONDS = {
    "test_chat_contract.py": 98,
    "test_telegram_delivery.py": 44,
    "test_nlp_restoration.py": 34,
    "test_outbox_sender.py": 34,
    "test_replies_through_outbox.py": 32,
    "test_several_workers.py": 24,
    "test_staff_chat.py": 23,
    "test_web_chat.py": 21,
    "test_web_browser.py": 21,
    "test_nlp_diacritics.py": 19,
    "test_telegram_adapters.py": 18,
    "test_zalo_web_replies_through_outbox.py": 18,
    "test_petition_place.py": 17,
    "test_procedure_end_to_end.py": 13,
    "test_every_input_answered.py": 12,
    "test_nlp_command.py": 12,
    "test_nlp_similarity.py": 10,
    "test_one_transaction.py": 8,
    "test_resolution.py": 8,
    "test_annual_report.py": 8,
    "test_chat_resolution.py": 7,
    "test_petition_photos.py": 7,
    "test_public_browser.py": 7,
    "test_use_cases.py": 6,
    "test_alerts.py": 6,
}
SECONDS_A_TEST = 0.06
# The modules whose tests mostly wait (a rate limit, a Retry-After, a lease, a server, a browser
# or a killed process: their worker used under a fifth of a core in that run). Handed out
# interleaved with the others, in proportion to the seconds of each kind, so that at any time
# about one of the three workers waits while two use the two cores. Handed out together (as
# "the longest first" alone did) they left the cores three-quarters idle for 20 seconds: the
# whole run took 184 s against 164 and 165 s interleaved (1/12/2026, PostgreSQL, CI=true).
WAITING = frozenset(
    {
        "test_telegram_delivery.py",
        "test_outbox_sender.py",
        "test_replies_through_outbox.py",
        "test_several_workers.py",
        "test_web_chat.py",
        "test_web_browser.py",
        "test_zalo_web_replies_through_outbox.py",
        "test_one_transaction.py",
        "test_public_browser.py",
    }
)
# Handed out before everything: mypy runs in a process of its own while the worker that started
# it waits, so its CPU overlaps the other workers' tests from the start.
FIRST = ("test_types.py",)

# The modules whose tests share a module-scoped fixture (a table or model built once): each of
# them goes whole to one worker. Every other test is handed out on its own (see
# pytest_xdist_make_scheduler), so a module that mostly waits (a rate limit, a server, a
# browser) no longer holds one worker for its whole length, and the workers finish together.
KEEP_TOGETHER = frozenset(
    {
        "test_nlp_diacritics.py",
        "test_nlp_grouping_split.py",
        "test_nlp_restoration.py",
        "test_nlp_similarity.py",
    }
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``--dist loadscope`` with a test as the unit of work, but for KEEP_TOGETHER's modules,
    handed out in the order of the collection (``--no-loadscope-reorder``; see
    pytest_collection_modifyitems)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class TestsApartModulesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if Path(module).name in KEEP_TOGETHER else nodeid

    return TestsApartModulesTogether(config, log)  # type: ignore[arg-type]


def _check_module_fixtures_kept_together(items: list[pytest.Item]) -> None:
    """A module that defines a module-scoped fixture must be in KEEP_TOGETHER: otherwise its
    tests, spread over the workers, would each build it again."""
    for item in items:
        fixture_info = getattr(item, "_fixtureinfo", None)
        if fixture_info is None or item.path.name in KEEP_TOGETHER:
            continue
        module = item.nodeid.split("::", 1)[0]
        for definitions in fixture_info.name2fixturedefs.values():
            for definition in definitions:
                if definition.scope in ("module", "class", "package") and str(
                    definition.baseid
                ).startswith(module):
                    raise pytest.UsageError(
                        f"{item.path.name} defines the {definition.scope}-scoped fixture "
                        f"{definition.argname}: add it to KEEP_TOGETHER in tests/conftest.py"
                    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest units of work first, so that the last ones handed out are short and no
    worker is left idle at the end: a module's tests are ordered by the mean seconds of a test
    of it (of the whole module for KEEP_TOGETHER's); the tests of a module keep their order.
    WAITING's tests and the others are two such queues, merged in proportion to their seconds."""
    _check_module_fixtures_kept_together(items)
    by_module: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_module.setdefault(item.path.name, []).append(item)

    def seconds_a_test(name: str) -> float:
        return MODULE_SECONDS.get(name, SECONDS_A_TEST * len(by_module[name])) / len(
            by_module[name]
        )

    def cost(name: str) -> float:
        whole = name in KEEP_TOGETHER
        return seconds_a_test(name) * (len(by_module[name]) if whole else 1)

    def queue(names: list[str]) -> list[tuple[float, list[pytest.Item]]]:
        """Units of work, longest first: a KEEP_TOGETHER module is one, any other test is one."""
        units: list[tuple[float, list[pytest.Item]]] = []
        for name in sorted(names, key=lambda name: (-cost(name), name)):
            if name in KEEP_TOGETHER:
                units.append((cost(name), by_module[name]))
            else:
                units.extend((seconds_a_test(name), [item]) for item in by_module[name])
        return units

    first = [item for name in FIRST for item in by_module.get(name, [])]
    rest = [name for name in by_module if name not in FIRST]
    waiting = queue([name for name in rest if name in WAITING])
    working = queue([name for name in rest if name not in WAITING])
    totals = (sum(s for s, _ in waiting) or 1.0, sum(s for s, _ in working) or 1.0)
    done = [0.0, 0.0]
    ordered = first
    while waiting or working:
        # The queue that has handed out the smaller share of its seconds goes next.
        kind = 0 if working == [] or (waiting and done[0] / totals[0] <= done[1] / totals[1]) else 1
        seconds, unit = (waiting if kind == 0 else working).pop(0)
        done[kind] += seconds
        ordered.extend(unit)
    items[:] = ordered


# After every test, what is still alive is moved out of the collector's sight (gc.freeze): a
# worker accumulates a million long-lived objects (the frameworks' classes, the restoration table,
# the gazetteer, the syllable inventory), and each full collection walked them all again, up to
# 0.3 s a time: a sixth of the chat contract's CPU. What the test left behind is collected first
# (only what the last freeze did not hold: a few milliseconds), so only what outlives it is
# frozen; the modules the collection imported are frozen before the first test.
@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[None]:
    """No collection while the test modules are imported (each full one walked the growing
    heap again: a second of a worker's collection), then the imports frozen."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
        gc.freeze()


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    yield
    gc.collect()
    gc.freeze()


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


@pytest.fixture(autouse=True)
def no_log_handler_outlives_its_test() -> Iterator[None]:
    """A command run in the process (``main(argv)``) installs the bot's log handler on the root
    logger, holding the stderr of that test's capture: it is taken off again afterwards, so the
    next test on the worker starts with the root logger as pytest left it."""
    import logging

    from bot.logs import configure_logging

    root = logging.getLogger()
    before, level = set(root.handlers), root.level
    yield
    installed = configure_logging.__module__
    for handler in list(root.handlers):
        if handler not in before and type(handler).__module__ == installed:
            root.removeHandler(handler)
    root.setLevel(level)


def postgres_url() -> str | None:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url and os.environ.get("CI"):
        # In CI PostgreSQL is required: .ci/run starts it. Never let CI skip it quietly.
        raise RuntimeError(f"CI must set {POSTGRES_URL_VARIABLE} (see .ci/start-postgres)")
    if url and os.environ.get("PYTEST_XDIST_WORKER"):
        return worker_database(url, os.environ["PYTEST_XDIST_WORKER"])
    return url or None


@cache
def worker_database(url: str, worker: str) -> str:
    """The database of one pytest-xdist worker (``<database>_gw0``, ``<database>_gw1``, …),
    created beside the configured one on first use: the tests of each worker drop and empty
    tables, so two workers never share a database."""
    base = make_url(normalise_url(url))
    name = f"{base.database}_{worker}"
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if found is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_postgres(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


def _bring_to_head(engine: Engine) -> None:
    """Every migration, then the reference data: what ``open_database`` does."""
    upgrade_to_head(engine)
    with UnitOfWork(engine) as uow:
        ensure_reference_data(uow)
        uow.commit()


@dataclass(frozen=True)
class _Snapshot:
    """Every row of every table of ours, and where each used sequence stands."""

    rows: tuple[tuple[str, tuple[dict[str, object], ...]], ...]
    sequences: tuple[tuple[str, int], ...]


class _PostgresAtHead:
    """Whether the test database's schema is at head from an earlier test of this session: the
    migrations run once, and each test after that starts from emptied tables filled again from
    a snapshot (much quicker than dropping and migrating again, and than adding the reference
    data, or seeding the chat tests' world, through the use cases for each test). A test of an
    empty database drops the schema."""

    ready = False
    #: The rows at head with the reference data (taken after the migrations).
    reference: _Snapshot | None = None
    #: The rows with the chat tests' world seeded (taken after the first seeding), and the
    #: world's ids.
    world: tuple[_Snapshot, ChatWorld] | None = None


@cache
def _deletion_order() -> tuple[str, ...]:
    """Every table of ours, children before parents (foreign keys)."""
    import storage.tables  # noqa: F401  (registers the tables on the metadata)

    return tuple(table.name for table in reversed(SQLModel.metadata.sorted_tables))


def _empty_tables(engine: Engine) -> None:
    """Every table but Alembic's emptied, identities restarted: a new database's state.

    DELETE, children first, rather than TRUNCATE: the tables of a test hold a few rows, and
    TRUNCATE of 33 tables costs about 0.25 s (a new file per table) against 0.04 s, for each of
    the hundreds of PostgreSQL tests. A table the metadata does not know (made by a test) is
    truncated."""
    with engine.begin() as connection:
        present = set(
            connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).scalars()
        )
        known = [name for name in _deletion_order() if name in present]
        unknown = sorted(present - set(known))
        if unknown:
            names = ", ".join(f'"{name}"' for name in unknown)
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        if known:
            connection.exec_driver_sql("; ".join(f'DELETE FROM "{name}"' for name in known))
        used = connection.execute(
            text(
                "SELECT format('%I.%I', schemaname, sequencename), start_value FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL"
            )
        ).all()
        if used:
            restarts = ", ".join(f"setval('{name}', {start}, false)" for name, start in used)
            connection.exec_driver_sql(f"SELECT {restarts}")


def _take_snapshot(engine: Engine) -> _Snapshot:
    """The rows of every table of ours and the sequences' positions, read back as the
    database holds them (the same values a test would read)."""
    import storage.tables  # noqa: F401  (registers the tables on the metadata)

    rows: list[tuple[str, tuple[dict[str, object], ...]]] = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            found = tuple(
                {column.key: row._mapping[column] for column in table.columns}
                for row in connection.execute(table.select())
            )
            if found:
                rows.append((table.name, found))
        sequences = connection.execute(
            text(
                "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL"
            )
        ).all()
    return _Snapshot(tuple(rows), tuple((str(name), int(value)) for name, value in sequences))


def _restore_snapshot(engine: Engine, snapshot: _Snapshot | None) -> None:
    """Empty every table, then put back a snapshot's rows (parents first) and sequences: the
    database as it was when the snapshot was taken."""
    assert snapshot is not None
    _empty_tables(engine)
    tables = SQLModel.metadata.tables
    with engine.begin() as connection:
        for name, rows in snapshot.rows:
            connection.execute(tables[name].insert(), list(rows))
        if snapshot.sequences:
            restarts = ", ".join(
                f"setval('{name}', {value}, true)" for name, value in snapshot.sequences
            )
            connection.exec_driver_sql(f"SELECT {restarts}")


def _seed_world_snapshot(engine: Engine) -> tuple[_Snapshot, ChatWorld]:
    """Seed the chat tests' world (at FIRST_DAY, as ``sqlite_world_template``) into a database
    at head with its reference data, and take its snapshot: the next tests of ``world`` on
    PostgreSQL start from it, the same rows, ids and sequences that seeding gave."""
    from tests.chat_world import seed_chat_world
    from tests.procedure_world import Clock

    clock = Clock()
    clock.set(FIRST_DAY)
    seeded = seed_chat_world(engine, clock)
    return _take_snapshot(engine), seeded


def _database_key(engine: Engine) -> str:
    """Which database an engine opens (a SQLite file, or a PostgreSQL database)."""
    return engine.url.render_as_string(hide_password=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file at head with its reference data, migrated once per session; each test
    gets a copy (migrating a new file for every test took most of the suite's time)."""
    directory = tmp_path_factory.mktemp("template-database")
    engine = make_engine(sqlite_url(directory))
    _bring_to_head(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    path = engine.url.database
    assert path is not None
    return Path(path)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_kind(request: pytest.FixtureRequest) -> str:
    """Each test of a database runs on SQLite and, where configured (CI), on PostgreSQL."""
    kind = str(request.param)
    if kind == "postgresql" and postgres_url() is None:
        pytest.skip(f"no PostgreSQL: set {POSTGRES_URL_VARIABLE} (CI does)")
    return kind


@pytest.fixture
def empty_engine(database_kind: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind, with no table yet."""
    if database_kind == "sqlite":
        engine = make_engine(sqlite_url(tmp_path))
    else:
        engine = make_engine(postgres_url() or "")
        _PostgresAtHead.ready = False
        reset_postgres(engine)
    yield engine
    engine.dispose()


#: The first moment of the ``clock`` fixture: the chat tests' world is seeded at it.
FIRST_DAY = "2026-03-02"


@pytest.fixture(scope="session")
def sqlite_world_template(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, ChatWorld]:
    """``sqlite_template`` with the chat tests' world seeded (``seed_chat_world`` at
    FIRST_DAY), once per session: the tests of ``world`` on SQLite start from a copy of it, the
    same rows and ids that seeding their own database gave (seeding is deterministic)."""
    from tests.chat_world import seed_chat_world
    from tests.procedure_world import Clock

    url = sqlite_url(tmp_path_factory.mktemp("world-template"))
    path = make_url(url).database
    assert path is not None
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(url)
    clock = Clock()
    clock.set(FIRST_DAY)
    seeded = seed_chat_world(engine, clock)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return Path(path), seeded


#: The databases (``_database_key``) the ``engine`` fixture filled with the chat tests' world:
#: SQLite files copied from ``sqlite_world_template``, and PostgreSQL filled from the world's
#: snapshot. Cleared at the end of each test.
_WORLD_COPIES: set[str] = set()


def _uses_chat_world(request: pytest.FixtureRequest) -> bool:
    """Whether the test uses this file's ``world`` (several modules define a ``world`` of
    their own)."""
    definitions = request.node._fixtureinfo.name2fixturedefs.get("world", ())
    return bool(definitions) and getattr(definitions[-1].func, "__module__", "") == __name__


@pytest.fixture
def engine(
    request: pytest.FixtureRequest, database_kind: str, tmp_path: Path, sqlite_template: Path
) -> Iterator[Engine]:
    """A database at the head migration with its reference data (and, on SQLite for a test of
    ``world``, the world already seeded: see ``world``)."""
    if database_kind == "sqlite":
        url = sqlite_url(tmp_path)
        target = make_url(url).database
        assert target is not None
        template = sqlite_template
        if _uses_chat_world(request):
            template, _ = request.getfixturevalue("sqlite_world_template")
        shutil.copyfile(template, target)
        engine = make_engine(url)
        if template != sqlite_template:
            _WORLD_COPIES.add(_database_key(engine))
    else:
        engine = make_engine(postgres_url() or "")
        migrated = not _PostgresAtHead.ready
        if migrated:
            reset_postgres(engine)
            _bring_to_head(engine)
            _PostgresAtHead.ready = True
            _PostgresAtHead.reference = _take_snapshot(engine)
        wants_world = _uses_chat_world(request)
        if wants_world and _PostgresAtHead.world is not None:
            _restore_snapshot(engine, _PostgresAtHead.world[0])
        elif not migrated:
            _restore_snapshot(engine, _PostgresAtHead.reference)
        if wants_world:
            if _PostgresAtHead.world is None:
                _PostgresAtHead.world = _seed_world_snapshot(engine)
            _WORLD_COPIES.add(_database_key(engine))
    yield engine
    _WORLD_COPIES.discard(_database_key(engine))
    engine.dispose()


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
    clock.set(FIRST_DAY)
    return clock


@pytest.fixture
def world(request: pytest.FixtureRequest, chat_engine: Engine, clock: Clock) -> ChatWorld:
    """A ward, its office and two announced sessions. The ``engine`` fixture put them there:
    on SQLite the database was copied from ``sqlite_world_template``, on PostgreSQL it was
    filled from the world's snapshot (seeding it for every test cost about 25 ms of CPU, and as
    much again in PostgreSQL, for hundreds of tests)."""
    from tests.chat_world import seed_chat_world

    if _database_key(chat_engine) not in _WORLD_COPIES:
        return seed_chat_world(chat_engine, clock)
    assert clock.now == at(FIRST_DAY), "the world is seeded at FIRST_DAY: set the clock after"
    if chat_engine.dialect.name == "postgresql":
        assert _PostgresAtHead.world is not None
        return replace(_PostgresAtHead.world[1])
    _, seeded = request.getfixturevalue("sqlite_world_template")
    return replace(seeded)


# --- the language layer ---


@pytest.fixture(scope="session")
def counted_restoration_model() -> restoration.Model:
    """The shipped restoration table read with its counts, once per process: the bot's
    ``restoration.model()`` keeps them as the lattice's arrays only."""
    from nlp import restoration

    return restoration.read_table()
