"""The web chat's messages, numbered per chat (storage/tables/web.py).

Each function works in the caller's unit of work; :func:`append` flushes, the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import JSON, bindparam, delete, text, update
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select

from storage.tables import WebMessage
from storage.types import UTCDateTime, utc_now
from storage.unit_of_work import UnitOfWork

# A page that comes back after a long time is shown at most this many messages.
REPLAY_LIMIT = 200


def append(uow: UnitOfWork, chat_id: str, frame: Mapping[str, object]) -> int:
    """Store ``frame`` as the chat's next message; returns its sequence number."""
    seq = last_seq(uow, chat_id) + 1
    uow.session.add(WebMessage(chat_id=chat_id, seq=seq, frame=dict(frame)))
    uow.flush()
    return seq


def append_all(
    uow: UnitOfWork,
    chat_id: str,
    frames: Sequence[Mapping[str, object]],
    *,
    notify: str | None = None,
) -> list[int]:
    """Store ``frames`` as the chat's next messages, in order; their sequence numbers. With
    ``notify`` (PostgreSQL), ``NOTIFY notify, '<chat id> <last number>'`` at commit.

    On PostgreSQL one statement, numbering included (issue 12: the web chat's replies are on
    every web turn's way; a lookup of the last number, an insert and a NOTIFY for each reply
    cost a round trip each). The caller holds the chat's lock: the numbers are read under it."""
    if not frames:
        return []
    if uow.dialect != "postgresql":
        return [append(uow, chat_id, frame) for frame in frames]
    statement = _APPEND_ALL_NOTIFY if notify is not None else _APPEND_ALL
    parameters: dict[str, object] = {
        "chat_id": chat_id,
        "frames": [dict(frame) for frame in frames],
        "now": utc_now(),
    }
    if notify is not None:
        parameters["channel"] = notify
    rows = uow.session.connection().execute(statement, parameters).all()
    return [int(row[0]) for row in rows]


_STORED = (
    "WITH chat AS (SELECT CAST(:chat_id AS VARCHAR) AS id), "
    "stored AS (INSERT INTO web_message (chat_id, seq, frame, created_at) "
    "SELECT chat.id, COALESCE((SELECT max(seq) FROM web_message WHERE chat_id = chat.id), 0) "
    "+ f.n, f.frame, :now FROM chat, json_array_elements(:frames) WITH ORDINALITY AS f(frame, n) "
    "RETURNING seq, chat_id) "
)
_TYPES = (bindparam("frames", type_=JSON), bindparam("now", type_=UTCDateTime))
_APPEND_ALL = text(_STORED + "SELECT seq FROM stored ORDER BY seq").bindparams(*_TYPES)
# The one notification (the same channel and payload for every row: PostgreSQL sends it once).
_APPEND_ALL_NOTIFY = text(
    _STORED + "SELECT seq, pg_notify(CAST(:channel AS TEXT), chat_id || ' ' || "
    "(SELECT max(seq) FROM stored)) FROM stored ORDER BY seq"
).bindparams(*_TYPES)


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
