"""Staff decisions on near-duplicate petitions (P2): two petitions are the same issue, or not."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utc_now


class IssueLink(SQLModel, table=True):
    """``same`` joins two petitions in one issue; ``different`` keeps them apart, whatever the
    automatic grouping finds. The pair is stored with the smaller id first."""

    __tablename__ = "issue_link"

    first_petition_id: int = Field(foreign_key="petition.id", primary_key=True)
    second_petition_id: int = Field(foreign_key="petition.id", primary_key=True)
    decision: str = Field(max_length=10)
    decided_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
