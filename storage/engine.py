"""Engines: SQLite by default (WAL, foreign keys on), PostgreSQL with ``DATABASE_URL`` (C8)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from storage.urls import SQLITE_FILE_NAME, normalise_url, sqlite_url

__all__ = ["SQLITE_FILE_NAME", "make_engine", "normalise_url", "sqlite_url"]


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    # LIFO: the connection used last is used next, so a few connections carry the load and
    # their statements reach psycopg's threshold for preparing them (5 executions on one
    # connection); the others lie idle (a FIFO pool spread each statement over all of them).
    # Ten kept (fifteen at most, as SQLAlchemy's default): a worker holds up to three for
    # good (the web chat's and the sender's LISTEN, the sender's election) besides the event
    # loop's threads (six on two cores); with five kept, a connection beyond them was closed
    # at its return, and its prepared statements with it.
    engine = create_engine(
        url,
        echo=echo,
        pool_recycle=RECYCLE_SECONDS,
        pool_use_lifo=True,
        pool_size=POOL_SIZE,
        max_overflow=15 - POOL_SIZE,
    )
    event.listen(engine, "checkin", _note_idle_since)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


# PostgreSQL: a pooled connection is tested (``SELECT 1``) before use only when it lay idle in the
# pool longer than this. ``pool_pre_ping`` tested it at every checkout: one more round trip, and
# PostgreSQL CPU, for each of an update's four or five short transactions (issue 12). A connection
# in steady use was used a moment ago; a server restarted (or a connection dropped) during a quiet
# spell is caught here as before. A drop in the last second is caught as SQLAlchemy does without
# a ping: the statement fails with a disconnect error, which discards every connection of the pool
# opened before it; the failed unit of work is tried again by its caller (the inbox's attempts,
# the outbox's retry, Telegram's redelivery).
PING_AFTER_IDLE_SECONDS = 1.0
POOL_SIZE = 10
# Connections older than this are replaced (firewalls forget idle connections after some hours).
RECYCLE_SECONDS = 1800
_IDLE_SINCE = "doithoai_idle_since"


def _note_idle_since(_: Any, record: ConnectionPoolEntry) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(
    dbapi_connection: Any, record: ConnectionPoolEntry, _: PoolProxiedConnection
) -> None:
    idle_since = record.info.get(_IDLE_SINCE)
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return  # a new connection, or one in use a moment ago
    try:
        # In autocommit: no BEGIN, and no ROLLBACK after it (psycopg forgets every prepared
        # statement of the connection at a ROLLBACK).
        dbapi_connection.autocommit = True
        try:
            dbapi_connection.execute("SELECT 1")
        finally:
            dbapi_connection.autocommit = False
    except Exception as error:
        # The pool discards this connection and checks out another one (a new one if need be).
        raise DisconnectionError(f"a pooled connection was dead: {error}") from error
