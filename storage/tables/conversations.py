"""Conversation state per (channel, chat), kept in our store so it survives restarts (X4), and the
updates already handled, so a repeated delivery is processed once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class Conversation(Table, table=True):
    __tablename__ = "conversation"

    channel: str = Field(primary_key=True, max_length=20)
    chat_id: str = Field(primary_key=True, max_length=64)
    state: str = Field(default="idle", max_length=40)
    data: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    version: int = 0
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ProcessedUpdate(Table, table=True):
    """An update claimed before it is handled: the primary key makes the claim atomic."""

    __tablename__ = "processed_update"

    channel: str = Field(primary_key=True, max_length=20)
    update_id: str = Field(primary_key=True, max_length=64)
    claimed_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)


class TrackingMiss(Table, table=True):
    """A /tracuu code that matched none of the person's petitions. Kept per person and per
    channel account, apart from the conversation (which /huy clears), so the limit on misses
    holds whatever the person types in between (X2)."""

    __tablename__ = "tracking_miss"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str = Field(max_length=20)
    external_user_id: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
