"""The open-data API's stored objects: the meetings and agenda items (the objects that
embed a meeting's record) as the JSON text the API serves, kept in the database
(`OparlDocument`) so that a list page no process has in its cache is read, not built.

`flask oparl store` (`refresh`) makes the text of every object whose stored text is
missing or out of date, for one address (the objects hold absolute URLs), in batches of
one transaction each, and removes the texts of objects the lists no longer show; run it
after each deploy and then every few minutes (docs/deploy.md). The lists read a stored
text only while its key is still the object's key: the object's `modified` stamp, the
newest audit entry and frozen minutes version of its meeting, the newest audit entry
outside any meeting (the per-process cache's key, `minutes/oparl/cache.py`), and a
fingerprint of the code, libraries, styles and settings that make the text.
Anything else, including whatever changed since the last `store`, is built as before
and kept in the process's cache. A list request never writes.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from minutes.cache import audit_heads
from minutes.models import OparlDocument
from minutes.oparl import queries
from minutes.oparl.common import dumps
from minutes.oparl.serializers import Serializer
from minutes.styles import SHIPPED_STYLES_DIR
from protokol.extensions import db
from protokol.models import dialect_name, utcnow

#: The app's fingerprint of the code and settings that make the texts (`fingerprint`).
FINGERPRINT = "protokol.oparl_fingerprint"
#: The packages whose code makes the texts (the serializers and what they call).
PACKAGES = ("protokol", "meetings", "motions", "votes", "minutes")
#: The settings the serializer reads (of `PROTOKOL_STYLE_DIRS`, the styles' files).
SETTINGS = (
    "PROTOKOL_MUNICIPALITY",
    "PROTOKOL_MUNICIPALITY_WEBSITE",
    "PROTOKOL_OPEN_DATA_LICENSE",
    "PROTOKOL_TERM_ANCHOR_YEAR",
)
#: The libraries whose versions can change a text: they build URLs, render the styles'
#: decisions, format numbers and times.
DISTRIBUTIONS = (
    "Flask",
    "Werkzeug",
    "Jinja2",
    "MarkupSafe",
    "Babel",
    "Flask-Babel",
    "SQLAlchemy",
    "tzdata",
)
#: Objects made, and stored, in one transaction.
BATCH = 100
#: PostgreSQL: after storing this many texts, `ANALYZE` the table.
ANALYZE_AFTER = 1000

#: The stored kinds: their sources (all of each kind the lists show).
SOURCES: dict[str, Callable[[], queries.Source]] = {
    "meeting": queries.meetings,
    "agendaItem": queries.agenda_items,
}


def serialize(kind: str, serializer: Serializer, rows: list[Any]) -> list[dict[str, Any]]:
    """The OParl objects of a page's (object, created, modified) rows of a stored kind."""
    if kind == "meeting":
        serializer.prefetch_minutes(m.id for m, _, _ in rows)
        return [serializer.meeting(m, created, modified) for m, created, modified in rows]
    return [serializer.agenda_item(i, created, modified) for i, created, modified in rows]


def _files(root: Path, pattern: str) -> Iterator[Path]:
    return (p for p in sorted(root.rglob(pattern)) if p.is_file())


def _digest(digest: Any, folders: Iterable[tuple[str, Path, str]]) -> None:
    for label, folder, pattern in folders:
        # Paths within their folder: machines that install the same release, or keep the
        # same styles, in other places share one fingerprint.
        for path in _files(folder, pattern):
            digest.update(f"{label}/{path.relative_to(folder)}\0".encode())
            digest.update(path.read_bytes() + b"\0")


def _code_digest() -> str:
    """The code that makes the texts: the project's packages, the versions of what renders
    and stamps them, and Python's. Read when this module is imported, right after the
    code it names, so that a deploy under way cannot pair old code with new files."""
    digest = hashlib.sha256(sys.version.encode())
    root = Path(__file__).resolve().parents[2]
    _digest(digest, ((package, root / package, "*.py") for package in PACKAGES))
    for distribution in DISTRIBUTIONS:
        try:
            digest.update(f"{distribution}=={metadata.version(distribution)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{distribution} missing\0".encode())
    return digest.hexdigest()


CODE_DIGEST = _code_digest()


def fingerprint(app: Flask) -> str:
    """A digest of what makes the texts besides the record: the code (`CODE_DIGEST`), the
    minutes styles' files (a decision's text is a style's) and the serializer's settings.
    Computed once per process (a process reads its styles once); a deploy that changes
    any of them makes every stored text out of date."""
    cached = app.extensions.get(FINGERPRINT)
    if cached is not None:
        return cached
    digest = hashlib.sha256(CODE_DIGEST.encode())
    styles = [SHIPPED_STYLES_DIR, *map(Path, app.config["PROTOKOL_STYLE_DIRS"])]
    _digest(
        digest,
        ((f"styles {n}", folder, "*") for n, folder in enumerate(styles) if folder.is_dir()),
    )
    for name in SETTINGS:
        digest.update(f"{name}={app.config.get(name)!r}\0".encode())
    value = app.extensions[FINGERPRINT] = digest.hexdigest()[:24]
    return value


