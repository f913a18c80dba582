"""Per-process caches of what Protokol makes from the record (the open-data API's
objects, the public pages of meetings), and the record's heads their keys are made of.

The heads: the newest audit entry of a meeting (every write to the meeting, its items,
motions, votes, remarks and attendance is audited in the same transaction,
`protokol.audit`), the newest audit entry outside any meeting (bodies, parties, members,
seats), and a meeting's newest frozen minutes version (a correction adds one and changes
no audited row: the record itself stays as it was). A key made of them changes whenever
anything a cached text shows can have changed; it is never updated in place, and an old
entry ages out.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable

import sqlalchemy as sa
from cachetools import LRUCache
from sqlalchemy.orm import aliased

from meetings.models import Meeting
from minutes.models import PublishedMinutes
from protokol.audit import AuditEntry
from protokol.extensions import db


class ObjectCache:
    """Texts (JSON, or HTML as bytes) by key, at most `max_bytes` of them, the least
    recently used dropped first (cachetools' `LRUCache`, sized by `len`), behind a lock
    (gunicorn and a2wsgi threads share it)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._entries: LRUCache[Hashable, str | bytes] = LRUCache(max(max_bytes, 1), len)
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        return self._entries.currsize

    def get(self, key: Hashable) -> str | bytes | None:
        with self._lock:
            text = self._entries.get(key)
            if text is None:
                self.misses += 1
            else:
                self.hits += 1
            return text

    def put(self, key: Hashable, text: str | bytes) -> None:
        if len(text) > self.max_bytes:
            return
        with self._lock:
            self._entries[key] = text

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


def _newest_outside_any_meeting() -> sa.ScalarSelect:
    """The id of the newest audit entry outside any meeting: one step down the index by
    meeting and id (a `max(id)` over `meeting_id IS NULL` without the ordering scans)."""
    entry = aliased(AuditEntry)
    return (
        sa.select(entry.id)
        .where(entry.meeting_id.is_(None))
        .order_by(entry.meeting_id.desc(), entry.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def audit_heads(meeting_ids: Iterable[int]) -> tuple[int, dict[int, tuple[int, int]]]:
    """The id of the newest audit entry outside any meeting, and of each meeting its
    newest entry's and its newest frozen minutes version's (0 where there is none; a
    correction adds a version and no audit entry): one statement, each head one step down
    an index (a `max(id)` over an `IN` list, or over `meeting_id IS NULL` without the
    ordering, scans instead)."""
    ids = sorted(set(meeting_ids))
    entry = aliased(AuditEntry)
    newest = (
        sa.select(sa.func.max(entry.id)).where(entry.meeting_id == Meeting.id).scalar_subquery()
    )
    minutes = (
        sa.select(sa.func.max(PublishedMinutes.id))
        .where(PublishedMinutes.meeting_id == Meeting.id)
        .scalar_subquery()
    )
    outside = _newest_outside_any_meeting()
    rows = db.session.execute(
        sa.union_all(
            sa.select(sa.null(), outside, sa.null()),
            sa.select(Meeting.id, newest, minutes).where(Meeting.id.in_(ids)),
        )
    ).all()
    heads = dict.fromkeys(ids, (0, 0))
    general = 0
    for meeting_id, head, version in rows:
        if meeting_id is None:
            general = head or 0
        else:
            heads[meeting_id] = (head or 0, version or 0)
    return general, heads


def meeting_heads(meeting_id: int) -> tuple[int, int, int]:
    """One meeting's heads in one statement: the newest audit entry outside any meeting,
    the meeting's newest audit entry and its newest frozen minutes version (0 where there
    is none)."""
    entry = aliased(AuditEntry)
    row = db.session.execute(
        sa.select(
            _newest_outside_any_meeting(),
            sa.select(sa.func.max(entry.id))
            .where(entry.meeting_id == meeting_id)
            .scalar_subquery(),
            sa.select(sa.func.max(PublishedMinutes.id))
            .where(PublishedMinutes.meeting_id == meeting_id)
            .scalar_subquery(),
        )
    ).one()
    return tuple(value or 0 for value in row)  # type: ignore[return-value]
