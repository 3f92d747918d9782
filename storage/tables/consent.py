"""Consents to the processing of personal data (X3, Law 91/2025/QH15)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class Consent(Table, table=True):
    __tablename__ = "consent"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    notice_version: str = Field(max_length=20)
    channel: str = Field(max_length=20)
    given_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
