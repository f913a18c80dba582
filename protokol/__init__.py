"""Protokol: council meeting and voting records, and the minutes made from them.

This core package holds the app factory, configuration, extensions and CLI; the domain
lives in the top-level packages `meetings`, `motions`, `votes` and `minutes`.
"""

import os
import sqlite3
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from protokol.config import CONFIGS, default_sqlite_uri
from protokol.extensions import csrf, db, migrate


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: enforce foreign keys, write-ahead log, full durability, wait on locks."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()


def create_app(config: str | type | dict[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    `config` is the name of a configuration class ("development", "testing",
    "production"), a class, or a mapping of settings applied over the configuration
    that `PROTOKOL_ENV` names (development by default).
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates"),
    )
    overrides: dict[str, Any] = {}
    if isinstance(config, dict):
        overrides = config
        config = None
    if config is None:
        config = os.environ.get("PROTOKOL_ENV", "development")
    app.config.from_object(CONFIGS[config] if isinstance(config, str) else config)
    app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = default_sqlite_uri(app.instance_path)
    if not app.config.get("ATTACHMENTS_DIR"):
        app.config["ATTACHMENTS_DIR"] = os.path.join(app.instance_path, "attachments")
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in the environment in production")

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)

    _import_models()
    _register_blueprints(app)
    _register_cli(app)
    return app


def _import_models() -> None:
    """Import every domain's models so that the metadata is complete."""
    import meetings.models  # noqa: F401
    import minutes.models  # noqa: F401
    import motions.models  # noqa: F401
    import votes.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from meetings.views import bp as meetings_bp
    from minutes.views import bp as minutes_bp

    app.register_blueprint(meetings_bp)
    app.register_blueprint(minutes_bp)


def _register_cli(app: Flask) -> None:
    from protokol.cli import register

    register(app)
