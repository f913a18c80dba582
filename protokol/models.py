"""Shared model pieces: timestamps and the string-backed enum column type."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    """The current time in UTC, without tzinfo (the form stored in the database)."""
    return datetime.now(UTC).replace(tzinfo=None)


def enum_column(enum_type: type[enum.Enum], name: str) -> sa.Enum:
    """A VARCHAR column with a named CHECK constraint holding an enum's values."""
    return sa.Enum(
        enum_type,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_type),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class TimestampMixin:
    """`created_at` and `modified_at` (UTC) on records that open data exposes."""

    #: When the row was created (UTC).
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    #: When the row was last changed (UTC).
    modified_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)
