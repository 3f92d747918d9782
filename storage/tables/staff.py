"""One-time invite codes that bind a chat account to a staff role in an org unit."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class StaffInvite(Table, table=True):
    __tablename__ = "staff_invite"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, max_length=64, description="sha256 of the code")
    org_unit_id: int = Field(foreign_key="org_unit.id")
    role: str = Field(max_length=20)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_person_id: int | None = Field(default=None, foreign_key="person.id")
