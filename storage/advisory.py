"""PostgreSQL advisory locks (issue 12: several processes on one database).

* :func:`lock_for_transaction` — ``pg_advisory_xact_lock``: held until the transaction ends;
  used to keep two updates of one conversation from running at the same time in two processes.
* :func:`held_during` — ``pg_advisory_lock`` around a block: the migrations of workers that
  start at the same moment run one after the other.
* :class:`SessionLock` — ``pg_try_advisory_lock`` on a connection of its own, held for as long
  as that connection lives: used to elect the one outbox sender. When the holder dies, its
  connection closes and PostgreSQL releases the lock, so another process can take it.

Keys are 64-bit numbers derived from names (a BLAKE2 digest, stable across processes and
versions, unlike Python's ``hash``). SQLite has one writer at a time and no such locks: there the
functions do nothing and a :class:`SessionLock` is always held.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

_XACT_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
# The same, and the transaction's commit does not wait for its WAL record to reach the disk
# (``synchronous_commit = off`` for this transaction only): in the statement already sent, so no
# round trip of its own.
_XACT_LOCK_COMMIT_LATER = text(
    "SELECT pg_advisory_xact_lock(:key), set_config('synchronous_commit', 'off', true)"
)
# The same, then the accounts' generation (storage/unit_of_work.py's memos), read after the
# lock was granted (migration 0023's function: a snapshot of its own), in the same round trip.
_XACT_LOCK_AND_GENERATION = text("SELECT lock_and_accounts_generation(:key)")
_LOCK = text("SELECT pg_advisory_lock(:key)")
_TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
_ALIVE = text("SELECT 1")


def advisory_key(*parts: str) -> int:
    """A signed 64-bit key for ``parts`` (PostgreSQL's ``bigint``)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_for_transaction(
    uow: UnitOfWork, *parts: str, loss_harmless: bool = False, read_generation: bool = False
) -> None:
    """Wait for, then hold until the unit of work ends, the lock named by ``parts``
    (PostgreSQL); nothing on SQLite, whose write transactions are one at a time anyway.

    ``loss_harmless``: the caller says that losing this transaction at a crash of the database
    server's machine (its last fraction of a second of commits) is harmless, e.g. because it
    would be done again, to the same effect; its commit then does not wait for the disk
    (``synchronous_commit = off``: the transaction is still atomic and never half-applied).

    ``read_generation``: on a database shared between processes, the accounts' generation is
    read in the same statement, so the transaction may use the memos of that generation
    (:meth:`UnitOfWork.saw_generation`). It is read once the lock is granted: a change
    committed while the transaction waited for the lock (the chat's previous turn) is seen."""
    if uow.dialect != "postgresql":
        return
    key = advisory_key(*parts)
    if read_generation and uow.wants_generation:
        generation = (
            uow.session.connection().execute(_XACT_LOCK_AND_GENERATION, {"key": key}).scalar()
        )
        uow.saw_generation(None if generation is None else int(generation))
    elif loss_harmless:
        uow.session.connection().execute(_XACT_LOCK_COMMIT_LATER, {"key": key})
    elif not uow.holds_lock(key):  # held already by this transaction: no round trip
        uow.session.connection().execute(_XACT_LOCK, {"key": key})
    uow.note_lock(key)


@contextmanager
def held_during(engine: Engine, *parts: str) -> Iterator[None]:
    """Wait for, and hold during the block, the lock named by ``parts`` (PostgreSQL; nothing on
    SQLite): e.g. several workers starting at once migrate the database one after the other."""
    if engine.dialect.name != "postgresql":
        yield
        return
    key = {"key": advisory_key(*parts)}
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(_LOCK, key)
        try:
            yield
        finally:
            connection.execute(_UNLOCK, key)


class SessionLock:
    """A lock held by this process on a connection of its own (PostgreSQL), e.g. "the outbox
    sender". Synchronous: call from a thread (``asyncio.to_thread``)."""

    def __init__(self, engine: Engine, *parts: str) -> None:
        self.engine = engine
        self.key = advisory_key(*parts)
        self.name = "/".join(parts)
        self._connection: Connection | None = None
        self._always = engine.dialect.name != "postgresql"

    @property
    def held(self) -> bool:
        return self._always or self._connection is not None

    def backend_pid(self) -> int | None:
        """The PostgreSQL backend holding the lock for us (tests kill it), or None."""
        if self._connection is None:
            return None
        return int(self._connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it (now or already)."""
        if self.held:
            return True
        connection = self.engine.connect()
        try:
            # Outside any transaction: autocommit, so the connection never sits "idle in
            # transaction" while it holds the lock.
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            won = bool(connection.execute(_TRY_LOCK, {"key": self.key}).scalar_one())
        except Exception:
            connection.invalidate()
            connection.close()
            raise
        if not won:
            connection.close()
            return False
        self._connection = connection
        log.info("advisory lock %s taken", self.name)
        return True

    def still_held(self) -> bool:
        """Check that the lock's connection is alive (if it died, PostgreSQL released the lock
        and another process may hold it now); False, and the lock is dropped, if not."""
        if self._always:
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute(_ALIVE).scalar_one()
            return True
        except Exception as error:
            log.warning("advisory lock %s lost: %s", self.name, type(error).__name__)
            self._drop(invalidate=True)
            return False

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(_UNLOCK, {"key": self.key})
        except Exception:
            self._drop(invalidate=True)
            return
        self._drop(invalidate=False)
        log.info("advisory lock %s released", self.name)

    def _drop(self, *, invalidate: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if invalidate:
                connection.invalidate()
            connection.close()
        except Exception:  # the connection is gone already
            pass
