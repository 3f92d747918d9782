"""the index of when events were handled holds the handled ones only: with statistics taken while
nothing waited, PostgreSQL looked up the unhandled events through it, scanning them all for each
one it claimed (issue 12: a claim over a backlog of 1,000 events took over 100 ms)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 11:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HANDLED = sa.text('handled_at IS NOT NULL')


def upgrade() -> None:
    # Used by the retention's "handled before" (storage/retention.py), whose condition implies
    # the index's: an unhandled event is looked up by ix_inbox_event_pending only.
    op.drop_index('ix_inbox_event_handled_at', table_name='inbox_event')
    op.create_index(
        'ix_inbox_event_handled_at',
        'inbox_event',
        ['handled_at'],
        postgresql_where=HANDLED,
        sqlite_where=HANDLED,
    )


def downgrade() -> None:
    op.drop_index('ix_inbox_event_handled_at', table_name='inbox_event')
    op.create_index('ix_inbox_event_handled_at', 'inbox_event', ['handled_at'])
