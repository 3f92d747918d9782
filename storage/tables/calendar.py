"""Days an administrator declared off or working, applied without a release (X1)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class CalendarOverride(Table, table=True):
    __tablename__ = "calendar_override"

    day: date = Field(primary_key=True)
    kind: str = Field(max_length=10, description="off, work or not_off")
    name: str = Field(max_length=200)
    source: str = Field(max_length=400)
    added_by: str = Field(max_length=100)
    added_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
