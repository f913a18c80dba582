"""audit hash chain: each entry carries the SHA-256 of the one before it and its own

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 20:05:00

Existing entries are chained in id order. The hash is computed here with a copy of
`protokol.audit.entry_hash` as it was at this revision (a migration must not change
meaning when the application's code does).
"""

import hashlib
import json
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
CHAINED_FIELDS = (
    "created_at",
    "actor_label",
    "action",
    "entity",
    "entity_id",
    "meeting_id",
    "item_id",
    "before",
    "after",
)
BATCH = 5000


def _json(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _entry_hash(previous_hash, entry):
    payload = {key: _json(entry[key]) for key in CHAINED_FIELDS}
    payload["previous_hash"] = previous_hash
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


entries = sa.table(
    "audit_entries",
    sa.column("id", sa.Integer),
    sa.column("created_at", sa.DateTime),
    sa.column("actor_label", sa.String),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.Integer),
    sa.column("meeting_id", sa.Integer),
    sa.column("item_id", sa.Integer),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("previous_hash", sa.String),
    sa.column("entry_hash", sa.String),
)


def upgrade():
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))

    connection = op.get_bind()
    previous = GENESIS
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(entries).where(entries.c.id > last_id).order_by(entries.c.id).limit(BATCH)
        ).mappings().all()
        if not rows:
            break
        updates = []
        for row in rows:
            digest = _entry_hash(previous, row)
            updates.append({"row_id": row["id"], "previous": previous, "digest": digest})
            previous = digest
        connection.execute(
            entries.update()
            .where(entries.c.id == sa.bindparam("row_id"))
            .values(previous_hash=sa.bindparam("previous"), entry_hash=sa.bindparam("digest")),
            updates,
        )
        last_id = rows[-1]["id"]

    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("previous_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("entry_hash", existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("previous_hash")
