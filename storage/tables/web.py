"""The web chat's messages: everything the bot said to a web chat, numbered per chat, so a page
that reconnects (a reload, a phone that slept) is shown what it missed (C7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field

from storage.tables.base import Table
from storage.types import UTCDateTime, utc_now


class WebMessage(Table, table=True):
    __tablename__ = "web_message"
    __table_args__ = (UniqueConstraint("chat_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=64, index=True)  # a digest of the page's token, never it
    seq: int  # 1, 2, 3… per chat: the page asks for what follows the last one it saw
    frame: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
