"""What chat channels keep in our store: webhook events received but not yet handled (an inbox,
so a crash after the acknowledgement loses nothing), the buttons last shown in a chat without
buttons of its own, and the Zalo Official Account's OAuth tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class InboxEvent(Table, table=True):
    """A platform event as received, stored before it is acknowledged; UNIQUE (channel,
    event_id) makes a redelivered event a no-op."""

    __tablename__ = "inbox_event"
    __table_args__ = (
        UniqueConstraint("channel", "event_id"),
        # A chat's unhandled events, looked up by every store and claim (issue 12). Partial:
        # only the events not yet handled are in it (``WHERE handled_at IS NULL``, migration
        # 0024), so the look costs the same after a year of a chat's handled events. Declared
        # here without that clause: its ``postgresql_where`` would import PostgreSQL's dialect
        # at every start, SQLite's too; the schema is made by the migrations, and alembic's
        # comparison (tests/test_storage.py) does not read the clause.
        Index("ix_inbox_event_pending", "channel", "chat_id", "id"),
        # The same events in the order they came (partial too, migration 0026): a claim walks
        # them oldest first and stops at its batch, whatever a storm left waiting.
        Index("ix_inbox_event_due", "channel", "received_at", "id"),
        # A chat's events handled lately (the chat's spacing): found without reading its rows.
        Index("ix_inbox_event_chat_handled", "channel", "chat_id", "handled_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    event_id: str = Field(max_length=128)
    chat_id: str = Field(default="", max_length=64, description="events of a chat go in order")
    payload: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    received_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    # Indexed for the retention's "handled before", partial (``WHERE handled_at IS NOT NULL``,
    # migration 0025; declared without the clause, as ix_inbox_event_pending): an unhandled
    # event is never looked up through it.
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    failure: str | None = Field(default=None, sa_type=Text)


class ChatButtons(Table, table=True):
    """The buttons last shown in a chat of a channel that renders them as numbered text (or as
    template buttons whose tap comes back as text): a typed number or label maps back to them."""

    __tablename__ = "chat_buttons"

    channel: str = Field(primary_key=True, max_length=20)
    chat_id: str = Field(primary_key=True, max_length=64)
    buttons: list[list[str]] = Field(default_factory=list, sa_type=JSON)  # [label, data]
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ZaloToken(Table, table=True):
    """The OA's access token and its single-use, rotating refresh token. ``refreshing_by`` and
    ``refreshing_until`` are the lock that lets one process at a time refresh."""

    __tablename__ = "zalo_token"

    app_id: str = Field(primary_key=True, max_length=64)
    access_token: str = Field(sa_type=Text)
    refresh_token: str = Field(sa_type=Text)
    access_expires_at: datetime = Field(sa_type=UTCDateTime)
    generation: int = 0  # +1 on every refresh
    refreshing_by: str | None = Field(default=None, max_length=64)
    refreshing_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
