"""Protokol: council meeting and voting records, and the minutes made from them.

This core package holds the app factory, configuration, extensions and CLI; the domain
lives in the top-level packages `meetings`, `motions`, `votes` and `minutes`.
"""

import os
import sqlite3
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import joinedload
from werkzeug.routing import IntegerConverter

from protokol.config import CONFIGS, CONTENT_SECURITY_POLICY, default_sqlite_uri
from protokol.extensions import babel, csrf, db, limiter, login_manager, migrate, talisman
from protokol.forms import ProtokolRequest
from protokol.i18n import init_app as init_i18n
from protokol.i18n import select_locale
from protokol.models import include_object
from protokol.warmup import warm_up

__all__ = ["create_app", "warm_up"]


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


class BoundedInteger(IntegerConverter):
    """`<int:...>` in every route, at most 2**31 - 1 (PostgreSQL's `integer`) unless a
    rule says otherwise: a larger number in a URL is a 404, never a database error."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


#: Key in `app.extensions`: URL prefixes whose error answers are JSON, not pages.
JSON_ERROR_PREFIXES = "protokol.json_error_prefixes"


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
    app.request_class = ProtokolRequest
    app.url_map.converters["int"] = BoundedInteger
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
    if not app.config.get("MINUTES_DIR"):
        app.config["MINUTES_DIR"] = os.path.join(app.instance_path, "minutes")
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in the environment in production")

    from protokol import gc_guard

    if gc_guard.wanted(str(app.config.get("GC_GUARD", "auto"))):
        gc_guard.install()
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    init_i18n(app)
    talisman.init_app(
        app,
        # nginx redirects to HTTPS (docs/deploy.md); HSTS is sent on HTTPS requests.
        force_https=False,
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="strict-origin-when-cross-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )

    _import_models()
    _register_blueprints(app)
    _register_cli(app)
    _register_hooks(app)
    from minutes.frozen import init_app as init_frozen_downloads

    init_frozen_downloads(app)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxies = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    return app


def _import_models() -> None:
    """Import every domain's models so that the metadata is complete."""
    import meetings.locking
    import meetings.models  # noqa: F401
    import minutes.live
    import minutes.models
    import minutes.search  # noqa: F401
    import motions.models  # noqa: F401
    import protokol.accounts.models
    import protokol.audit
    import protokol.idempotency  # noqa: F401
    import votes.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from meetings.admin import bp as admin_bp
    from meetings.views import bp as meetings_bp
    from minutes.console import bp as console_bp
    from minutes.lifecycle_views import bp as lifecycle_bp
    from minutes.live_views import bp as live_bp
    from minutes.member_views import bp as member_bp
    from minutes.oparl.views import bp as oparl_bp
    from minutes.portal import bp as portal_bp
    from minutes.review_views import bp as review_bp
    from minutes.search_views import bp as search_bp
    from minutes.views import bp as minutes_bp
    from protokol.accounts.views import bp as accounts_bp

    for blueprint in (
        accounts_bp,
        meetings_bp,
        minutes_bp,
        console_bp,
        admin_bp,
        member_bp,
        review_bp,
        lifecycle_bp,
        oparl_bp,
        portal_bp,
        live_bp,
        search_bp,
    ):
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from protokol.cli import register

    register(app)


def _register_hooks(app: Flask) -> None:
    from flask import render_template, request
    from flask_babel import gettext as _
    from flask_babel import lazy_gettext as _l
    from flask_login import current_user
    from flask_wtf.csrf import CSRFError

    from protokol.accounts.models import User
    from protokol.audit import set_actor
    from protokol.idempotency import new_key

    app.jinja_env.globals["submission_key"] = new_key

    # Read as stored now (`populate_existing`: even where the session holds a copy), with
    # the bodies a secretary manages, which every console request checks: one statement,
    # not a second one at the first check. Built once: its loader options and cache key
    # are not made again for every request.
    user_query = (
        sa.select(User)
        .where(User.id == sa.bindparam("user_id"))
        .options(joinedload(User.bodies))
        .execution_options(populate_existing=True)
    )

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        if not user_id.isdigit():
            return None
        result = db.session.execute(user_query, {"user_id": int(user_id)})
        user = result.unique().scalar_one_or_none()
        return user if user is not None and user.is_active else None

    @app.before_request
    def attribute_changes() -> None:
        set_actor(db.session, current_user if current_user.is_authenticated else None)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        message = _(
            "Formularen er udløbet eller mangler sikkerhedsnøglen. Genindlæs siden og prøv igen."
        )
        return render_template("error.html", code=400, message=message), 400

    def error_page(code: int, message: str):
        def handler(error):
            db.session.rollback()
            # An API (a blueprint that registered its prefixes in JSON_ERROR_PREFIXES)
            # answers errors outside its routes in JSON too, e.g. /oparl/v1/body/-1.
            if request.path.startswith(tuple(app.extensions.get(JSON_ERROR_PREFIXES, ()))):
                description = getattr(error, "description", None) or str(message)
                return {"error": {"code": code, "message": description}}, code
            return render_template("error.html", code=code, message=str(message)), code

        return handler

    app.register_error_handler(403, error_page(403, _l("Du har ikke adgang til denne side.")))
    app.register_error_handler(404, error_page(404, _l("Siden findes ikke.")))
    app.register_error_handler(405, error_page(405, _l("Metoden er ikke tilladt her.")))
    app.register_error_handler(413, error_page(413, _l("Filen er for stor.")))
    app.register_error_handler(
        429, error_page(429, _l("For mange forsøg. Vent lidt, og prøv igen."))
    )
