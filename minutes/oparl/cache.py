"""A per-process cache of serialised OParl objects that embed a meeting's record (the
meetings, with their agenda items, votes and remarks, and the agenda items).

An object is cached as its JSON text under a key that changes whenever anything it shows
can have changed: the object's `modified` stamp, the newest audit entry of its meeting
(every write to the meeting, its items, motions, votes, remarks and attendance is
audited in the same transaction, `protokol.audit`), the newest audit entry outside any
meeting (bodies, parties, members, seats), and the address the request came in on (the
objects hold absolute URLs). A key is never updated in place: a change makes a new key,
and the old entry ages out. The cache holds at most `OPARL_CACHE_BYTES` of JSON text per
process, least recently used first out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from meetings.models import Meeting
from protokol.audit import AuditEntry
from protokol.extensions import db

#: The app's cache: `app.extensions[OBJECT_CACHE]`.
OBJECT_CACHE = "protokol.oparl_cache"


class ObjectCache:
    """JSON texts by key, at most `max_bytes` of them; thread-safe (gunicorn threads)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            text = self._entries.get(key)
            if text is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return text

    def put(self, key: Hashable, text: str) -> None:
        if len(text) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= len(old)
            self._entries[key] = text
            self.bytes += len(text)
            while self.bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


def audit_heads(meeting_ids: Iterable[int]) -> tuple[int, dict[int, int]]:
    """The id of the newest audit entry outside any meeting, and of each meeting's
    newest entry (0 where there is none): one statement, each head one step down the
    index by meeting and id (a `max(id)` over an `IN` list, or over `meeting_id IS NULL`
    without the ordering, scans instead)."""
    ids = sorted(set(meeting_ids))
    entry = aliased(AuditEntry)
    newest = (
        sa.select(sa.func.max(entry.id)).where(entry.meeting_id == Meeting.id).scalar_subquery()
    )
    outside = (
        sa.select(entry.id)
        .where(entry.meeting_id.is_(None))
        .order_by(entry.meeting_id.desc(), entry.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.union_all(
            sa.select(sa.null(), outside),
            sa.select(Meeting.id, newest).where(Meeting.id.in_(ids)),
        )
    ).all()
    heads = dict.fromkeys(ids, 0)
    general = 0
    for meeting_id, head in rows:
        if meeting_id is None:
            general = head or 0
        else:
            heads[meeting_id] = head or 0
    return general, heads
