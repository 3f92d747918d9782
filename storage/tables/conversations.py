"""Conversation state per (channel, chat), kept in our store so it survives restarts (X4), and the
updates already handled, so a repeated delivery is processed once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utc_now


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"

    channel: str = Field(primary_key=True, max_length=20)
    chat_id: str = Field(primary_key=True, max_length=64)
    state: str = Field(default="idle", max_length=40)
    data: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    version: int = 0
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ProcessedUpdate(SQLModel, table=True):
    """An update claimed before it is handled: the primary key makes the claim atomic."""

    __tablename__ = "processed_update"

    channel: str = Field(primary_key=True, max_length=20)
    update_id: str = Field(primary_key=True, max_length=64)
    claimed_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
