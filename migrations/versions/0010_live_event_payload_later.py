"""live events: an item event's snapshot is made after the commit (payload NULL until then)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 05:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    # SQLite rebuilds the table: keep AUTOINCREMENT, so ids are never reused.
    with op.batch_alter_table(
        "live_events", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.Text(), nullable=True)


def downgrade():
    # Events still without a snapshot are of no use to anyone once they are old.
    op.execute("DELETE FROM live_events WHERE payload IS NULL")
    with op.batch_alter_table(
        "live_events", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.Text(), nullable=False)
