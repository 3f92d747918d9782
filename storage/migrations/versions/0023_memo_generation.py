"""the accounts memo with several workers: a generation of channel_account, changed by a
trigger at each update or deletion of an account (issue 12)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 20:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The generation is the id of the transaction that changed an account: never the same for two
# changes, even after the row was deleted and made again (a test emptying its tables), so a
# worker never takes an old memo for a current one. An insert of a new account changes no
# memo (a memo only holds accounts that existed): no trigger for it.
FUNCTION = """
CREATE OR REPLACE FUNCTION memo_generation_accounts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO memo_generation (name, generation) VALUES ('accounts', txid_current())
    ON CONFLICT (name) DO UPDATE SET generation = EXCLUDED.generation;
    RETURN NULL;
END
$$
"""
# A turn's first statement (storage/advisory.py): the conversation's lock, then the accounts'
# generation. VOLATILE PL/pgSQL: the SELECT takes its snapshot after the lock was granted, so it
# sees the previous turn of the chat (which may have joined its account to another person),
# committed while this one waited; in one statement the snapshot would be older than the wait.
LOCK_FUNCTION = """
CREATE OR REPLACE FUNCTION lock_and_accounts_generation(p_key bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(p_key);
    RETURN (SELECT generation FROM memo_generation WHERE name = 'accounts');
END
$$
"""
TRIGGERS = (
    """CREATE TRIGGER channel_account_changed AFTER UPDATE ON channel_account FOR EACH ROW
    WHEN (OLD.person_id IS DISTINCT FROM NEW.person_id OR OLD.chat_id IS DISTINCT FROM NEW.chat_id
          OR OLD.channel IS DISTINCT FROM NEW.channel
          OR OLD.external_user_id IS DISTINCT FROM NEW.external_user_id)
    EXECUTE FUNCTION memo_generation_accounts()""",
    """CREATE TRIGGER channel_account_deleted AFTER DELETE ON channel_account FOR EACH ROW
    EXECUTE FUNCTION memo_generation_accounts()""",
    """CREATE TRIGGER channel_account_truncated AFTER TRUNCATE ON channel_account
    FOR EACH STATEMENT EXECUTE FUNCTION memo_generation_accounts()""",
)


def upgrade() -> None:
    op.create_table(
        'memo_generation',
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(FUNCTION)
        op.execute(LOCK_FUNCTION)
        for trigger in TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO memo_generation (name, generation) VALUES ('accounts', 0)")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name in ('channel_account_changed', 'channel_account_deleted', 'channel_account_truncated'):
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON channel_account')
        op.execute('DROP FUNCTION IF EXISTS memo_generation_accounts()')
        op.execute('DROP FUNCTION IF EXISTS lock_and_accounts_generation(bigint)')
    op.drop_table('memo_generation')
