"""Flask extensions, created unbound here and bound to the app in `create_app`."""

from flask_babel import Babel, gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


def N_(text: str) -> str:
    """Mark a text for translation where it is defined; it is translated where used."""
    return text


#: Naming convention for every constraint, so that migrations name them the same way
#: on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every Protokol model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "accounts.login"
#: Translated per request by localize_callback; N_ marks it for extraction.
login_manager.login_message = N_("Log ind for at se siden.")
login_manager.localize_callback = gettext
login_manager.session_protection = "strong"
#: Rate limits (login throttling). Storage from RATELIMIT_STORAGE_URI; memory by default.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
#: Interface language (Danish by default, English); the minutes keep their style's language.
babel = Babel()
#: Security headers (Content-Security-Policy, frame-ancestors, Referrer-Policy, HSTS on
#: HTTPS, nosniff), configured in `create_app` from `protokol.config.CONTENT_SECURITY_POLICY`.
talisman = Talisman()
