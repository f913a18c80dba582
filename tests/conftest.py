"""Fixtures: a migrated database of the kind DATABASE_URL names (SQLite by default; a
fresh PostgreSQL database per run when it names a PostgreSQL server), the app, a client,
a CLI runner, and factories for the record."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, g, request_started
from flask.testing import FlaskClient, FlaskCliRunner

os.environ["PROTOKOL_ENV"] = "testing"

from protokol import create_app
from protokol.extensions import db as _db
from protokol.extensions import limiter
from tests.factories import Factories

#: shared/ lies beside the checkout (as on the developers' machines and in CI). A copy of
#: its reference files is kept in tests/data/reference for a checkout elsewhere; a test
#: checks that the copy equals shared/ whenever shared/ is there.
SHARED = Path(os.environ.get("PROTOKOL_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
VENDORED_REFERENCE = Path(__file__).resolve().parent / "data" / "reference"
REFERENCE = SHARED / "reference" if (SHARED / "reference").is_dir() else VENDORED_REFERENCE


def pytest_report_header(config) -> str:
    url = os.environ.get("DATABASE_URL", "")
    return f"protokol database: {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}"


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def create_database(base_url: str | None, tmp_dir: Path, label: str) -> str:
    """A new, empty database of the configured kind; returns its URL."""
    if base_url and is_postgres(base_url):
        url = sa.make_url(base_url)
        name = f"protokol_{label}_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return url.set(database=name).render_as_string(hide_password=False)
    return f"sqlite:///{tmp_dir / f'{label}.sqlite3'}"


def drop_database(url: str) -> None:
    if is_postgres(url):
        parsed = sa.make_url(url)
        base = os.environ["DATABASE_URL"]
        engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        engine.dispose()


def make_app(database_url: str, tmp_path: Path, **overrides) -> Flask:
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        "MINUTES_DIR": str(tmp_path / "minutes"),
        "PROTOKOL_STYLE_DIRS": [],
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    """Hash test passwords with a fast argon2 setting: the production one takes about half
    a second a hash on purpose, and most tests log someone in."""
    from argon2 import PasswordHasher

    from protokol.accounts import services as account_services

    monkeypatch.setattr(
        account_services, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """The run's database, migrated to the newest revision with Alembic."""
    from flask_migrate import upgrade

    url = create_database(os.environ.get("DATABASE_URL"), tmp_path_factory.mktemp("db"), "test")
    app = make_app(url, tmp_path_factory.mktemp("migrate"))
    with app.app_context():
        upgrade()
        _db.engine.dispose()
    yield url
    drop_database(url)


def _empty_tables() -> None:
    tables = [t for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


def _fresh_g(_sender, **_extra) -> None:
    """Every request starts with an empty `g`, as in production. The `app` fixture keeps an
    app context pushed for the whole test, so the test client's requests would otherwise
    share one `g` (Flask-Login's cached user, the login throttle's flags)."""
    vars(g._get_current_object()).clear()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on the run's database, inside an app context; tables emptied afterwards,
    and the live page's broadcaster threads stopped (they would carry the ids they saw
    into the next test)."""
    from minutes.broadcast import stop_all

    app = make_app(database_url, tmp_path)
    request_started.connect(_fresh_g, app, weak=False)
    with app.app_context():
        try:
            yield app
        finally:
            _db.session.remove()
            stop_all()
            _empty_tables()
            _db.engine.dispose()
            limiter.reset()


@pytest.fixture
def db(app: Flask):
    return _db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def factories(db) -> Factories:
    return Factories(db.session)


@pytest.fixture
def make_meeting(factories: Factories):
    return factories.meeting


@pytest.fixture
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.fail(f"the shared reference is missing at {REFERENCE}")
    return REFERENCE


@pytest.fixture
def make_user(db):
    """Create a user: make_user("secretary", bodies=[body]) → User (password "password-123")."""
    from protokol.accounts.models import Role
    from protokol.accounts.services import create_user

    counter = iter(range(1, 10_000))

    def make(
        role: str = "secretary",
        *,
        email: str | None = None,
        bodies=(),
        member=None,
        password: str = "password-123",
    ):
        user = create_user(
            email or f"{role}{next(counter)}@example.dk",
            Role(role),
            password,
            name=f"Test {role}",
            member_id=member.id if member is not None else None,
            body_ids=[b.id for b in bodies],
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Log a user in through the login form: login(user) (password "password-123")."""

    def do(user, password: str = "password-123"):
        from flask import current_app

        current_app.config["WTF_CSRF_ENABLED"] = False
        try:
            response = client.post("/login", data={"email": user.email, "password": password})
        finally:
            current_app.config["WTF_CSRF_ENABLED"] = True
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return do


@pytest.fixture
def csrf_token(client):
    """A valid CSRF token for the client's session, read from a rendered form."""
    import re

    def token(page: str = "/login") -> str:
        html = client.get(page).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', html
        )
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    return token


@pytest.fixture
def post(client, csrf_token):
    """POST a form with a valid CSRF token: post(url, data, token_page=url or "/login")."""

    def do(url: str, data: dict | None = None, *, token_page: str = "/login", **kwargs):
        payload = dict(data or {})
        payload.setdefault("csrf_token", csrf_token(token_page))
        return client.post(url, data=payload, **kwargs)

    return do


@pytest.fixture
def demo_id(app) -> int:
    """The demo meeting of 6 December 2010, loaded; its id."""
    from protokol.cli import load_demo

    meeting_id, created = load_demo()
    assert created
    return meeting_id


@pytest.fixture
def closed_item(db, demo_id, factories) -> int:
    """A closed item 15 (lukket punkt) with content on the demo meeting; the meeting's id."""
    from meetings.models import Meeting
    from motions.models import MotionKind

    meeting = db.session.get(Meeting, demo_id)
    item = factories.item(
        meeting,
        15,
        title="Personalesag",
        is_closed=True,
        case_number="2010-999999",
        summary="Fortrolig oplysning om en ansat.",
    )
    factories.motion(item, MotionKind.AMENDMENT, party="C", text="Hemmeligt ændringsforslag.")
    factories.decision(item, "approved")
    db.session.commit()
    return demo_id


@pytest.fixture
def publish(app):
    """Take a meeting through its lifecycle to published: publish(meeting_id) → meeting_id.
    The members who attended approve; the PDFs of the meeting and each item are frozen."""
    from protokol.cli import publish_meeting

    def do(meeting_id: int) -> int:
        publish_meeting(meeting_id)
        return meeting_id

    return do


@pytest.fixture
def published_demo(demo_id, publish) -> int:
    """The demo meeting with its minutes published; its id."""
    return publish(demo_id)


@pytest.fixture
def published_closed_item(closed_item, publish) -> int:
    """The demo meeting with the closed item 15, published; its id."""
    return publish(closed_item)
