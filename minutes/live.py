"""Live events (direkte opdateringer): what the public live page of a meeting in session
shows, written as the secretary records it.

Every change to a vote, a motion, a decision, an item or the attendance of a meeting in
session passes through the session: a SQLAlchemy `after_flush` hook notes the agenda items
it touched, and a `before_commit` hook adds one `LiveEvent` per touched item — in the same
transaction as the change, so an acknowledged vote always has its event and a rolled-back
one never has. The write itself only inserts the event's row (meeting, item, kind): the
item's public-safe snapshot (closed items: number and title only) and its HTML fragment in
each interface language are made after the commit, by the first process that needs them
(`complete_events`: a broadcaster with viewers of the meeting, or a stream's backlog), from
the state as committed, and stored in the row — once, never per viewer, and never on the
secretary's clock. A change of the meeting's state (it starts, it ends) is an event of its
own, with its payload written at once.

Event ids increase in commit order: on SQLite the database's single writer ensures it, on
PostgreSQL a transaction-level advisory lock taken before the event rows are inserted. A
reader that has seen event N has therefore seen every earlier one, which makes "everything
after N" (a reconnecting viewer's `Last-Event-ID`, the broadcaster's poll) exact. On
PostgreSQL the transaction also sends `NOTIFY protokol_live`; the broadcaster
(`minutes/broadcast.py`) of each app server process listens for it.
"""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import chain
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, selectinload

from meetings.models import (
    AgendaItem,
    Body,
    ItemAttendance,
    Meeting,
    MeetingAttendance,
    MeetingState,
    Seat,
)
from meetings.services import seated_members
from minutes.context import motion_context
from minutes.styles import Style, StyleError, load_style
from motions.models import Motion
from protokol.audit import CHAIN_LOCK_KEY, hold_chain_lock
from protokol.extensions import db
from protokol.i18n import LANGUAGES
from protokol.models import utcnow
from votes.models import Decision, MemberVote, PartyVote, Vote

log = logging.getLogger(__name__)

#: The PostgreSQL notification channel.
CHANNEL = "protokol_live"
#: Key of the PostgreSQL advisory lock that orders event ids by commit: the audit trail's,
#: which the same transactions hold already when they changed the record.
LOCK_KEY = CHAIN_LOCK_KEY
#: The fragment template of one item on the live page.
FRAGMENT_TEMPLATE = "live/_item.html"
#: Rows whose change alters what an item's live block shows.
ITEM_ROWS = (Motion, Vote, PartyVote, MemberVote, Decision, ItemAttendance, AgendaItem)

_TOUCHED = "live_touched_items"
_STATES = "live_touched_states"


class LiveEvent(db.Model):
    """One update of a meeting's live page: an item's new state, or the meeting's."""

    __tablename__ = "live_events"
    __table_args__ = (
        sa.Index("ix_live_events_meeting_item", "meeting_id", "item_id", "id"),
        {"sqlite_autoincrement": True},
    )

    #: The Server-Sent Events id; increases in commit order, never reused.
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False
    )
    #: The agenda item; NULL for a change of the meeting's state.
    item_id: Mapped[int | None] = mapped_column(nullable=True)
    #: "item" or "state".
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: The public snapshot with its HTML per interface language (JSON text); NULL for an
    #: item event until `complete_events` has made it, after the commit.
    payload: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)


# --------------------------------------------------------------------------- snapshots


def _style_dirs() -> tuple[str, ...]:
    return tuple(current_app.config.get("PROTOKOL_STYLE_DIRS", ())) if has_app_context() else ()


