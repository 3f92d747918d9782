""" "Is it resolved?" (issue 13): the petitioner's answer to a written result, some working days
after it was sent — yes, partly or no, with an optional comment. One answer per written result."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class ResolutionFeedback(Table, table=True):
    __tablename__ = "resolution_feedback"

    id: int | None = Field(default=None, primary_key=True)
    petition_id: int = Field(foreign_key="petition.id", index=True)
    written_result_id: int = Field(foreign_key="written_result.id", unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    answer: str = Field(max_length=10, description="yes, partly or no")
    comment: str | None = Field(default=None, sa_type=Text)
    # "No" or "partly" reopened the petition to the same agency.
    reopened: bool = False
    answered_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
