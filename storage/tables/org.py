"""Org units: a tree of configurable levels (city, ward/commune, agency, …)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class OrgLevel(Table, table=True):
    """A level of the tree. Levels are data, not code: districts were abolished in 2025."""

    __tablename__ = "org_level"

    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=120)
    rank: int = Field(default=0, description="smaller is higher in the tree")


class OrgUnit(Table, table=True):
    __tablename__ = "org_unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=60)
    name: str = Field(max_length=200)
    level_code: str = Field(foreign_key="org_level.code", max_length=40)
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
