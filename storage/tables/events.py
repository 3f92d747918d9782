"""Every state change with actor, time and reason (X2): the timeline and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Text
from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class Event(Table, table=True):
    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
    kind: str = Field(max_length=60)
    actor_person_id: int | None = Field(default=None, foreign_key="person.id")
    actor_role: str = Field(max_length=20, description="resident, office, …, or system")
    session_id: int | None = Field(default=None, foreign_key="dialogue_session.id", index=True)
    petition_id: int | None = Field(default=None, foreign_key="petition.id", index=True)
    registration_id: int | None = Field(default=None, foreign_key="registration.id")
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    reason: str | None = Field(default=None, sa_type=Text)
    details: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
