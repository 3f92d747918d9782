"""What the office chose to publish of a petition on the ward's public page and the Open311
API (B4, B5): the checked public summary and answer, who published it and when. A petition
without a row here is never shown; removing the row withdraws it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class PublicRecord(Table, table=True):
    __tablename__ = "public_record"

    petition_id: int = Field(foreign_key="petition.id", primary_key=True)
    subject: str = Field(sa_type=Text, description="the public summary the office checked")
    answer: str | None = Field(default=None, sa_type=Text, description="the public answer")
    # Where the problem is (issue 13): the street the office checked, never a house number.
    place: str | None = Field(default=None, max_length=300)
    published_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    published_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
