"""The web chat's messages, numbered per chat (storage/tables/web.py).

Each function works in the caller's unit of work; :func:`append` flushes, the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select

from storage.tables import WebMessage
from storage.unit_of_work import UnitOfWork

# A page that comes back after a long time is shown at most this many messages.
REPLAY_LIMIT = 200


def append(uow: UnitOfWork, chat_id: str, frame: Mapping[str, object]) -> int:
    """Store ``frame`` as the chat's next message; returns its sequence number."""
    seq = last_seq(uow, chat_id) + 1
    uow.session.add(WebMessage(chat_id=chat_id, seq=seq, frame=dict(frame)))
    uow.flush()
    return seq


def since(
    uow: UnitOfWork, chat_id: str, after: int, limit: int = REPLAY_LIMIT
) -> list[tuple[int, dict[str, object]]]:
    """The chat's messages after ``after``, oldest first (the newest ``limit`` of them)."""
    rows = uow.session.exec(
        select(WebMessage)
        .where(WebMessage.chat_id == chat_id, col(WebMessage.seq) > after)
        .order_by(col(WebMessage.seq).desc())
        .limit(limit)
    ).all()
    return [(row.seq, dict(row.frame)) for row in reversed(rows)]


def last_seq(uow: UnitOfWork, chat_id: str) -> int:
    """The number of the chat's newest stored message; 0 when none is stored."""
    last = uow.session.exec(
        select(func.max(WebMessage.seq)).where(WebMessage.chat_id == chat_id)
    ).one()
    return int(last or 0)


def prune(uow: UnitOfWork, before: datetime) -> int:
    """Delete messages stored before ``before``; returns how many. The newest message of each
    chat stays, emptied, so that the chat's numbering goes on."""
    newer = aliased(WebMessage)
    has_newer = (
        select(newer.id)
        .where(newer.chat_id == WebMessage.chat_id, col(newer.seq) > WebMessage.seq)
        .exists()
    )
    old = col(WebMessage.created_at) < before
    result = uow.session.execute(delete(WebMessage).where(old, has_newer))
    uow.session.execute(update(WebMessage).where(old).values(frame={"type": "erased"}))
    return int(getattr(result, "rowcount", 0) or 0)
