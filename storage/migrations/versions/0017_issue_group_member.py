"""issue group members: the persisted groups of near-duplicate petitions (incremental joins)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 12:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types  # noqa: F401


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('issue_group_member',
    sa.Column('unit_org_id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('assigned_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], ),
    sa.ForeignKeyConstraint(['unit_org_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_org_id', 'petition_id')
    )
    op.create_index(op.f('ix_issue_group_member_group_id'), 'issue_group_member', ['group_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_issue_group_member_group_id'), table_name='issue_group_member')
    op.drop_table('issue_group_member')
