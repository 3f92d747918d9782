"""scheduled runs: one row per scheduler job and period, and the inbox's index by chat, for
several processes on one database

Revision ID: 0016
Revises: 0014
Create Date: 2026-11-30 12:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0016'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'scheduled_run',
        sa.Column('job', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('run_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('run_at', storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('job', 'period'),
    )
    op.create_index(
        'ix_inbox_event_chat', 'inbox_event', ['channel', 'chat_id', 'id'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_inbox_event_chat', table_name='inbox_event')
    op.drop_table('scheduled_run')
