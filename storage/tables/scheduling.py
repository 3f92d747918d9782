"""What the scheduler ran: one row per job and period, so that with several processes on one
database each job runs once per period (issue 12)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class ScheduledRun(Table, table=True):
    """A job's run for one period, claimed by ``INSERT … ON CONFLICT DO NOTHING`` in the same
    transaction as the job's work: the process whose insert went in does the work; a failure
    rolls the claim back with it, so another process (or the next round) does it."""

    __tablename__ = "scheduled_run"

    job: str = Field(primary_key=True, max_length=40)
    period: str = Field(primary_key=True, max_length=40, description="UTC start, ISO 8601")
    run_by: str = Field(default="", max_length=64)
    run_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
