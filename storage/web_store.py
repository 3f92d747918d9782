"""The web chat's messages, numbered per chat (storage/tables/web.py).

Each function works in the caller's unit of work; :func:`append` flushes, the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import col, func, select

from storage.tables import WebMessage
from storage.unit_of_work import UnitOfWork

# A page that comes back after a long time is shown at most this many messages.
REPLAY_LIMIT = 200


def append(uow: UnitOfWork, chat_id: str, frame: Mapping[str, object]) -> int:
    """Store ``frame`` as the chat's next message; returns its sequence number."""
    last = uow.session.exec(
        select(func.max(WebMessage.seq)).where(WebMessage.chat_id == chat_id)
    ).one()
    seq = int(last or 0) + 1
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
