"""Login and logout, with throttling of failed attempts per address and per account."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from protokol.accounts.forms import LoginForm
from protokol.accounts.services import authenticate, normalise_email
from protokol.auth import ANY_USER, PUBLIC, allow
from protokol.extensions import db, limiter

bp = Blueprint("accounts", __name__)

#: Failed logins allowed from one address, then 429.
ADDRESS_LIMIT = "20 per minute;100 per hour"
#: Failed logins allowed for one account, then 429.
ACCOUNT_LIMIT = "5 per minute;20 per hour"


def _failed(_response) -> bool:
    return bool(g.get("login_failed"))


def _account_key() -> str:
    return "account:" + normalise_email(request.form.get("email", ""))[:254]


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("portal.home")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(ADDRESS_LIMIT, methods=["POST"], deduct_when=_failed)
@limiter.limit(ACCOUNT_LIMIT, methods=["POST"], deduct_when=_failed, key_func=_account_key)
def login():
    """Roles: everyone. Log in with e-mail and password."""
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        g.login_failed = True
        form.password.errors.append(_("Forkert e-mail eller adgangskode."))
        return render_template("accounts/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@allow(*ANY_USER)
def logout():
    """Roles: anyone logged in. Log out."""
    logout_user()
    flash(_("Du er logget ud."), "info")
    return redirect(url_for("portal.home"))
