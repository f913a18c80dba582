"""The audit trail: every create, change and delete of the official record is logged with
who, when, what before and what after.

Models that are part of the record inherit `Audited`; a SQLAlchemy `after_flush` hook
writes one `AuditEntry` per changed row, in the same transaction as the change. The actor
is the one set with `set_actor` (views set the logged-in user; the CLI sets none).

The trail is append-only and hash-chained: each entry carries the SHA-256 of the entry
before it (`previous_hash`) and its own (`entry_hash`, over its content and
`previous_hash`), so changing, removing or reordering an entry behind Protokol's back
breaks the chain from there on; `verify_chain` (`flask --app wsgi audit verify`) finds the
first broken link. Entries are chained in commit order: SQLite has one writer at a time,
and on PostgreSQL the writing transaction holds an advisory lock until it ends.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from protokol.extensions import db
from protokol.models import enum_column, utcnow

#: Columns never copied into the trail (bookkeeping, not record content).
IGNORED_COLUMNS = frozenset({"created_at", "modified_at", "version"})
#: Columns whose values never enter the trail; a change shows as "(ændret)".
REDACTED_COLUMNS = frozenset({"password_hash"})
REDACTED = "(ændret)"
#: The `previous_hash` of the first entry.
GENESIS = "0" * 64
#: The fields an entry's hash covers, besides `previous_hash`. Not `actor_id`: it is set
#: to NULL when the user is deleted; `actor_label` keeps who it was.
CHAINED_FIELDS = (
    "created_at",
    "actor_label",
    "action",
    "entity",
    "entity_id",
    "meeting_id",
    "item_id",
    "before",
    "after",
)
#: Key of the PostgreSQL transaction-level advisory lock that orders audit entries (and
#: live events, minutes/live.py) by commit.
CHAIN_LOCK_KEY = 0x70726F746F6B6F6C  # "protokol"


#: `session.info` key: the transaction that holds the chain lock.
_CHAIN_LOCKED = "audit_chain_locked_by"


def hold_chain_lock(session: Session, connection: sa.Connection) -> None:
    """On PostgreSQL, take the chain lock (`CHAIN_LOCK_KEY`) for the rest of the session's
    transaction, unless it holds it already: one statement a transaction, whether it
    writes audit entries, live events or both. Held means taken in the current
    transaction or savepoint or one around it (a savepoint rolled back releases what it
    took; a new transaction holds nothing)."""
    if connection.dialect.name != "postgresql":
        return
    current = session.get_nested_transaction() or session.get_transaction()
    held_by = session.info.get(_CHAIN_LOCKED)
    transaction = current
    while transaction is not None:
        if transaction is held_by:
            return
        transaction = transaction.parent
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    session.info[_CHAIN_LOCKED] = current


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Audited:
    """Mixin for models whose rows are part of the official record."""

    #: Columns of the model that are bookkeeping, not record content, besides
    #: `IGNORED_COLUMNS`: a change of only these writes no entry.
    audit_ignored: ClassVar[frozenset[str]] = frozenset()

    def audit_scope(self) -> tuple[int | None, int | None]:
        """(meeting id, agenda item id) the row belongs to, for the per-item history and
        the lock on approved records."""
        return None, None


def parent_scope(
    obj: Any, relation: str, foreign_key: str, model: type
) -> tuple[int | None, int | None]:
    """The scope of `obj`'s parent: through the relationship when it is set (a new row
    whose key is not yet flushed), else through the stored key (a row just removed from
    its parent's collection)."""
    parent = getattr(obj, relation)
    if parent is None:
        key = getattr(obj, foreign_key)
        session = sa.orm.object_session(obj)
        if key is None or session is None:
            return None, None
        parent = session.get(model, key)
        if parent is None:
            return None, None
    return parent.audit_scope()


class AuditEntry(db.Model):
    """One change to the record."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        sa.Index("ix_audit_entries_item", "item_id", "id"),
        sa.Index("ix_audit_entries_meeting", "meeting_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    #: The user who made the change; NULL for the command line or the system.
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: Who, as text at the time ("sekretaer@kk.dk", "kommandolinje").
    actor_label: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    action: Mapped[AuditAction] = mapped_column(
        enum_column(AuditAction, "audit_action"), nullable=False
    )
    #: The table of the changed row ("votes", "party_votes", ...).
    entity: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    entity_id: Mapped[int] = mapped_column(nullable=False)
    meeting_id: Mapped[int | None] = mapped_column(nullable=True)
    item_id: Mapped[int | None] = mapped_column(nullable=True)
    #: The changed columns' values before (NULL for a create).
    before: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    #: The changed columns' values after (NULL for a delete).
    after: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    #: The `entry_hash` of the entry before this one (`GENESIS` for the first).
    previous_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: SHA-256 of this entry's `CHAINED_FIELDS` and `previous_hash` (`entry_hash`).
    entry_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)


def entry_hash(previous_hash: str, entry: Mapping[str, Any]) -> str:
    """The hash of an entry (a row or a mapping of its columns) following `previous_hash`:
    SHA-256 of its chained fields as canonical JSON."""
    payload = {key: _json(entry[key]) for key in CHAINED_FIELDS}
    payload["previous_hash"] = previous_hash
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ChainReport:
    """The outcome of `verify_chain`."""

    #: Entries checked and found in order (up to the broken one).
    checked: int
    #: The hash of the last good entry: publish it to pin the trail up to that point.
    head: str
    #: The id of the first entry that breaks the chain, and why; None when intact.
    broken_id: int | None = None
    problem: str | None = None

    @property
    def is_intact(self) -> bool:
        return self.broken_id is None


def check_chain(entries: Iterable[Mapping[str, Any]]) -> ChainReport:
    """Check entries (in id order) against each other; stop at the first broken link."""
    previous = GENESIS
    checked = 0
    for entry in entries:
        if entry["previous_hash"] != previous:
            return ChainReport(
                checked,
                previous,
                entry["id"],
                "it does not follow the entry before it: an entry was removed, added or"
                " moved before it",
            )
        if entry_hash(previous, entry) != entry["entry_hash"]:
            return ChainReport(
                checked,
                previous,
                entry["id"],
                "its content does not match its hash: it was changed after it was written",
            )
        previous = entry["entry_hash"]
        checked += 1
    return ChainReport(checked, previous)


def verify_chain(connection: sa.Connection) -> ChainReport:
    """Check the whole audit trail, streaming it in id order."""
    table = AuditEntry.__table__
    rows = connection.execution_options(yield_per=5000).execute(
        sa.select(table).order_by(table.c.id)
    )
    try:
        return check_chain(row._mapping for row in rows)
    finally:
        rows.close()  # a server-side cursor on PostgreSQL, when the check stops early


def set_actor(session: Session, actor: Any | None) -> None:
    """Attribute the session's coming changes to `actor` (a User, or None: command line)."""
    session.info["audit_actor"] = actor


def _json(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _columns(obj: Any) -> list[str]:
    ignored = IGNORED_COLUMNS | obj.audit_ignored
    return [c.key for c in sa.inspect(obj).mapper.column_attrs if c.key not in ignored]


def _value(key: str, value: Any) -> Any:
    return REDACTED if key in REDACTED_COLUMNS else _json(value)


def _snapshot(obj: Any) -> dict[str, Any]:
    return {key: _value(key, getattr(obj, key)) for key in _columns(obj)}


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = sa.inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        before[key] = _value(key, old)
        after[key] = _value(key, new)
    return before, after


def _entry(obj: Any, action: AuditAction, actor: Any, before, after) -> dict[str, Any]:
    meeting_id, item_id = obj.audit_scope()
    return {
        "created_at": utcnow(),
        "actor_id": getattr(actor, "id", None),
        "actor_label": getattr(actor, "email", None) or "kommandolinje",
        "action": action.value,
        "entity": obj.__tablename__,
        "entity_id": sa.inspect(obj).mapper.primary_key_from_instance(obj)[0],
        "meeting_id": meeting_id,
        "item_id": item_id,
        "before": before,
        "after": after,
    }


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _context: Any) -> None:
    actor = session.info.get("audit_actor")
    rows: list[dict[str, Any]] = []
    for obj in session.new:
        if isinstance(obj, Audited):
            rows.append(_entry(obj, AuditAction.CREATE, actor, None, _snapshot(obj)))
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after or before:
                rows.append(_entry(obj, AuditAction.UPDATE, actor, before, after))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            rows.append(_entry(obj, AuditAction.DELETE, actor, _snapshot(obj), None))
    if rows:
        connection = session.connection()
        # Held until the transaction ends: the next writer chains onto these entries.
        hold_chain_lock(session, connection)
        table = AuditEntry.__table__
        previous = (
            connection.execute(
                sa.select(table.c.entry_hash).order_by(table.c.id.desc()).limit(1)
            ).scalar()
            or GENESIS
        )
        for row in rows:
            row["previous_hash"] = previous
            previous = row["entry_hash"] = entry_hash(previous, row)
        connection.execute(sa.insert(table), rows)


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    """The trail is append-only: no change or delete of an entry through the ORM."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEntry):
            raise AuditTrailIsAppendOnly("the audit trail is append-only")


class AuditTrailIsAppendOnly(Exception):
    """A change or delete of an audit entry was attempted."""
