"""The scheduler's claims: one row per (job, period), so that each job runs once per period
whatever the number of processes (storage/tables/scheduling.py)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam

from storage.dialects import dialect_insert
from storage.tables import ScheduledRun
from storage.unit_of_work import UnitOfWork

_RUN = ScheduledRun.__table__  # type: ignore[attr-defined]


@cache
def _claim(dialect: str) -> Any:
    return (
        dialect_insert(dialect)(_RUN)
        .values(
            job=bindparam("job"),
            period=bindparam("period"),
            run_by=bindparam("run_by"),
            run_at=bindparam("run_at", type_=_RUN.c.run_at.type),
        )
        .on_conflict_do_nothing(index_elements=[_RUN.c.job, _RUN.c.period])
        .returning(_RUN.c.job)
    )


def claim_run(uow: UnitOfWork, job: str, period: str, *, run_by: str, now: datetime) -> bool:
    """True when this unit of work is the one to run ``job`` for ``period``. Not committed: the
    claim commits with the job's work (a failure gives the period back). On PostgreSQL a second
    process inserting the same row waits for the first one's transaction, then finds it."""
    row = (
        uow.session.connection()
        .execute(
            _claim(uow.dialect),
            {"job": job, "period": period, "run_by": run_by[:64], "run_at": now},
        )
        .first()
    )
    return row is not None
