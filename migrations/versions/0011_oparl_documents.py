"""oparl documents: the open-data API's meetings and agenda items stored as JSON text

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:24:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "oparl_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oparl_documents")),
        sa.UniqueConstraint(
            "kind",
            "base_url",
            "object_id",
            name=op.f("uq_oparl_documents_kind_base_url_object_id"),
        ),
    )


def downgrade():
    op.drop_table("oparl_documents")