def item_snapshot(item: AgendaItem, style: Style | None) -> dict[str, Any]:
    """What the public may see of `item` while the meeting is in session: a closed item
    (lukket punkt) only by number and title; else its motions with their proposers, the
    counts and party lists of each vote as the minutes print them, the outcome, the
    result sentence and the final decision. Remarks are left out (they are reviewed after
    the meeting)."""
    snapshot: dict[str, Any] = {
        "type": "item",
        "item_id": item.id,
        "number": item.number,
        "title": item.title,
        "is_closed": item.is_closed,
        "motions": [],
        "decision": None,
    }
    if item.is_closed or style is None:
        return snapshot
    meeting = item.meeting
    seated = seated_members(meeting.body, meeting.date)
    for motion in item.motions:
        motion_ctx = motion_context(motion, seated, style)
        vote = getattr(motion, "vote", None)
        vote_ctx = motion_ctx["vote"]
        snapshot["motions"].append(
            {
                "id": motion.id,
                "kind": motion_ctx["kind"],
                "kind_label": motion_ctx["kind_label"],
                "proposer": motion_ctx["proposer"]["label"],
                "text": motion_ctx["text"],
                "vote": None
                if vote is None
                else {
                    "is_open": vote.is_open,
                    "without_vote": vote_ctx["without_vote"],
                    "outcome": vote_ctx["outcome"],
                    "recorded": vote_ctx["recorded"],
                    "present": vote_ctx["present"],
                    "body_size": vote_ctx["body_size"],
                    "not_voting": vote_ctx["not_voting"],
                    "sides": {
                        position: {"count": side["count"], "labels": side["labels"]}
                        for position, side in vote_ctx["sides"].items()
                    },
                },
                "result": motion_ctx["result"],
            }
        )
    decision = getattr(item, "decision", None)
    if decision is not None:  # as the minutes print it (minutes.context.decision_context)
        text = decision.result_text.strip() or style.final_results.get(decision.result_key)
        snapshot["decision"] = text or None
    return snapshot


def meeting_style(meeting: Meeting) -> Style | None:
    """The body's minutes style, or None when it cannot be loaded (logged)."""
    try:
        return load_style(meeting.body.minutes_style, _style_dirs())
    except StyleError:
        log.exception("live: minutes style of meeting %s cannot be loaded", meeting.id)
        return None


def render_fragment(snapshot: dict[str, Any], language: str, **extra: Any) -> str:
    """The item's block on the live page, in one interface language."""
    template = current_app.jinja_env.get_template(FRAGMENT_TEMPLATE)
    with force_locale(language):
        return template.render(live=snapshot, **extra)


def announcement(snapshot: dict[str, Any], language: str) -> str:
    """The sentence a screen reader announces for an update of the item."""
    from flask_babel import gettext as _

    with force_locale(language):
        head = _("Punkt %(number)s", number=snapshot["number"])
        voted = [m for m in snapshot["motions"] if m["vote"] and m["vote"]["recorded"]]
        if snapshot["is_closed"] or not voted:
            return f"{head}: {snapshot['title']}"
        motion = voted[-1]
        sides = motion["vote"]["sides"]
        counts = _(
            "%(for)s for, %(against)s imod, %(abstain)s undlod",
            **{key: sides[key]["count"] for key in ("for", "against", "abstain")},
        )
        text = f"{head}, {motion['kind_label']} ({motion['proposer']}): {counts}"
        outcome = motion["vote"]["outcome"]
        if outcome and not motion["vote"]["is_open"]:
            text += ". " + (_("Vedtaget") if outcome == "adopted" else _("Forkastet"))
        return text + "."


