"""Opening the database the settings name, brought up to date before use."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from bot.config import ConfigError, DatabaseUnavailable, Settings
from procedure.use_cases.administration import ensure_reference_data
from storage.advisory import held_during
from storage.engine import make_engine
from storage.migrate import upgrade_to_head
from storage.unit_of_work import UnitOfWork, shared_between_processes


def open_database(settings: Settings) -> Engine:
    """The engine, with every migration applied and the reference data in place. Several
    workers starting at once (``WORKERS``) take turns (a PostgreSQL advisory lock), and keep
    their memo of accounts only while the accounts' generation each turn reads stays the same
    (storage/unit_of_work.py)."""
    url = settings.database_url
    try:
        engine = make_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError):  # not a URL, or no such database
        raise ConfigError("DATABASE_URL", "database_url") from None
    except OSError as refused:  # SQLite: the data folder cannot be made
        raise DatabaseUnavailable(url, str(refused)) from refused
    try:
        with held_during(engine, "migrations"):
            upgrade_to_head(engine)
            with UnitOfWork(engine) as uow:
                ensure_reference_data(uow)
                uow.commit()
    except OperationalError as failure:  # refused, unknown host, wrong password, no file
        engine.dispose()
        raise DatabaseUnavailable(url, str(failure.orig or failure)) from failure
    if settings.workers > 1:
        shared_between_processes(engine)
    return engine
