"""the inbox's look at a chat reads only its unhandled events: a partial index of them, and an
index of when a chat's events were handled, instead of one of all of a chat's events (issue 12)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 06:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text('handled_at IS NULL')


def upgrade() -> None:
    op.create_index(
        'ix_inbox_event_pending',
        'inbox_event',
        ['channel', 'chat_id', 'id'],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_index(
        'ix_inbox_event_chat_handled', 'inbox_event', ['channel', 'chat_id', 'handled_at']
    )
    op.drop_index('ix_inbox_event_chat', table_name='inbox_event')


def downgrade() -> None:
    op.create_index('ix_inbox_event_chat', 'inbox_event', ['channel', 'chat_id', 'id'])
    op.drop_index('ix_inbox_event_chat_handled', table_name='inbox_event')
    op.drop_index('ix_inbox_event_pending', table_name='inbox_event')
