"""Submission keys: a form submitted twice (a retry after a lost answer, a double click)
is carried out once.

Every live console form carries a fresh random key (`submission_key()` in its template).
The write that carries it out stores the key in the same transaction, so the key is
stored if and only if the write is: a retry of a write that was committed finds its key
and is answered with the state as saved, and a retry of one that was not (the connection
died before the commit) is carried out.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from protokol.extensions import db
from protokol.models import utcnow

#: The form field that carries the key.
FIELD = "submission_key"
KEY_PATTERN = re.compile(r"[0-9a-f]{32}")


class SubmissionKey(db.Model):
    """A submission that has been carried out."""

    __tablename__ = "submission_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(32), nullable=False, unique=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)


class InvalidSubmissionKey(ValueError):
    """A key that is not one Protokol made."""


def new_key() -> str:
    """A fresh key for a form (`submission_key()` in templates)."""
    return uuid.uuid4().hex


def checked_key(raw: str | None) -> str | None:
    """The key sent with a form, if any; InvalidSubmissionKey when it is malformed."""
    if not raw:
        return None
    if not KEY_PATTERN.fullmatch(raw):
        raise InvalidSubmissionKey(raw[:40])
    return raw


def is_done(key: str) -> bool:
    """Whether the submission with `key` has been carried out (committed)."""
    return db.session.scalar(sa.select(sa.exists().where(SubmissionKey.key == key))) or False


def _claiming_insert(insert: Any) -> sa.Insert:
    return (
        insert(SubmissionKey.__table__)
        .values(key=sa.bindparam("key"), user_id=sa.bindparam("user_id"))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(SubmissionKey.id)  # no row when the key was there
    )


#: `claim`'s statement for each database Protokol runs on, built once.
_CLAIMS = {name: _claiming_insert(insert) for name, insert in (
    ("postgresql", postgresql.insert), ("sqlite", sqlite.insert)
)}  # fmt: skip


def claim(key: str, actor: Any) -> bool:
    """Store `key` for the write about to be made in this transaction, unless it is
    stored: False when the submission has been carried out already. A parallel request
    with the same key, not yet committed, is waited for (PostgreSQL waits on the key's
    unique index, SQLite lets one writer at a time): False when it commits, True when it
    rolls back. The caller commits the key with the write, or rolls both back."""
    statement = _CLAIMS[db.session.get_bind().dialect.name]
    result = db.session.execute(statement, {"key": key, "user_id": getattr(actor, "id", None)})
    return result.scalar() is not None
