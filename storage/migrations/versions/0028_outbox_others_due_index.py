"""the rows waiting to be sent other than replies (invitations, digests, results), in an index
of their own in the order they are sent, and each person's chat accounts in the order they came:
the sender's claim of them reads its batch and each one's newest account, not every waiting row
sorted and every account grouped (issue 12: 43-77 ms a claim of 30 with 50,000 followers)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02 13:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As storage/outbox_store.py's _claim_others writes its conditions, so that PostgreSQL sees
# that they imply the index's.
OTHERS_DUE = sa.text('sent_at IS NULL AND failed_at IS NULL AND urgent IS false')


def upgrade() -> None:
    op.create_index(
        'ix_outbox_message_others_due',
        'outbox_message',
        ['available_at', 'id'],
        postgresql_where=OTHERS_DUE,
        sqlite_where=OTHERS_DUE,
    )
    # Replaces the index of person_id alone, which it covers.
    op.create_index(
        'ix_channel_account_person_newest', 'channel_account', ['person_id', 'id']
    )
    op.drop_index('ix_channel_account_person_id', table_name='channel_account')


def downgrade() -> None:
    op.create_index('ix_channel_account_person_id', 'channel_account', ['person_id'])
    op.drop_index('ix_channel_account_person_newest', table_name='channel_account')
    op.drop_index('ix_outbox_message_others_due', table_name='outbox_message')