def with_fragments(snapshot: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The snapshot plus its HTML and announcement in every interface language."""
    if not has_app_context():
        return {**snapshot, "html": {}, "announce": {}}
    return {
        **snapshot,
        "html": {lang: render_fragment(snapshot, lang, **extra) for lang in LANGUAGES},
        "announce": {lang: announcement(snapshot, lang) for lang in LANGUAGES},
    }


def item_payload(item: AgendaItem, style: Style | None) -> dict[str, Any]:
    """The stored payload of an item event: snapshot, HTML and announcement."""
    motions = {m.id: m for m in item.motions} if not item.is_closed else {}
    return with_fragments(item_snapshot(item, style), motions=motions)


def state_payload(meeting: Meeting) -> dict[str, Any]:
    """The stored payload of a state event (the meeting started or ended)."""
    return {"type": "state", "meeting_id": meeting.id, "state": meeting.state.value}


# --------------------------------------------------------------------------- the hooks


def _scope(obj: Any) -> tuple[int | None, int | None]:
    try:
        return obj.audit_scope()
    except Exception:  # a row whose parent is gone: nothing to show
        return None, None


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    """Note the items (and meeting states) that this flush changed."""
    items: set[tuple[int, int | None]] = session.info.setdefault(_TOUCHED, set())
    states: set[int] = session.info.setdefault(_STATES, set())
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Meeting):
            if obj in session.new:
                changed = [obj.state]
            else:
                history = sa.inspect(obj).attrs.state.history
                changed = [*history.added, *history.deleted]
            if MeetingState.IN_SESSION in changed:  # it starts, or it ends
                states.add(obj.id)
            continue
        if not isinstance(obj, (*ITEM_ROWS, MeetingAttendance)):
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        meeting_id, item_id = _scope(obj)
        if meeting_id is not None:
            items.add((meeting_id, item_id))


_WRITTEN = "live_events_written"
#: Called after a commit that wrote live events (the process's broadcasters wake up, so
#: this process's viewers need not wait for the next poll).
on_commit: list[Callable[[], None]] = []


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_TOUCHED, None)
    session.info.pop(_STATES, None)
    session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    written = session.info.pop(_WRITTEN, False)
    _forget(session)
    if written:
        for callback in on_commit:
            callback()


event.listen(Session, "after_soft_rollback", _forget)


@event.listens_for(Session, "before_commit")
def _write_events(session: Session) -> None:
    """Add the live events of the touched items, in the committing transaction: a row
    each, without its snapshot (made after the commit: `complete_events`)."""
    session.flush()
    touched = session.info.pop(_TOUCHED, set())
    states = session.info.pop(_STATES, set())
    if not touched and not states:
        return
    meetings = {
        mid: meeting
        for mid in {m for m, _ in touched} | states
        if (meeting := session.get(Meeting, mid)) is not None
    }
    live = {mid for mid, m in meetings.items() if m.state is MeetingState.IN_SESSION}
    touched = {(m, i) for m, i in touched if m in live}
    states = {m for m in states if m in meetings}
    if not touched and not states:
        return
    connection = session.connection()
    is_postgres = connection.dialect.name == "postgresql"
    # Orders event ids by commit: held until this transaction ends (on PostgreSQL).
    hold_chain_lock(session, connection)
    rows = [_state_row(meetings[mid]) for mid in sorted(states)]
    for mid in sorted(live):
        meeting = meetings[mid]
        item_ids = {i for m, i in touched if m == mid}
        if None in item_ids or mid in states:  # attendance of the whole meeting, or it began
            items = [i for i in meeting.items if i.motions or getattr(i, "decision", None)]
            item_ids = {i.id for i in items} | (item_ids - {None})
        now = utcnow()
        rows += [
            {"meeting_id": mid, "item_id": i, "kind": "item", "payload": None, "created_at": now}
            for i in sorted(item_ids)
        ]
    if not rows:
        return
    if is_postgres and len(rows) == 1:  # a recording's: the event and the NOTIFY at once
        connection.execute(_NOTIFYING_INSERT, rows[0])
    else:
        connection.execute(sa.insert(LiveEvent.__table__), rows)
        if is_postgres:
            connection.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    session.info[_WRITTEN] = True


#: On PostgreSQL, one event row and the NOTIFY in one statement: a round trip less while
#: the transaction holds the chain lock (a data-modifying WITH runs to completion whatever
#: the query around it reads). Built once with bound parameters, so it is compiled once
#: (a multi-row VALUES would be compiled again on every write).
_NOTIFYING_INSERT = sa.select(sa.func.pg_notify(CHANNEL, "")).add_cte(
    sa.insert(LiveEvent.__table__)
    .values({c.name: sa.bindparam(c.name) for c in LiveEvent.__table__.c if c.name != "id"})
    .cte("events")
)


# --------------------------------------------------------------------------- completing events


#: Read everything afresh (`populate_existing`): the session may hold older copies of these
#: rows (a caller's, a test's), and collections a service changed by key are current.
_FRESH = {"populate_existing": True}
#: The statements of `_load`, built once: building the loader options and the statements'
#: cache keys anew on every write cost as much as running them. Small collections are
#: joined into their parent's query (one query, not two); the parties' and members'
#: positions are loaded in a query each.
_BODY_QUERY = (
    sa.select(Body)
    .where(Body.id == sa.bindparam("body_id"))
    .options(
        joinedload(Body.party_order),
        selectinload(Body.seats).options(joinedload(Seat.member), joinedload(Seat.party)),
    )
    .execution_options(**_FRESH)
)
_MEETING_QUERY = (
    sa.select(Meeting)
    .where(Meeting.id == sa.bindparam("meeting_id"))
    .options(joinedload(Meeting.attendance))
    .execution_options(**_FRESH)
)
_ITEMS_QUERY = (
    sa.select(AgendaItem)
    .where(
        AgendaItem.id.in_(sa.bindparam("item_ids", expanding=True)),
        AgendaItem.meeting_id == sa.bindparam("meeting_id"),
    )
    .order_by(AgendaItem.position)
    .options(
        joinedload(AgendaItem.decision),
        joinedload(AgendaItem.attendance),
        joinedload(AgendaItem.motions).joinedload(Motion.vote).selectinload(Vote.party_votes),
        joinedload(AgendaItem.motions).joinedload(Motion.vote).selectinload(Vote.member_votes),
    )
    .execution_options(**_FRESH)
)


def _load(
    session: Session, meeting: Meeting, item_ids: set[int]
) -> tuple[list[AgendaItem], list[Any]]:
    """Load what the snapshots of `item_ids` read, besides the meeting and its attendance
    (loaded by the caller), in a few queries (not one a seat, vote or party), and afresh
    (`_FRESH`)."""
    # Held in `loaded` (returned): the session keeps unchanged rows only while referenced.
    loaded: list[Any] = []
    loaded += session.execute(_BODY_QUERY, {"body_id": meeting.body_id}).unique().scalars().all()
    items = list(
        session.execute(_ITEMS_QUERY, {"item_ids": sorted(item_ids), "meeting_id": meeting.id})
        .unique()
        .scalars()
    )
    return items, loaded


def _state_row(meeting: Meeting) -> dict[str, Any]:
    return {
        "meeting_id": meeting.id,
        "item_id": None,
        "kind": "state",
        "payload": json.dumps(state_payload(meeting), ensure_ascii=False),
        "created_at": utcnow(),
    }


def _item_payload_text(item: AgendaItem, style: Style | None) -> str:
    try:
        payload = item_payload(item, style)
    except Exception:
        # The live page must never stop on one item: log, and show number and title.
        log.exception("live: snapshot of item %s failed", item.id)
        payload = with_fragments(item_snapshot(item, None))
    return json.dumps(payload, ensure_ascii=False)


class EventRow(Protocol):
    """A row of `live_events` as read by the broadcaster and the streams."""

    id: int
    meeting_id: int
    item_id: int | None
    kind: str
    payload: str | None


_FILL = (
    sa.update(LiveEvent.__table__)
    .where(
        LiveEvent.__table__.c.meeting_id == sa.bindparam("m"),
        LiveEvent.__table__.c.item_id == sa.bindparam("i"),
        LiveEvent.__table__.c.id <= sa.bindparam("upto"),
        LiveEvent.__table__.c.payload.is_(None),
    )
    .values(payload=sa.bindparam("p"))
)


def complete_events(session: Session, rows: Sequence[EventRow]) -> dict[int, str]:
    """The payloads of `rows`, made where they are missing and stored (this commits).

    An item event's snapshot is made from the item as committed now, which includes the
    change the event stands for and perhaps later ones (each event is a whole snapshot of
    its item, so a newer state is never wrong); it is stored in every event row of the
    item up to the newest in `rows` that has none yet, so each snapshot is made once,
    whichever process gets there first. Events of a meeting no longer in session are left
    without one: its live page has ended, and what is changed after the session is not
    public until the minutes are published. Returns {event id: payload} for the rows that
    have one. Needs an app context (the fragments are templates)."""
    payloads = {r.id: r.payload for r in rows if r.payload is not None}
    wanted: dict[int, dict[int, int]] = {}  # meeting → item → newest event id
    for r in rows:
        if r.payload is None and r.kind == "item" and r.item_id is not None:
            items = wanted.setdefault(r.meeting_id, {})
            items[r.item_id] = max(items.get(r.item_id, 0), r.id)
    if not wanted:
        return payloads
    fills = []
    for meeting_id, newest in wanted.items():
        meeting = session.execute(_MEETING_QUERY, {"meeting_id": meeting_id}).unique().scalar()
        if meeting is None or meeting.state is not MeetingState.IN_SESSION:
            continue
        style = meeting_style(meeting)
        items, _loaded = _load(session, meeting, set(newest))
        for item in items:
            text = _item_payload_text(item, style)
            fills.append({"m": meeting_id, "i": item.id, "upto": newest[item.id], "p": text})
            for r in rows:
                if r.payload is None and r.meeting_id == meeting_id and r.item_id == item.id:
                    payloads[r.id] = text
    if fills:
        session.execute(_FILL, fills)
    session.commit()
    return payloads


#: Key of the PostgreSQL advisory lock held while one process makes snapshots.
COMPLETION_LOCK_KEY = LOCK_KEY + 1


@contextmanager
def _one_completer_at_a_time(engine: sa.Engine) -> Iterator[None]:
    """Let one process at a time make snapshots, so that the processes that learn of the
    same events at the same moment (every app server's broadcaster) make each once: the
    second waits, then finds them made. PostgreSQL: a session advisory lock; SQLite (one
    machine by nature): an exclusive lock on a file beside the database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": COMPLETION_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": COMPLETION_LOCK_KEY}
                )
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}-live.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def event_completer(app: Any) -> Callable[[Sequence[EventRow]], dict[int, str]]:
    """`complete_events` for threads outside a request (the broadcaster, the streams'
    backlog), each call in an app context and a session of its own, one process at a
    time; the rows are read again once it is this process's turn."""

    def complete(rows: Sequence[EventRow]) -> dict[int, str]:
        with app.app_context():
            try:
                with _one_completer_at_a_time(db.engine):
                    fresh = db.session.execute(events_query([r.id for r in rows])).all()
                    db.session.commit()
                    return complete_events(db.session, fresh)
            finally:
                db.session.remove()

    return complete


