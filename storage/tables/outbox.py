"""The outbox: every message to someone other than the current sender, written in the same
transaction as the change that causes it, delivered at least once by a sender (X4).

With several workers (issue 12) a conversation's replies are queued here too, in the turn's
transaction (handlers/reply_queue.py): ``channel`` and ``chat_id`` name the chat that wrote,
``urgent`` puts them before broadcasts, and ``pieces_sent`` records how far a message of several
pieces went out, so a piece already sent is not sent again after a sender dies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class OutboxMessage(Table, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        # The replies waiting to be sent (partial: ``WHERE sent_at IS NULL AND failed_at IS
        # NULL AND urgent IS true AND chat_id IS NOT NULL``, migration 0027; declared without
        # the clause, as storage/tables/channels.py's partial indexes): the sender's claim of
        # replies reads them only, not an invitation's thousands of rows waiting too.
        Index("ix_outbox_message_replies_due", "id"),
        # The other rows waiting (``WHERE sent_at IS NULL AND failed_at IS NULL AND urgent IS
        # false``, migration 0028), in the order they are sent: the claim of an invitation's
        # batch stops at the batch.
        Index("ix_outbox_message_others_due", "available_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=200)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=60)
    # A reply goes to the chat that wrote, not to the person's most recent account.
    channel: str | None = Field(default=None, max_length=20)
    chat_id: str | None = Field(default=None, max_length=64)
    urgent: bool = Field(default=False, description="a reply: before broadcasts")
    pieces_sent: int = Field(default=0, description="pieces of the message already sent")
    data: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    transactional: bool = Field(default=True, description="codes, results: ignore preferences")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    available_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
    attempts: int = 0
    # A sender claims a row for a while before it sends; another sender skips claimed rows.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # On PostgreSQL partial (``WHERE sent_at IS NOT NULL``, migration 0029): the rows waiting are
    # read through the two indexes above, never through this one.
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failure: str | None = Field(default=None, sa_type=Text)
