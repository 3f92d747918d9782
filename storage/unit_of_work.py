"""A unit of work: one database transaction around one use case (cosmic python's pattern)."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Self
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Executable, Result
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

# Per database (engine), per name: small caches in process memory (see UnitOfWork.memo).
_MEMOS: WeakKeyDictionary[Engine, dict[str, dict[Any, Any]]] = WeakKeyDictionary()


class _Generation:
    """The memos of a database other processes change too, and the generation they hold."""

    def __init__(self) -> None:
        self.generation: int | None = None
        self.memos: dict[str, dict[Any, Any]] = {}


# Databases that other processes change too (several workers): their memos (not ``checked``)
# are valid for one generation of the accounts (table memo_generation, migration 0023).
_SHARED: WeakKeyDictionary[Engine, _Generation] = WeakKeyDictionary()


def shared_between_processes(engine: Engine) -> None:
    """Say that other processes write to this database too (``WORKERS`` > 1): a memo is
    forgotten only in the process that made the change (an erasure, a join of two accounts in
    another worker would leave this one's memo stale), so from now on :meth:`UnitOfWork.memo`
    gives a memo only to a transaction that read the database's generation of the accounts
    (:meth:`UnitOfWork.saw_generation`; a trigger changes it with every account changed), and
    forgets what it held when that generation changed."""
    _SHARED[engine] = _Generation()
    _MEMOS.pop(engine, None)


# A thread that runs many short write transactions one after the other (bot/runner.py's database
# thread: every conversation turn) keeps one SQLite connection checked out for its units of work:
# checking a connection out of the pool and back in (with its reset) for each turn cost about a
# third of what SQLAlchemy adds to a transaction (issue 12). One connection per thread, for the
# last database used (a unit of work on another one returns it to its pool).
_KEPT = threading.local()


def keep_connection_on_this_thread() -> None:
    """From now on, this thread's units of work on a SQLite database share one connection,
    kept checked out (one unit of work at a time: a unit opened while another is open on the
    same thread takes a connection from the pool as before)."""
    _KEPT.enabled = True
    _KEPT.connection = None
    _KEPT.in_use = False


def _take_kept_connection(engine: Engine) -> Connection | None:
    if not getattr(_KEPT, "enabled", False) or _KEPT.in_use or engine.dialect.name != "sqlite":
        return None
    kept: Connection | None = _KEPT.connection
    if kept is not None and (kept.engine is not engine or kept.closed or kept.invalidated):
        _KEPT.connection = None
        kept.close()
        kept = None
    if kept is None:
        kept = _KEPT.connection = engine.connect()
    if kept.in_transaction():  # left in a transaction by an error: not reused
        _KEPT.connection = None
        kept.close()
        return None
    _KEPT.in_use = True
    return kept


class UnitOfWork:
    """``with UnitOfWork(engine) as uow: …; uow.commit()`` — rolled back unless committed.

    Use cases never commit: the caller (one incoming update, one CLI command) owns the one
    transaction and commits it once. ``write=True`` takes SQLite's write lock when the unit
    starts (``BEGIN IMMEDIATE``): a transaction that reads then writes never fails to upgrade its
    lock, and a savepoint (:meth:`savepoint`) is always inside a real transaction — with the
    driver's default behaviour a first ``SAVEPOINT`` would begin one, and its ``RELEASE`` would
    commit it. PostgreSQL needs neither.

    A unit that only reads, and runs often, ends with ``commit()`` too: on PostgreSQL the
    ROLLBACK that ends a unit left uncommitted makes psycopg forget every statement it prepared
    on that connection (it cannot tell a read's rollback from one that undid a change of the
    schema), so that each of them is parsed and planned again, five times or more, before it is
    prepared again (issue 12: a web page's catch-up read, at each reply another worker stored
    for the page, emptied a connection's prepared statements 100 times in 2,500 updates).
    """

    def __init__(self, engine: Engine, *, write: bool = False, autocommit: bool = False) -> None:
        self._engine = engine
        self._write = write
        # PostgreSQL: each statement its own transaction (no BEGIN and COMMIT round trips), for
        # a unit of ONE statement that ends with commit() (issue 12: the outbox sender's claim
        # and records, one each per reply). Elsewhere an ordinary unit.
        self._autocommit = autocommit and engine.dialect.name == "postgresql"
        self._session: Session | None = None
        self._kept: Connection | None = None
        # Advisory locks this transaction holds (storage/advisory.py), with the transaction
        # they were taken in: a lock held already is not asked for again.
        self._locks: set[int] = set()
        self._locked_in: object | None = None
        # A database shared between processes: the memos valid in the transaction that read
        # the accounts' generation, and that transaction.
        self._memos_of: tuple[object, dict[str, dict[Any, Any]]] | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def memo(self, name: str, *, checked: bool = False) -> dict[Any, Any]:
        """A dict kept in this process for this database, shared by every unit of work on the
        same engine: for what a use case may remember between updates (rows that change rarely,
        and whose changes go through the code that also forgets them). Put only what is
        committed in it: a unit of work that rolls back does not undo the memo. For a database
        :func:`shared_between_processes`, the memo is the one of the accounts' generation this
        transaction read (:meth:`saw_generation`), and a new empty dict (nothing remembered)
        in a transaction that read none: such a memo may hold only what changes with that
        generation (channel accounts: a trigger changes it, migration 0023). A ``checked`` memo
        is kept as on one process: its user compares what it holds with the database at each
        use (procedure/use_cases/repeated.py's petition index)."""
        if not checked and self._engine in _SHARED:
            found = self._memos_of
            if found is None or found[0] is not self.session.get_transaction():
                return {}
            return found[1].setdefault(name, {})
        memos = _MEMOS.get(self._engine)
        if memos is None:
            memos = _MEMOS.setdefault(self._engine, {})
        return memos.setdefault(name, {})

    def __enter__(self) -> Self:
        self._kept = _take_kept_connection(self._engine)
        # On a kept connection, the session begins the transaction on it and ends it at its
        # commit or close, as on a pooled one; the connection stays checked out.
        bind = self._kept if self._kept is not None else self._engine
        self._session = Session(bind, expire_on_commit=False)
        if self._autocommit:  # the connection, checked out now, in autocommit until returned
            self._session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        if self._write:
            self._begin_write()
        return self

    def _begin_write(self) -> None:
        if self.dialect == "sqlite":
            # Straight to the driver: SQLAlchemy's execution around it costs more than SQLite.
            driver = self.session.connection().connection.driver_connection
            assert driver is not None
            driver.execute("BEGIN IMMEDIATE")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # close() rolls back what was not committed and detaches the loaded rows, which keep
        # their values, so a caller may still read what a use case returned.
        try:
            self.session.close()
        finally:
            self._session = None
            if self._kept is not None:
                self._kept = None
                _KEPT.in_use = False

    @property
    def wants_generation(self) -> bool:
        """Whether this database is shared between processes (its memos need the accounts'
        generation, read in the transaction: :meth:`saw_generation`)."""
        return self._engine in _SHARED

    def saw_generation(self, generation: int | None) -> None:
        """This transaction read the accounts' generation (storage/advisory.py, with the
        conversation's lock: no round trip of its own). The memos are those of that
        generation, emptied when it is another one than they hold; None (no generation
        stored): no memo in this transaction."""
        shared = _SHARED.get(self._engine)
        if shared is None:
            return
        if generation is None:
            self._memos_of = None
            return
        if shared.generation != generation:
            # A new dict: a unit of work still using the old one fills nothing read from now.
            shared.generation, shared.memos = generation, {}
        self._memos_of = (self.session.get_transaction(), shared.memos)

    def holds_lock(self, key: int) -> bool:
        """Whether this unit's current transaction took the advisory lock ``key``
        (:meth:`note_lock`); False after a commit or a rollback, which release it."""
        session = self._session
        return (
            session is not None
            and key in self._locks
            and self._locked_in is not None
            and session.get_transaction() is self._locked_in
        )

    def note_lock(self, key: int) -> None:
        """The current transaction now holds the advisory lock ``key`` until it ends. Not
        noted inside a savepoint (rolling it back may release the lock)."""
        session = self.session
        if session.in_nested_transaction():
            return
        transaction = session.get_transaction()
        if transaction is not self._locked_in:
            self._locks = set()
            self._locked_in = transaction
        self._locks.add(key)

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        """Undo everything since the last commit (the session stays open)."""
        self.session.rollback()

    def savepoint(self) -> SessionTransaction:
        """``with uow.savepoint(): …`` — an exception inside undoes only what the block did."""
        return self.session.begin_nested()

    def flush(self) -> None:
        self.session.flush()

    def execute(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> Result[Any]:
        """A Core statement (columns, not ORM rows) in this transaction: what the session holds
        is flushed first, as ``session.execute`` would, and the statement then runs on the
        transaction's connection without the ORM's execution around it (issue 12: about half
        the cost of a small ``SELECT``)."""
        session = self.session
        session.flush()  # nothing to do (and nearly free) when nothing is pending
        return session.connection().execute(statement, parameters)
