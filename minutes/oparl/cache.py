"""A per-process cache of serialised OParl objects that embed a meeting's record (the
meetings, with their agenda items, votes and remarks, and the agenda items).

An object is cached as its JSON text under a key that changes whenever anything it shows
can have changed: the object's `modified` stamp, the newest audit entry of its meeting
(every write to the meeting, its items, motions, votes, remarks and attendance is
audited in the same transaction, `protokol.audit`) and its newest frozen minutes version
(a correction adds one and no audit entry), the newest audit entry outside any meeting
(bodies, parties, members, seats, a body's party order), and the address the request
came in on (the objects hold absolute URLs). A key is never updated in place: a change
makes a new key, and the old entry ages out. The cache holds at most `OPARL_CACHE_BYTES`
of JSON text per process, least recently used first out (`minutes.cache.ObjectCache`).
"""

from __future__ import annotations

#: The app's cache: `app.extensions[OBJECT_CACHE]`.
OBJECT_CACHE = "protokol.oparl_cache"
