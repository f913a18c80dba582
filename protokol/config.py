"""Configuration classes, loaded with `app.config.from_object`.

Every setting can be overridden from the environment (see `docs/configuration.md`).
"""

import os
from pathlib import Path
from typing import ClassVar

#: Every page's Content-Security-Policy: scripts, styles, images and connections from the
#: site itself only (no inline scripts or styles, no eval), never framed by another site.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:"],
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _style_dirs() -> list[str]:
    return [p for p in os.environ.get("PROTOKOL_STYLE_DIRS", "").split(":") if p]


class Config:
    """Settings shared by every environment."""

    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
    #: Extra folders searched for minutes styles, before the shipped ones.
    PROTOKOL_STYLE_DIRS: tuple[str, ...] = tuple(_style_dirs())
    #: Where uploaded attachments (bilag) are stored; outside the web root.
    ATTACHMENTS_DIR: str | None = os.environ.get("PROTOKOL_ATTACHMENTS_DIR")
    #: Where frozen (published) minutes PDFs are stored, by checksum; outside the web root.
    MINUTES_DIR: str | None = os.environ.get("PROTOKOL_MINUTES_DIR")
    #: How many proxies (nginx) stand in front of Protokol: the client's address and scheme
    #: are then taken from their X-Forwarded-For / X-Forwarded-Proto (the login throttle
    #: counts by address). 0: none, the address is the connection's.
    TRUSTED_PROXIES = int(os.environ.get("PROTOKOL_TRUSTED_PROXIES", "0"))
    #: Behind nginx: the internal location that serves MINUTES_DIR (e.g. "/_frozen/"); frozen
    #: PDFs are then sent by nginx with X-Accel-Redirect after the access check (unset: by
    #: Protokol itself). See docs/deploy.md.
    ACCEL_REDIRECT_PREFIX: str | None = os.environ.get("PROTOKOL_ACCEL_REDIRECT_PREFIX") or None
    #: For how many seconds each process answers a published PDF download it has just
    #: answered again from memory, without the Flask request (minutes/frozen.py): the bound
    #: on how late a correction's new version reaches a download. 0 turns it off.
    FROZEN_CACHE_SECONDS = float(os.environ.get("PROTOKOL_FROZEN_CACHE_SECONDS", "1"))
    #: The municipality the open-data API (OParl) presents as its Body.
    PROTOKOL_MUNICIPALITY = os.environ.get("PROTOKOL_MUNICIPALITY", "Københavns Kommune")
    #: The municipality's website, shown in the OParl Body (optional).
    PROTOKOL_MUNICIPALITY_WEBSITE = os.environ.get("PROTOKOL_MUNICIPALITY_WEBSITE", "")
    #: URL of the licence of the open data (optional), shown in OParl System and Body.
    PROTOKOL_OPEN_DATA_LICENSE = os.environ.get("PROTOKOL_OPEN_DATA_LICENSE", "")
    #: First year of any municipal 4-year term (valgperiode): 2010 gives 2010–2013, 2014–2017…
    PROTOKOL_TERM_ANCHOR_YEAR = int(os.environ.get("PROTOKOL_TERM_ANCHOR_YEAR", "2010"))
    #: The open-data API's cache of serialised meetings and agenda items, per process, in
    #: bytes of JSON text (minutes/oparl/cache.py; 0 turns it off).
    OPARL_CACHE_BYTES = int(os.environ.get("PROTOKOL_OPARL_CACHE_BYTES", 16 * 1024 * 1024))
    #: The address the app is served at ("https://protokol.example.dk/"): the open-data
    #: objects `flask oparl store` stores hold URLs that begin with it (docs/deploy.md).
    PROTOKOL_PUBLIC_URL = os.environ.get("PROTOKOL_PUBLIC_URL", "")
    #: The cache of the public meeting and item pages as anonymous visitors get them, per
    #: process, in bytes of HTML (minutes/page_cache.py; 0 turns it off).
    PAGE_CACHE_BYTES = int(os.environ.get("PROTOKOL_PAGE_CACHE_BYTES", 8 * 1024 * 1024))
    #: Optional: a PKCS#12 file (key and certificate chain) with which every published
    #: minutes PDF is signed (PAdES; minutes/signing.py), and its passphrase.
    SIGNING_PKCS12: str | None = os.environ.get("PROTOKOL_SIGNING_PKCS12") or None
    SIGNING_PASSPHRASE: str | None = os.environ.get("PROTOKOL_SIGNING_PASSPHRASE") or None
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    #: Largest attachment (bilag) accepted, in bytes.
    MAX_ATTACHMENT_BYTES = int(os.environ.get("PROTOKOL_MAX_ATTACHMENT_BYTES", 15 * 1024 * 1024))
    #: Where the login throttle keeps its counts ("memory://", or "redis://127.0.0.1:6379"
    #: when several app server processes run).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    #: The live page (docs/live.md): how often each process looks for new events on
    #: SQLite (PostgreSQL is notified), and on PostgreSQL the least time between two reads
    #: (the events notified meanwhile are read together), the keep-alive interval of a
    #: stream, and after how long the server ends a stream (the browser reconnects where
    #: it left off).
    LIVE_POLL_SECONDS = float(os.environ.get("PROTOKOL_LIVE_POLL_SECONDS", 0.2))
    LIVE_GATHER_SECONDS = float(os.environ.get("PROTOKOL_LIVE_GATHER_SECONDS", 0.1))
    LIVE_KEEPALIVE_SECONDS = float(os.environ.get("PROTOKOL_LIVE_KEEPALIVE_SECONDS", 15))
    LIVE_STREAM_SECONDS = float(os.environ.get("PROTOKOL_LIVE_STREAM_SECONDS", 900))
    #: Where the cyclic garbage collector runs (`protokol.gc_guard`): "auto" (from a
    #: thread of its own on CPython 3.11, whose collections inside allocations crash
    #: ORM-heavy requests), "on" or "off".
    GC_GUARD = os.environ.get("PROTOKOL_GC_GUARD", "auto")
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


class DevelopmentConfig(Config):
    """`make run`: the embedded SQLite database in `instance/`."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False


class TestingConfig(Config):
    """The test suite; the database URL is set by the fixtures."""

    TESTING = True
    SECRET_KEY = "test-only-not-secret"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False


class ProductionConfig(Config):
    """Production: `SECRET_KEY` and `DATABASE_URL` come from the environment, no defaults."""


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def default_sqlite_uri(instance_path: str) -> str:
    """The embedded default database file inside the instance folder."""
    return "sqlite:///" + str(Path(instance_path) / "protokol.sqlite3")
