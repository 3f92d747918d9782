"""the place of a petition: shared coordinates and the written address

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-30 11:15:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('petition') as batch:
        batch.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        batch.add_column(
            sa.Column('place_text', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('petition') as batch:
        batch.drop_column('place_text')
        batch.drop_column('longitude')
        batch.drop_column('latitude')
