"""tracking misses per person and channel account (issue 8)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types  # noqa: F401


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tracking_miss',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('external_user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tracking_miss', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracking_miss_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracking_miss_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tracking_miss', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracking_miss_person_id'))
        batch_op.drop_index(batch_op.f('ix_tracking_miss_at'))
    op.drop_table('tracking_miss')
