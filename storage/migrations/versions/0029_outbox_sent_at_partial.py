"""on PostgreSQL the index of when messages were sent holds the sent ones only: with statistics
taken while nothing waited, PostgreSQL read the messages waiting through it (every one of an
invitation's, for a claim of replies in one CI run; 6,030 rows for a claim of 30 in a test run),
instead of the indexes of the replies and of the others waiting (migrations 0027 and 0028)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-02 14:15:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SENT = sa.text('sent_at IS NOT NULL')


def upgrade() -> None:
    # SQLite keeps the whole index: its one process claims with conditions that imply neither
    # partial index of the rows waiting, and reads them through this one.
    op.drop_index('ix_outbox_message_sent_at', table_name='outbox_message')
    op.create_index(
        'ix_outbox_message_sent_at', 'outbox_message', ['sent_at'], postgresql_where=SENT
    )


def downgrade() -> None:
    op.drop_index('ix_outbox_message_sent_at', table_name='outbox_message')
    op.create_index('ix_outbox_message_sent_at', 'outbox_message', ['sent_at'])
