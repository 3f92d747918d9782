"""what the deadline digests read, kept on the assignment row (C6 at city scale, issue 12)

Whether the agency still owes the written result, the unit whose head answers for it and the
petition's tracking code, back-filled from the petitions and sessions; one index that the
digests read instead of the petitions (it replaces the two of 0019 they joined through).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 15:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWAITING_STATES = "('forwarded', 'extended', 'reopened')"


def upgrade() -> None:
    # NOT NULL with a default, the only way SQLite adds such a column without copying the
    # table (which the other tables' foreign keys to it forbid); the defaults are placeholders
    # the back-fill below overwrites (PostgreSQL drops them after; SQLite cannot). No foreign
    # key on the unit for the same reason: it is a copy of the session's or the petition's.
    with op.batch_alter_table("assignment") as batch:
        batch.add_column(
            sa.Column("awaiting_result", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("answerable_org_id", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column(
                "tracking_code",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="",
            )
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            UPDATE assignment AS a
               SET awaiting_result = p.state IN {AWAITING_STATES},
                   answerable_org_id = COALESCE(s.org_unit_id, p.area_org_id),
                   tracking_code = p.tracking_code
              FROM petition AS p
              LEFT JOIN dialogue_session AS s ON s.id = p.session_id
             WHERE p.id = a.petition_id
            """
        )
        for column in ("awaiting_result", "answerable_org_id", "tracking_code"):
            op.alter_column("assignment", column, server_default=None)
    else:  # correlated subqueries: UPDATE … FROM needs SQLite 3.33
        op.execute(
            f"""
            UPDATE assignment
               SET awaiting_result = (
                       SELECT p.state IN {AWAITING_STATES} FROM petition AS p
                        WHERE p.id = assignment.petition_id),
                   answerable_org_id = (
                       SELECT COALESCE(s.org_unit_id, p.area_org_id) FROM petition AS p
                         LEFT JOIN dialogue_session AS s ON s.id = p.session_id
                        WHERE p.id = assignment.petition_id),
                   tracking_code = (
                       SELECT p.tracking_code FROM petition AS p
                        WHERE p.id = assignment.petition_id)
            """
        )
    op.drop_index("ix_assignment_alerts", table_name="assignment")
    op.drop_index("ix_petition_alerts", table_name="petition")
    op.create_index(
        "ix_assignment_awaiting",
        "assignment",
        ["awaiting_result", "agency_org_id", "answerable_org_id", "due_date", "tracking_code"],
    )


def downgrade() -> None:
    op.drop_index("ix_assignment_awaiting", table_name="assignment")
    op.create_index(
        "ix_petition_alerts",
        "petition",
        ["state", "id", "session_id", "area_org_id", "tracking_code"],
    )
    op.create_index(
        "ix_assignment_alerts", "assignment", ["petition_id", "due_date", "agency_org_id"]
    )
    with op.batch_alter_table("assignment") as batch:
        batch.drop_column("tracking_code")
        batch.drop_column("answerable_org_id")
        batch.drop_column("awaiting_result")
