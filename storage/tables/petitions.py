"""Petitions (opinions, kiến nghị, questions) and what follows them: conclusions, assignments,
extensions and written results (P7–P9, Q6)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, Text
from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class Topic(Table, table=True):
    """A civic topic (đất đai, môi trường, …) or a question category (Q5). Configurable."""

    __tablename__ = "topic"

    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20, description="'civic' or 'question'")
    active: bool = True
    position: int = 0


class Petition(Table, table=True):
    __tablename__ = "petition"
    # The deadline digests (C6) read these columns of every item in an office inbox: an index
    # that holds them spares reading the rows (with their text) of a city's petitions.
    __table_args__ = (
        Index(
            "ix_petition_inbox",
            "session_id",
            "state",
            "area_org_id",
            "received_at",
            "tracking_code",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    tracking_code: str = Field(unique=True, max_length=16)
    kind: str = Field(max_length=20, description="opinion, petition or question")
    topic_code: str = Field(foreign_key="topic.code", max_length=40)
    text: str = Field(sa_type=Text)
    person_id: int = Field(foreign_key="person.id", index=True)
    petitioner_name: str = Field(max_length=200)
    petitioner_phone_e164: str = Field(max_length=20)
    area_org_id: int = Field(foreign_key="org_unit.id", index=True)
    street: str | None = Field(default=None, max_length=200)
    # The place of the problem (issue 13): a location the resident shared (personal data, X3;
    # the public record rounds it to the street) and the address as they wrote it.
    latitude: float | None = None
    longitude: float | None = None
    place_text: str | None = Field(default=None, max_length=300)
    session_id: int | None = Field(default=None, foreign_key="dialogue_session.id", index=True)
    channel: str = Field(default="console", max_length=20)
    state: str = Field(default="received", max_length=20, index=True)
    duplicate_of_id: int | None = Field(default=None, foreign_key="petition.id")
    received_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Conclusion(Table, table=True):
    """The head's conclusion of a session and the day the office notified it (P7)."""

    __tablename__ = "conclusion"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="dialogue_session.id", unique=True)
    text: str = Field(sa_type=Text)
    notice_date: date
    due_date: date
    late_working_days: int = 0
    notified_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Assignment(Table, table=True):
    """A petition given to the agency responsible for it, with its due date (P7, P8)."""

    __tablename__ = "assignment"
    # The deadline digests (C6, issue 12: a million open petitions) read only this index: the
    # results still owed, per agency and answerable unit, by due date (then tracking code, the
    # digest's order), so counting them reads no petition and each group's most urgent few are
    # its first entries. An agency's assignments by due date (/viec) use the second.
    __table_args__ = (
        Index(
            "ix_assignment_awaiting",
            "awaiting_result",
            "agency_org_id",
            "answerable_org_id",
            "due_date",
            "tracking_code",
        ),
        Index("ix_assignment_agency_due", "agency_org_id", "due_date", "petition_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    petition_id: int = Field(foreign_key="petition.id", unique=True)
    agency_org_id: int = Field(foreign_key="org_unit.id", index=True)
    # Copies kept on the row for the digests (set by the use cases that change them:
    # procedure/use_cases/assignments.py): whether the agency still owes the written result
    # (the petition is forwarded, extended or reopened), the unit whose head answers for it when
    # overdue (the session's unit, or the petition's area outside a session; neither changes
    # once assigned) and the petition's tracking code.
    awaiting_result: bool = True
    answerable_org_id: int  # a unit's id; no foreign key (see migration 0020)
    tracking_code: str = Field(max_length=16)
    conclusion_id: int | None = Field(default=None, foreign_key="conclusion.id")
    notice_date: date
    original_due_date: date
    due_date: date
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Extension(Table, table=True):
    """A written notice of a new deadline for a complex case (P9). The history stays."""

    __tablename__ = "extension"

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    previous_due_date: date
    new_due_date: date
    reason: str = Field(sa_type=Text)
    notice_text: str = Field(sa_type=Text)
    # The written notice as a document: số, ký hiệu (e.g. "125/TB-UBND") and ngày ban hành.
    document_number: str | None = Field(default=None, max_length=100)
    document_date: date | None = None
    created_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class WrittenResult(Table, table=True):
    """The written result sent to the petitioner (P8), or a direct reply to a question (Q6)."""

    __tablename__ = "written_result"

    id: int | None = Field(default=None, primary_key=True)
    petition_id: int = Field(foreign_key="petition.id", index=True)
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    text: str = Field(sa_type=Text)
    document_ref: str | None = Field(default=None, max_length=400)
    # The written result as a document: số, ký hiệu and ngày ban hành (P8).
    document_number: str | None = Field(default=None, max_length=100)
    document_date: date | None = None
    answered_on: date
    late_working_days: int | None = None
    created_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Attachment(Table, table=True):
    """A photo or document a resident sent with a petition: the channel's file reference."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    petition_id: int = Field(foreign_key="petition.id", index=True)
    channel: str = Field(max_length=20)
    kind: str = Field(max_length=20, description="photo or document")
    file_ref: str = Field(max_length=400)
    file_name: str | None = Field(default=None, max_length=255)
    mime_type: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
