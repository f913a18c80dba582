"""Who may use which view: every view states its roles with `@allow(...)`.

An anonymous request to a view that needs a login is redirected to the login page; a
logged-in user without the role gets 403. `PUBLIC` views need no login.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

from protokol.accounts.models import Role
from protokol.extensions import login_manager

PUBLIC = "public"
#: Every logged-in role.
ANY_USER = (Role.ADMIN, Role.SECRETARY, Role.MEMBER)


def allow(*roles: Role | str) -> Callable:
    """Declare the roles that may use a view (`PUBLIC`: everyone, no login)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if PUBLIC not in roles:
                if not current_user.is_authenticated:
                    return login_manager.unauthorized()
                if current_user.role not in roles:
                    abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(str(r) for r in roles)  # type: ignore[attr-defined]
        return wrapped

    return decorator


def require_body(body_id: int) -> None:
    """403 unless the logged-in user manages the body (admin, or its secretary)."""
    if not current_user.is_authenticated or not current_user.may_manage_body(body_id):
        abort(403)
