"""the inbox's store as one call on PostgreSQL: the chat's lock, then the insert that claims
the event it inserts (issue 12: one round trip instead of four, the store being on every
update's way with several workers)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 18:20:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Called in autocommit (storage/channel_store.py, store_at_once): the advisory lock is held until
# the call's own transaction ends. A VOLATILE PL/pgSQL function takes a new snapshot for each
# statement, so the insert sees every transaction of the chat that committed before the lock
# was granted. p_recent_after NULL: no spacing between a chat's events.
FUNCTION = """
CREATE OR REPLACE FUNCTION inbox_store(
    p_key bigint,
    p_channel varchar,
    p_event_id varchar,
    p_chat_id varchar,
    p_payload json,
    p_now timestamp,
    p_until timestamp,
    p_until_spaced timestamp,
    p_recent_after timestamp,
    p_max_attempts integer
) RETURNS TABLE (id integer, attempts integer, claimed_until timestamp)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    first_of_chat boolean;
    handled_lately boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(p_key);
    first_of_chat := NOT EXISTS (
        SELECT 1 FROM inbox_event AS earlier
        WHERE earlier.channel = p_channel AND earlier.chat_id = p_chat_id
          AND earlier.handled_at IS NULL AND earlier.attempts < p_max_attempts
    );
    handled_lately := p_recent_after IS NOT NULL AND EXISTS (
        SELECT 1 FROM inbox_event AS recent
        WHERE recent.channel = p_channel AND recent.chat_id = p_chat_id
          AND recent.handled_at > p_recent_after
    );
    RETURN QUERY
    INSERT INTO inbox_event AS stored
        (channel, event_id, chat_id, payload, received_at, claimed_until, attempts)
    VALUES (
        p_channel, p_event_id, p_chat_id, p_payload, p_now,
        CASE WHEN NOT first_of_chat THEN NULL
             WHEN handled_lately THEN p_until_spaced
             ELSE p_until END,
        CASE WHEN first_of_chat THEN 1 ELSE 0 END
    )
    ON CONFLICT (channel, event_id) DO NOTHING
    RETURNING stored.id, stored.attempts, stored.claimed_until;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            'DROP FUNCTION IF EXISTS inbox_store(bigint, varchar, varchar, varchar, json, '
            'timestamp, timestamp, timestamp, timestamp, integer)'
        )
