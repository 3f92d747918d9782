"""issue links

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 13:57:40.118667
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types  # noqa: F401


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('issue_link',
    sa.Column('first_petition_id', sa.Integer(), nullable=False),
    sa.Column('second_petition_id', sa.Integer(), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('decided_by_person_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['first_petition_id'], ['petition.id'], ),
    sa.ForeignKeyConstraint(['second_petition_id'], ['petition.id'], ),
    sa.PrimaryKeyConstraint('first_petition_id', 'second_petition_id')
    )


def downgrade() -> None:
    op.drop_table('issue_link')
