"""Per-transaction planner settings for work the planner misjudges (PostgreSQL only)."""

from __future__ import annotations

from sqlalchemy import text

from storage.unit_of_work import UnitOfWork


def no_parallel_plans(uow: UnitOfWork) -> None:
    """For a transaction of many small queries (the deadline digests run one per agency):
    PostgreSQL plans some of them with parallel workers and JIT compilation, whose start costs
    several milliseconds a query, more than the query. ``SET LOCAL`` ends with the transaction.
    Nothing on SQLite."""
    if uow.dialect == "postgresql":
        connection = uow.session.connection()
        connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        connection.execute(text("SET LOCAL jit = off"))