# --------------------------------------------------------------------------- reading


def events_query(ids: Sequence[int]) -> sa.Select:
    """The event rows (`EventRow`) with these ids, oldest first."""
    table = LiveEvent.__table__
    return (
        sa.select(table.c.id, table.c.meeting_id, table.c.item_id, table.c.kind, table.c.payload)
        .where(table.c.id.in_(sorted(ids)))
        .order_by(table.c.id)
    )


def latest_events_query(meeting_id: int, after: int = 0) -> sa.Select:
    """The newest event of each item (and of the meeting's state) with an id above
    `after`, oldest first: each event is a whole snapshot, so older ones add nothing."""
    newest = (
        sa.select(sa.func.max(LiveEvent.id))
        .where(LiveEvent.meeting_id == meeting_id, LiveEvent.id > after)
        .group_by(LiveEvent.item_id)
    )
    return (
        sa.select(
            LiveEvent.id, LiveEvent.meeting_id, LiveEvent.item_id, LiveEvent.kind, LiveEvent.payload
        )
        .where(LiveEvent.id.in_(newest))
        .order_by(LiveEvent.id)
    )


def latest_made_events_query(meeting_id: int, item_ids: Sequence[int]) -> sa.Select:
    """Of each of these items of the meeting, its newest event whose snapshot is made."""
    newest = (
        sa.select(sa.func.max(LiveEvent.id))
        .where(
            LiveEvent.meeting_id == meeting_id,
            LiveEvent.item_id.in_(sorted(item_ids)),
            LiveEvent.payload.is_not(None),
        )
        .group_by(LiveEvent.item_id)
    )
    return sa.select(
        LiveEvent.id, LiveEvent.meeting_id, LiveEvent.item_id, LiveEvent.kind, LiveEvent.payload
    ).where(LiveEvent.id.in_(newest))


def last_event_id_query(meeting_id: int) -> sa.Select:
    """The id of the meeting's newest event (NULL when it has none)."""
    return sa.select(sa.func.max(LiveEvent.id)).where(LiveEvent.meeting_id == meeting_id)
