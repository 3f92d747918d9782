"""indexes for the deadline digests at city scale (C6, issue 12)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 13:00:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_petition_alerts',
        'petition',
        ['state', 'id', 'session_id', 'area_org_id', 'tracking_code'],
    )
    op.create_index(
        'ix_petition_inbox',
        'petition',
        ['session_id', 'state', 'area_org_id', 'received_at', 'tracking_code'],
    )
    op.create_index(
        'ix_assignment_alerts', 'assignment', ['petition_id', 'due_date', 'agency_org_id']
    )
    op.create_index(
        'ix_assignment_agency_due', 'assignment', ['agency_org_id', 'due_date', 'petition_id']
    )


def downgrade() -> None:
    op.drop_index('ix_assignment_agency_due', table_name='assignment')
    op.drop_index('ix_assignment_alerts', table_name='assignment')
    op.drop_index('ix_petition_inbox', table_name='petition')
    op.drop_index('ix_petition_alerts', table_name='petition')
