"""The live broadcaster: one background thread per app server process that learns of new
live events (`minutes/live.py`) and hands them to the streams of that process.

- PostgreSQL: a dedicated connection LISTENs on `protokol_live`; a notification (sent by
  the committing transaction) makes the thread read the events after the last it saw —
  at once after a quiet spell, and otherwise at most once every `gather_interval`
  seconds (0.1 s), so that under a stream of votes the events of that time are read,
  completed and sent together instead of one read, one completion and one fan-out each.
- SQLite: the thread reads `live_events WHERE id > last` every `poll_interval` seconds
  (0.2 s): one indexed query per process, whatever the number of viewers; and when a
  commit of its own process wakes it, at once or, if it read less than `gather_interval`
  ago, once that has passed.

Either way an event reaches the viewers of every process that shares the database. An
item event is written without its snapshot; the thread has it made (`complete`:
`minutes.live.complete_events`, stored, so once whichever process is first), turns each
event into its Server-Sent Events frames once per process (one frame per interface
language) and calls the subscribers of its meeting; subscribers are cheap callables (an
asyncio hub's `call_soon_threadsafe`, a thread's `queue.put`). Of several events of one
item read together only the newest is sent: each is a whole snapshot of its item.

Event ids increase in commit order (see `minutes/live.py`), so "every event after the last
one seen" misses nothing; a viewer who reconnects with `Last-Event-ID` is sent what it
missed from the table (`backlog`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from minutes import live
from minutes.live import (
    CHANNEL,
    LiveEvent,
    events_query,
    last_event_id_query,
    latest_events_query,
)
from protokol.i18n import DEFAULT_LANGUAGE, LANGUAGES

log = logging.getLogger(__name__)

#: How long the server tells a disconnected EventSource to wait before reconnecting (ms).
RETRY_MS = 2000
#: At most this many events are read in one go.
BATCH = 500


@dataclass(frozen=True)
class LiveMessage:
    """One event as the streams send it: its SSE frame in each interface language."""

    id: int
    meeting_id: int
    item_id: int | None
    kind: str
    #: The meeting's new state, for a state event.
    state: str | None
    frames: dict[str, bytes]

    def frame(self, language: str) -> bytes:
        return self.frames.get(language) or self.frames[DEFAULT_LANGUAGE]


def sse_frame(event_id: int, kind: str, data: dict[str, Any]) -> bytes:
    """A Server-Sent Events frame: id, event type and the data as one line of JSON."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event_id}\nevent: {kind}\ndata: {text}\n\n".encode()


def message_from_row(
    event_id: int, meeting_id: int, item_id: int | None, kind: str, payload: str
) -> LiveMessage:
    """Build the frames of a stored event (the HTML of each language goes to its frame)."""
    data = json.loads(payload)
    html = data.pop("html", {}) or {}
    announce = data.pop("announce", {}) or {}
    frames = {}
    for language in LANGUAGES:
        frame_data = dict(data)
        if html:
            frame_data["html"] = html.get(language) or html.get(DEFAULT_LANGUAGE, "")
            frame_data["announce"] = announce.get(language) or announce.get(DEFAULT_LANGUAGE, "")
        frames[language] = sse_frame(event_id, kind, frame_data)
    return LiveMessage(event_id, meeting_id, item_id, kind, data.get("state"), frames)


Subscriber = Callable[[LiveMessage], None]
#: Makes the missing payloads of event rows: {event id: payload} (`minutes.live`).
Completer = Callable[[Sequence[Any]], dict[int, str]]


