"""resolution feedback: "is it resolved?" after a written result

Revision ID: 0014
Revises: 0015
Create Date: 2026-11-30 11:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types  # noqa: F401


revision: str = '0014'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('resolution_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('written_result_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.String(length=10), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('reopened', sa.Boolean(), nullable=False),
    sa.Column('answered_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], ),
    sa.ForeignKeyConstraint(['written_result_id'], ['written_result.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('written_result_id')
    )
    op.create_index(op.f('ix_resolution_feedback_person_id'), 'resolution_feedback', ['person_id'], unique=False)
    op.create_index(op.f('ix_resolution_feedback_petition_id'), 'resolution_feedback', ['petition_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_resolution_feedback_petition_id'), table_name='resolution_feedback')
    op.drop_index(op.f('ix_resolution_feedback_person_id'), table_name='resolution_feedback')
    op.drop_table('resolution_feedback')
