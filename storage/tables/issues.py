"""Staff decisions on near-duplicate petitions (P2): two petitions are the same issue, or not."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class IssueLink(Table, table=True):
    """``same`` joins two petitions in one issue; ``different`` keeps them apart, whatever the
    automatic grouping finds. The pair is stored with the smaller id first."""

    __tablename__ = "issue_link"

    first_petition_id: int = Field(foreign_key="petition.id", primary_key=True)
    second_petition_id: int = Field(foreign_key="petition.id", primary_key=True)
    decision: str = Field(max_length=10)
    decided_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class IssueGroupMember(Table, table=True):
    """Which group of near-duplicate petitions a petition is in, as grouped for a unit: by a
    full regrouping (``full``), by joining its nearest group when it was submitted (``join``),
    or as staff decided (``staff``). ``group_id`` names the group (a member's petition id, for
    the group's life); a petition in no group has its own id there."""

    __tablename__ = "issue_group_member"

    unit_org_id: int = Field(foreign_key="org_unit.id", primary_key=True)
    petition_id: int = Field(foreign_key="petition.id", primary_key=True)
    group_id: int = Field(index=True)
    source: str = Field(max_length=10)
    assigned_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