class Broadcaster:
    """Learns of new live events in the database and calls each meeting's subscribers."""

    def __init__(
        self,
        database_url: str,
        *,
        poll_interval: float = 0.2,
        gather_interval: float = 0.1,
        engine_options: dict[str, Any] | None = None,
        complete: Completer | None = None,
    ) -> None:
        self.database_url = database_url
        self.poll_interval = poll_interval
        #: PostgreSQL: the least time between two reads of the events (module docstring).
        self.gather_interval = gather_interval
        #: Without one, item events whose snapshot is not made yet are not sent.
        self.complete = complete
        url = sa.make_url(database_url)
        self.is_postgres = url.get_backend_name() == "postgresql"
        options = {"pool_pre_ping": True, **(engine_options or {})}
        if self.is_postgres:
            options.setdefault("pool_size", 4)
        #: For the broadcaster's reads and the streams' (backlog, meeting state).
        self.engine = sa.create_engine(url, **options)
        self._subscribers: dict[int, list[Subscriber]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        #: Set by a commit of this process that wrote events: poll now.
        self._wake = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_id = 0

    # ------------------------------------------------------------------ subscribers

    def subscribe(self, meeting_id: int, subscriber: Subscriber) -> None:
        """Call `subscriber(message)` (from the broadcaster's thread) for each new event
        of the meeting. Starts the thread on first use."""
        self.start()
        with self._lock:
            self._subscribers.setdefault(meeting_id, []).append(subscriber)

    def unsubscribe(self, meeting_id: int, subscriber: Subscriber) -> None:
        with self._lock:
            subscribers = self._subscribers.get(meeting_id, [])
            if subscriber in subscribers:
                subscribers.remove(subscriber)
            if not subscribers:
                self._subscribers.pop(meeting_id, None)

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subscribers.values())

    def _dispatch(self, message: LiveMessage) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(message.meeting_id, ()))
        for subscriber in subscribers:
            try:
                subscriber(message)
            except Exception:
                log.exception("live: a subscriber of meeting %s failed", message.meeting_id)

    # ------------------------------------------------------------------ reads for streams

    def meeting_state(self, meeting_id: int) -> str | None:
        """The meeting's state ("in_session", ...), or None when there is no such meeting."""
        from meetings.models import Meeting

        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(Meeting.__table__.c.state).where(Meeting.__table__.c.id == meeting_id)
            ).scalar()

    def backlog(self, meeting_id: int, after: int) -> list[LiveMessage]:
        """The newest event of each item of the meeting with an id above `after`."""
        with self.engine.connect() as conn:
            rows = conn.execute(latest_events_query(meeting_id, after)).all()
        return self._messages(rows)

    def _messages(self, rows: Sequence[Any]) -> list[LiveMessage]:
        """The messages of event rows (id, meeting_id, item_id, kind, payload) in id order,
        their missing snapshots made; an event without one (its meeting has ended, or no
        completer) is left out."""
        payloads = {r.id: r.payload for r in rows if r.payload is not None}
        if len(payloads) < len(rows) and self.complete is not None:
            try:
                payloads = self.complete(rows)
            except Exception:
                log.exception("live: the snapshots of %s events could not be made", len(rows))
        return [
            message_from_row(r.id, r.meeting_id, r.item_id, r.kind, payloads[r.id])
            for r in rows
            if r.id in payloads
        ]

    def last_event_id(self, meeting_id: int) -> int:
        with self.engine.connect() as conn:
            return conn.execute(last_event_id_query(meeting_id)).scalar() or 0

    # ------------------------------------------------------------------ the thread

    def start(self) -> None:
        """Start the thread (once; later calls do nothing) and wait until it reads."""
        with self._lock:
            if self._thread is None:
                self._stopping.clear()
                self._thread = threading.Thread(
                    target=self._run, name="protokol-live-broadcaster", daemon=True
                )
                self._thread.start()
        self._ready.wait(timeout=10)

    def wake(self) -> None:
        """Look for new events now (this process has just written some)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the thread and close the connections."""
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
        self._ready.clear()
        self.engine.dispose()

    def _run(self) -> None:
        try:
            with self.engine.connect() as conn:
                self._last_id = conn.execute(sa.select(sa.func.max(LiveEvent.id))).scalar() or 0
                conn.rollback()
        except Exception:
            log.exception("live: cannot read the live events; retrying")
        self._ready.set()
        while not self._stopping.is_set():
            try:
                if self.is_postgres:
                    self._listen()
                else:
                    self._poll()
            except Exception:
                log.exception("live: broadcaster lost its connection; reconnecting")
                self._stopping.wait(1.0)

    def _fetch(self, conn: sa.Connection) -> int:
        """Dispatch every event after the last one seen; returns how many were read."""
        table = LiveEvent.__table__
        seen = 0
        while True:
            rows = conn.execute(
                sa.select(table.c.id, table.c.meeting_id, table.c.item_id, table.c.kind)
                .where(table.c.id > self._last_id)
                .order_by(table.c.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            seen += len(rows)
            self._last_id = rows[-1].id
            with self._lock:
                watched = set(self._subscribers)
            # Of each watched item only its newest event: each is a whole snapshot.
            newest: dict[tuple[int, int | None, str], int] = {}
            for r in rows:
                if r.meeting_id in watched:
                    newest[(r.meeting_id, r.item_id, r.kind)] = r.id
            if newest:
                wanted = conn.execute(events_query(list(newest.values()))).all()
                conn.rollback()
                for message in self._messages(wanted):
                    self._dispatch(message)
            if len(rows) < BATCH:
                break
        conn.rollback()
        return seen

    def _check_restart(self, conn: sa.Connection) -> None:
        """The table was emptied and its ids started again (a restore, the test suite):
        read it again from the start. The streams skip what they have already sent."""
        top = conn.execute(sa.select(sa.func.max(LiveEvent.id))).scalar() or 0
        conn.rollback()
        if top < self._last_id:
            log.info("live: the events start again below %s; reading them afresh", self._last_id)
            self._last_id = 0
            self._fetch(conn)

    def _catch_up(self, conn: sa.Connection) -> None:
        """After a notification or a wake-up, each of which stands for a committed event:
        read it; if there is nothing above the last id seen, the ids started again."""
        if not self._fetch(conn):
            self._check_restart(conn)

    def _gather_rest(self, read_at: float) -> float:
        """Seconds to wait before the next read: what is left of `gather_interval` since
        the last read at `read_at` (0 after a quiet spell), so that what commits in the
        meantime is read together."""
        return max(0.0, self.gather_interval - (time.monotonic() - read_at))

    def _poll(self) -> None:
        ticks = 0
        woken = False
        read_at = time.monotonic()
        with self.engine.connect() as conn:
            while not self._stopping.is_set():
                if woken:
                    if rest := self._gather_rest(read_at):
                        self._stopping.wait(rest)
                    self._wake.clear()
                    self._catch_up(conn)
                else:
                    self._fetch(conn)
                read_at = time.monotonic()
                ticks += 1
                if ticks % 25 == 0:
                    self._check_restart(conn)
                woken = self._wake.wait(self.poll_interval)
                self._wake.clear()

    def _listen(self) -> None:
        import psycopg

        conninfo = (
            sa.make_url(self.database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        with (
            psycopg.connect(conninfo, autocommit=True) as listener,
            self.engine.connect() as conn,
        ):
            listener.execute(f"LISTEN {CHANNEL}")
            self._fetch(conn)  # whatever committed while (re)connecting
            read_at = time.monotonic()
            quiet = 0
            while not self._stopping.is_set():
                notified = False
                for _ in listener.notifies(timeout=0.5, stop_after=1):
                    notified = True
                if notified:
                    quiet = 0
                    if rest := self._gather_rest(read_at):
                        for _ in listener.notifies(timeout=rest):
                            pass
                    self._catch_up(conn)
                    read_at = time.monotonic()
                else:
                    quiet += 1
                    if quiet % 10 == 0:  # every 5 s: a safety net, and a restart check
                        self._check_restart(conn)
                        self._fetch(conn)


_broadcasters: dict[str, Broadcaster] = {}
_registry_lock = threading.Lock()


def broadcaster_for(database_url: str, **options: Any) -> Broadcaster:
    """The process's broadcaster for a database (one per URL, created on first use)."""
    with _registry_lock:
        broadcaster = _broadcasters.get(database_url)
        if broadcaster is None:
            broadcaster = _broadcasters[database_url] = Broadcaster(database_url, **options)
        return broadcaster


def wake_all() -> None:
    """Wake every broadcaster of the process (after a commit that wrote live events)."""
    with _registry_lock:
        broadcasters = list(_broadcasters.values())
    for broadcaster in broadcasters:
        if not broadcaster.is_postgres:  # PostgreSQL's notification is as quick
            broadcaster.wake()


live.on_commit.append(wake_all)


def stop_all() -> None:
    """Stop every broadcaster of the process (tests, shutdown)."""
    with _registry_lock:
        broadcasters = list(_broadcasters.values())
        _broadcasters.clear()
    for broadcaster in broadcasters:
        broadcaster.stop()
