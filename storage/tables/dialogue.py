"""Dialogue sessions (P1), their agenda and participating agencies, and registrations (C1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class DialogueSession(Table, table=True):
    __tablename__ = "dialogue_session"

    id: int | None = Field(default=None, primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    chair_name: str = Field(max_length=200)
    chair_person_id: int | None = Field(default=None, foreign_key="person.id")
    venue: str = Field(max_length=400)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    content: str = Field(sa_type=Text)
    capacity: int | None = None
    state: str = Field(default="draft", max_length=20, index=True)
    announced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The iCalendar SEQUENCE (B3): raised whenever the time, the venue or the content changes,
    # so calendar applications replace the event they already have.
    calendar_sequence: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class AgendaItem(Table, table=True):
    __tablename__ = "agenda_item"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="dialogue_session.id", index=True)
    position: int
    step: str = Field(max_length=30, description="a step of Article 13 §2, or 'topic'")
    title: str = Field(sa_type=Text)


class SessionAgency(Table, table=True):
    """An agency invited to prepare and attend (P5)."""

    __tablename__ = "session_agency"

    session_id: int = Field(foreign_key="dialogue_session.id", primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", primary_key=True)


class Registration(Table, table=True):
    __tablename__ = "registration"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="dialogue_session.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    code: str = Field(unique=True, max_length=16)
    state: str = Field(default="registered", max_length=20)
    attended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
