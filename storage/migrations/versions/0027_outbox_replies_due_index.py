"""the replies waiting to be sent, in an index of their own: the sender's claim of replies (one
per reply, several workers) no longer reads every row waiting to go out, an invitation's
thousands included (issue 12: 14 ms a claim behind 50,000 invitations, 10 of them reading rows)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 11:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As storage/outbox_store.py's _claim_replies writes its conditions, so that PostgreSQL sees
# that they imply the index's.
REPLIES_DUE = sa.text(
    'sent_at IS NULL AND failed_at IS NULL AND urgent IS true AND chat_id IS NOT NULL'
)


def upgrade() -> None:
    op.create_index(
        'ix_outbox_message_replies_due',
        'outbox_message',
        ['id'],
        postgresql_where=REPLIES_DUE,
        sqlite_where=REPLIES_DUE,
    )


def downgrade() -> None:
    op.drop_index('ix_outbox_message_replies_due', table_name='outbox_message')
