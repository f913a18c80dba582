"""Shared model pieces: timestamps and the string-backed enum column type."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from protokol.extensions import db


def dialect_name() -> str:
    """The name of the database dialect the session talks to ("sqlite", "postgresql")."""
    return db.session.get_bind().dialect.name


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


#: Database objects that a migration creates by hand and no model describes — an
#: engine's full-text index (an FTS5 table and its shadow tables on SQLite, a generated
#: tsvector column and its GIN index on PostgreSQL). The package that owns them declares
#: them with `migration_only`; Alembic's comparison of models and database (autogenerate,
#: and the migrations test) leaves them out through `include_object`.
MIGRATION_ONLY: dict[str, set[str]] = {"table": set(), "column": set(), "index": set()}


def migration_only(
    *, table: tuple[str, ...] = (), column: tuple[str, ...] = (), index: tuple[str, ...] = ()
) -> None:
    """Declare migration-only objects: table names (a trailing `*` matches a prefix),
    columns as `table.column`, index names."""
    MIGRATION_ONLY["table"].update(table)
    MIGRATION_ONLY["column"].update(column)
    MIGRATION_ONLY["index"].update(index)


def _declared(kind: str, name: str) -> bool:
    return any(
        name == pattern or (pattern.endswith("*") and name.startswith(pattern[:-1]))
        for pattern in MIGRATION_ONLY.get(kind, ())
    )


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """Alembic hook: compare everything except a declared migration-only object found in
    the database with no model counterpart."""
    if not reflected or compare_to is not None or name is None:
        return True
    if type_ == "column":
        name = f"{obj.table.name}.{name}"  # type: ignore[attr-defined]
    return not _declared(type_, name)
