"""People, the channel accounts they reach us through, their consents and staff roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class Person(Table, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    full_name: str | None = Field(default=None, max_length=200)
    phone_e164: str | None = Field(default=None, max_length=20, index=True)
    phone_verified: bool = False
    area_org_id: int | None = Field(default=None, foreign_key="org_unit.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ChannelAccount(Table, table=True):
    """One way a person reaches us. Ids are text: Telegram's are 64-bit, Zalo's are strings."""

    __tablename__ = "channel_account"
    __table_args__ = (
        UniqueConstraint("channel", "external_user_id"),
        # A person's accounts, newest last: "the newest account of this person" is one step
        # along it (the outbox's claim looks it up for each message it claims; migration 0028).
        Index("ix_channel_account_person_newest", "person_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    channel: str = Field(max_length=20)
    external_user_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class StaffRole(Table, table=True):
    """A role a person holds in an org unit: office, head, agency, monitor or admin."""

    __tablename__ = "staff_role"
    __table_args__ = (UniqueConstraint("person_id", "org_unit_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    role: str = Field(max_length=20)
    active: bool = True
    granted_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class MemoGeneration(Table, table=True):
    """What a worker may remember of a table in its memory (storage/unit_of_work.py's memos)
    is valid while the table's generation stays the same (issue 12, several workers). On
    PostgreSQL a trigger (migration 0023) sets ``accounts`` to the changing transaction's id
    whenever a ``channel_account`` row is updated or deleted (a join, an erasure, a move to
    another chat), so a worker's next transaction, reading it, forgets what it remembered."""

    __tablename__ = "memo_generation"

    name: str = Field(primary_key=True, max_length=32)
    generation: int = Field(sa_type=BigInteger)
