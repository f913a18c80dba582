"""The Alembic migrations build, on an empty database of each kind, exactly the schema the
models describe, and can be undone."""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from protokol.extensions import db
from protokol.models import include_object
from tests.conftest import create_database, drop_database, make_app


def test_migrations_match_models(tmp_path):
    url = create_database(os.environ.get("DATABASE_URL"), tmp_path, "migrations")
    app = make_app(url, tmp_path)
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                # Objects only the migrations know (an engine's full-text index, declared
                # with protokol.models.migration_only) are left out of the comparison.
                context = MigrationContext.configure(
                    conn,
                    opts={
                        "compare_type": True,
                        "compare_server_default": False,
                        "include_object": include_object,
                    },
                )
                diff = compare_metadata(context, db.metadata)
            assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"

            downgrade(revision="base")
            with db.engine.connect() as conn:
                left = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
            assert left == set()
            db.engine.dispose()
    finally:
        drop_database(url)
