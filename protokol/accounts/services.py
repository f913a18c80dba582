"""Account services: password hashing (argon2id), creating users, authenticating."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from protokol.accounts.models import Role, User
from protokol.extensions import db
from protokol.models import utcnow

_hasher = PasswordHasher()
#: Verified against when the account does not exist, so that the answer takes as long.
_DUMMY_HASH = _hasher.hash("not-a-password")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """An account cannot be created or changed as asked."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def generate_password() -> str:
    """A random password, printable once."""
    return secrets.token_urlsafe(12)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    email: str,
    role: Role,
    password: str,
    *,
    name: str = "",
    member_id: int | None = None,
    body_ids: list[int] | None = None,
) -> User:
    """Create a user (adds and flushes)."""
    from meetings.models import Body, Member

    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError(f"ugyldig e-mailadresse: {email!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"adgangskoden skal have mindst {MIN_PASSWORD_LENGTH} tegn")
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"der findes allerede en bruger med e-mail {email}")
    if role == Role.MEMBER:
        if member_id is None or db.session.get(Member, member_id) is None:
            raise AccountError(
                "en bruger med rollen member skal knyttes til et medlem (--member-id)"
            )
        if db.session.scalar(sa.select(User.id).where(User.member_id == member_id)):
            raise AccountError(f"medlem {member_id} har allerede en bruger")
    user = User(
        email=email,
        role=role,
        name=name,
        password_hash=hash_password(password),
        member_id=member_id if role == Role.MEMBER else None,
    )
    for body_id in body_ids or []:
        body = db.session.get(Body, body_id)
        if body is None:
            raise AccountError(f"intet udvalg med id {body_id}")
        user.bodies.append(body)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (taking as long either way)."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user
