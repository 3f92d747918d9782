"""public record of petitions, calendar sequence of sessions

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-30 10:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types  # noqa: F401


revision: str = '0012'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('public_record',
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('published_by_person_id', sa.Integer(), nullable=True),
    sa.Column('published_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], ),
    sa.ForeignKeyConstraint(['published_by_person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('petition_id')
    )
    op.create_index(op.f('ix_public_record_published_at'), 'public_record', ['published_at'], unique=False)
    with op.batch_alter_table('dialogue_session') as batch:
        batch.add_column(sa.Column('calendar_sequence', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('dialogue_session') as batch:
        batch.drop_column('calendar_sequence')
    op.drop_index(op.f('ix_public_record_published_at'), table_name='public_record')
    op.drop_table('public_record')