def key_of(modified: Any, heads: tuple[int, int], general_head: int, print_: str) -> str:
    """A stored text's key (see the module docstring): `heads` are its meeting's newest
    audit entry and frozen minutes version (`minutes.cache.audit_heads`)."""
    audit, minutes = heads
    return f"{modified}|{audit}|{minutes}|{general_head}|{print_}"


def read(kind: str, base_url: str, keys: dict[int, str]) -> dict[int, str]:
    """The stored texts of these objects (id → its current key) at `base_url` whose key
    is still that key: one statement."""
    if not keys:
        return {}
    rows = db.session.execute(
        sa.select(OparlDocument.object_id, OparlDocument.key, OparlDocument.text).where(
            OparlDocument.kind == kind,
            OparlDocument.base_url == base_url,
            OparlDocument.object_id.in_(list(keys)),
        )
    )
    return {object_id: text for object_id, key, text in rows if keys[object_id] == key}


@dataclass
class StoreReport:
    """What one `refresh` did, per kind: texts made, texts already current, texts removed."""

    stored: dict[str, int]
    current: dict[str, int]
    removed: dict[str, int]


def keys_of(rows: Iterable[Any], print_: str) -> dict[int, str]:
    """The keys now of the objects of (id, meeting id, modified) rows (`Source.keys`), by
    id, with the fingerprint `print_`: one statement for the heads."""
    rows = list(rows)
    general, heads = audit_heads(meeting_id for _, meeting_id, _ in rows)
    return {
        object_id: key_of(modified, heads[meeting_id], general, print_)
        for object_id, meeting_id, modified in rows
    }


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    return (ids[i : i + size] for i in range(0, len(ids), size))


def _upsert(documents: list[dict[str, Any]]) -> None:
    """Insert the texts, or replace those of the same kind, address and object."""
    if dialect_name() == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(OparlDocument)
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "base_url", "object_id"],
        set_={"key": stmt.excluded.key, "text": stmt.excluded.text, "stored_at": utcnow()},
    )
    db.session.execute(stmt, documents)


def refresh(
    app: Flask,
    base_url: str,
    *,
    batch: int = BATCH,
    analyze_after: int = ANALYZE_AFTER,
) -> StoreReport:
    """Make and store the text of every meeting and agenda item at `base_url` whose stored
    text is missing or out of date, `batch` objects a transaction (committed here: this
    is a maintenance command's work, not a request's), and remove the texts of objects
    the lists no longer show. Each key is read before its object: a write in between
    makes the stored key out of date at once, so a stored text never outlives what it
    shows."""
    print_ = fingerprint(app)
    report = StoreReport({}, {}, {})
    for kind in SOURCES:
        keys = keys_of(SOURCES[kind]().keys(), print_)
        stored = dict(
            db.session.execute(
                sa.select(OparlDocument.object_id, OparlDocument.key).where(
                    OparlDocument.kind == kind, OparlDocument.base_url == base_url
                )
            ).all()
        )
        db.session.rollback()  # the keys are read; each batch reads its objects afresh
        gone = [object_id for object_id in stored if object_id not in keys]
        stale = sorted(i for i, key in keys.items() if stored.get(i) != key)
        report.current[kind] = len(keys) - len(stale)
        report.stored[kind] = 0
        for ids in _chunks(stale, batch):
            report.stored[kind] += _store_batch(app, kind, base_url, ids, keys)
        for ids in _chunks(gone, 1000):
            db.session.execute(
                sa.delete(OparlDocument).where(
                    OparlDocument.kind == kind,
                    OparlDocument.base_url == base_url,
                    OparlDocument.object_id.in_(ids),
                )
            )
            db.session.commit()
        report.removed[kind] = len(gone)
    if sum(report.stored.values()) >= analyze_after and dialect_name() == "postgresql":
        # The planner's statistics, at once rather than when autovacuum comes by: on the
        # freshly stored benchmark record a page read the table through, 25 ms a page.
        db.session.execute(sa.text(f"ANALYZE {OparlDocument.__tablename__}"))
        db.session.commit()
    return report


def _store_batch(app: Flask, kind: str, base_url: str, ids: list[int], keys: dict[int, str]) -> int:
    """Make the texts of these objects (those still shown) and store them in one
    transaction; returns how many were stored."""
    # An app context of its own: its `g` holds no URLs made at another address
    # (`serializers.url`), and its session commits only this batch.
    with app.app_context(), app.test_request_context(base_url=base_url):
        serializer = Serializer(current_app.config)
        rows = SOURCES[kind]().rows_by_id(ids)
        documents = [
            {
                "kind": kind,
                "base_url": base_url,
                "object_id": row[0].id,
                "key": keys[row[0].id],
                "text": dumps(data),
                "stored_at": utcnow(),
            }
            for row, data in zip(rows, serialize(kind, serializer, rows), strict=True)
        ]
        if documents:
            _upsert(documents)
        db.session.commit()
    return len(documents)
