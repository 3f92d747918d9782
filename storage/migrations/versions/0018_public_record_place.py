"""the public record's place: the street the office checked (issue 13)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 13:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('public_record') as batch:
        batch.add_column(
            sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('public_record') as batch:
        batch.drop_column('place')
