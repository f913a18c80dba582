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


def test_the_hash_chain_migration_chains_the_entries_already_there(tmp_path):
    """0008 adds the audit hash chain to a trail written before it, in id order; the
    entries written afterwards chain on."""
    from protokol.audit import verify_chain
    from protokol.cli import load_demo

    url = create_database(os.environ.get("DATABASE_URL"), tmp_path, "chain")
    app = make_app(url, tmp_path)
    try:
        with app.app_context():
            upgrade(revision="0007")
            with db.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO audit_entries (created_at, actor_label, action, entity,"
                        " entity_id, meeting_id, item_id, before, after) VALUES"
                        " (:at, 'kommandolinje', 'create', 'meetings', :n, :n, NULL, NULL,"
                        " :after)"
                    ),
                    [
                        {"at": f"2010-12-0{n} 17:00:00", "n": n, "after": f'{{"id": {n}}}'}
                        for n in range(1, 8)
                    ],
                )
            upgrade()
            with db.engine.connect() as conn:
                assert verify_chain(conn).checked == 7
            load_demo()
            db.session.commit()
            with db.engine.connect() as conn:
                report = verify_chain(conn)
            assert report.is_intact and report.checked > 7
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_database(url)
