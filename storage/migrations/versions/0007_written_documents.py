"""written documents: số, ký hiệu and ngày ban hành of extensions and results

Revision ID: 0007
Revises: 0009
Create Date: 2026-11-30 10:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ('extension', 'written_result'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    'document_number',
                    sqlmodel.sql.sqltypes.AutoString(length=100),
                    nullable=True,
                )
            )
            batch.add_column(sa.Column('document_date', sa.Date(), nullable=True))


def downgrade() -> None:
    for table in ('written_result', 'extension'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('document_date')
            batch.drop_column('document_number')
