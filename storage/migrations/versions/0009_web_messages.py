"""web chat messages

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-30 10:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types  # noqa: F401


revision: str = '0009'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('web_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('frame', sa.JSON(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_id', 'seq')
    )
    op.create_index(op.f('ix_web_message_chat_id'), 'web_message', ['chat_id'], unique=False)
    op.create_index(op.f('ix_web_message_created_at'), 'web_message', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_web_message_created_at'), table_name='web_message')
    op.drop_index(op.f('ix_web_message_chat_id'), table_name='web_message')
    op.drop_table('web_message')
