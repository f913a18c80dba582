"""Fixtures of the fault and concurrency tests: a database of their own (SQLite file or a
new PostgreSQL database, as DATABASE_URL says), migrated, holding a meeting in session
with open votes and secretaries of its committee; the app served by gunicorn."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_migrate import upgrade

from protokol.extensions import db as _db
from tests.conftest import create_database, drop_database, make_app
from tests.faults.clients import MeetingInSession, prepare_meeting


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[str]:
    """A new database, migrated with Alembic; dropped afterwards (PostgreSQL)."""
    url = create_database(os.environ.get("DATABASE_URL"), tmp_path, "faults")
    try:
        app = make_app(url, tmp_path)
        with app.app_context():
            upgrade()
            _db.engine.dispose()
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def meeting_in_session(own_database: str, tmp_path: Path):
    """prepare(votes=…, secretaries=…, unopened=…) → MeetingInSession on `own_database`."""

    def prepare(**counts: int) -> MeetingInSession:
        return prepare_meeting(own_database, tmp_path, **counts)

    return prepare
