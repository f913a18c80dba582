"""The live page's events: written in the same transaction as the recorded change, none for
a rolled-back one, nothing of a closed item beyond its number and title, the snapshot as
the minutes print it; the page itself; the event stream with `Last-Event-ID`."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from meetings.models import AgendaItem, Meeting, MeetingState, Party
from minutes import live_views
from minutes.broadcast import message_from_row
from minutes.live import LiveEvent, complete_events
from minutes.live_stream import parse_after, stream_status
from motions.models import MotionKind
from votes.models import Position
from votes.services import close_vote, set_decision, set_party_position

SECRET = "Fortroligt ændringsforslag om en ansat"
FIRST_VOTE = {"A": "against", "B": "against", "F": "against", "Ø": "against",
              "V": "for", "O": "for", "C": "for"}  # fmt: skip


@pytest.fixture
def meeting(db, factories) -> Meeting:
    """A meeting in session of the seed's committee with item 14 and an open vote on an
    amendment by C 1."""
    meeting = factories.meeting()
    item = factories.item(meeting, 14, title="Integrationspolitik 2011-2014", case_number="2010-1")
    motion = factories.motion(item, MotionKind.AMENDMENT, proposer="C 1", text="Indsættes:\n\nX.")
    factories.vote(motion, is_open=True)
    db.session.commit()
    return meeting


def events(db, meeting_id: int | None = None, *, complete: bool = True) -> list[LiveEvent]:
    """The live events, oldest first; with `complete`, their snapshots made first, as the
    broadcaster makes them after each commit."""
    if complete:
        complete_events(db.session, raw_events(db))
    db.session.expire_all()
    query = sa.select(LiveEvent).order_by(LiveEvent.id)
    if meeting_id is not None:
        query = query.where(LiveEvent.meeting_id == meeting_id)
    return list(db.session.scalars(query))


def raw_events(db) -> list:
    table = LiveEvent.__table__
    return db.session.execute(sa.select(table).order_by(table.c.id)).all()


def payload(row: LiveEvent) -> dict:
    return json.loads(row.payload)


def record(db, item: AgendaItem, positions: dict[str, str]) -> None:
    vote = item.motions[0].vote
    for letter, position in positions.items():
        party = db.session.scalar(sa.select(Party).where(Party.letter == letter))
        set_party_position(vote, party, Position(position), expected_version=None, actor=None)


def test_a_recorded_vote_has_its_event_in_the_same_commit(db, meeting):
    item = meeting.items[0]
    before = len(events(db))
    record(db, item, {"A": "against"})
    db.session.flush()
    assert len(events(db)) == before  # not before the commit …
    db.session.commit()
    rows = events(db)
    assert len(rows) == before + 1  # … one event for the item when it commits
    assert (rows[-1].meeting_id, rows[-1].item_id, rows[-1].kind) == (meeting.id, item.id, "item")
    # Several changes in one transaction: one event for the item.
    record(db, item, {"B": "against", "F": "against"})
    db.session.commit()
    assert len(events(db)) == before + 2


def test_a_failing_commit_keeps_neither_the_vote_nor_its_event(db, meeting):
    item_id = meeting.items[0].id
    before = len(events(db))

    def fail(session):
        raise RuntimeError("the disk is full")

    # Runs after the live hook (registered later): the event row is already written.
    event.listen(sa.orm.Session, "before_commit", fail)
    try:
        record(db, db.session.get(AgendaItem, item_id), {"A": "for"})
        with pytest.raises(RuntimeError):
            db.session.commit()
    finally:
        event.remove(sa.orm.Session, "before_commit", fail)
    db.session.rollback()
    assert len(events(db)) == before
    vote = db.session.get(AgendaItem, item_id).motions[0].vote
    assert vote.party_votes == []


def test_a_rolled_back_change_writes_no_event(db, meeting):
    before = len(events(db))
    record(db, meeting.items[0], {"A": "for", "V": "for"})
    db.session.flush()
    db.session.rollback()
    db.session.commit()  # a later, empty commit must not emit the forgotten change
    assert len(events(db)) == before


def test_the_snapshot_reads_like_the_minutes(db, meeting):
    item = meeting.items[0]
    record(db, item, FIRST_VOTE)
    close_vote(item.motions[0].vote, expected_version=None, actor=None)
    set_decision(item, "", "Indstillingen blev godkendt.", actor=None, known_keys={})
    db.session.commit()
    data = payload(events(db)[-1])
    assert data["number"] == 14 and data["title"] == "Integrationspolitik 2011-2014"
    [motion] = data["motions"]
    assert motion["proposer"] == "C 1 (C)"
    assert motion["kind"] == "amendment" and motion["text"] == "Indsættes:\n\nX."
    vote = motion["vote"]
    assert vote["is_open"] is False and vote["outcome"] == "rejected"
    assert vote["sides"]["for"] == {"count": 3, "labels": ["V", "O", "C"]}
    assert vote["sides"]["against"] == {"count": 6, "labels": ["A", "B", "F", "Ø"]}
    assert vote["sides"]["abstain"]["count"] == 0
    assert data["decision"] == "Indstillingen blev godkendt."
    # The block and the announcement, rendered once per interface language.
    assert set(data["html"]) == {"da", "en"}
    html = data["html"]["da"]
    assert f'id="live-item-{item.id}"' in html
    assert "V, O, C" in html and "A, B, F, Ø" in html and "Forkastet" in html
    assert "Indstillingen blev godkendt." in html
    assert data["announce"]["da"].startswith("Punkt 14")
    assert "3 for, 6 imod, 0 undlod" in data["announce"]["da"]


def test_a_closed_item_shows_number_and_title_only(db, factories, meeting):
    item = factories.item(meeting, 15, title="Personalesag", is_closed=True, case_number="2010-9")
    motion = factories.motion(item, MotionKind.AMENDMENT, party="C", text=SECRET)
    factories.vote(motion, {"A": "for", "C": "against"}, is_open=True)
    set_decision(item, "", "Hemmelig beslutning.", actor=None, known_keys={})
    db.session.commit()
    [row] = [r for r in events(db) if r.item_id == item.id]
    data = payload(row)
    assert data["motions"] == [] and data["decision"] is None
    text = row.payload
    for secret in (SECRET, "Hemmelig", "2010-9", '"C"', '"count"', '"sides"'):
        assert secret not in text  # no motion, decision, case number, party or count
    assert "Personalesag" in text and "Lukket punkt" in data["html"]["da"]


def test_no_item_events_unless_the_meeting_is_in_session(db, factories):
    body = None
    for state in (MeetingState.PLANNED, MeetingState.CLOSED):
        meeting = factories.meeting(state=state, starts_at=factories_time(state), body=body)
        body = meeting.body
        item = factories.item(meeting, 1)
        motion = factories.motion(item)
        factories.vote(motion, {"A": "for"})
        db.session.commit()
        assert events(db, meeting.id) == []


def factories_time(state: MeetingState):
    from datetime import datetime

    return datetime(2011, 1, 1 + list(MeetingState).index(state), 15, 0)


def test_the_start_and_the_end_of_a_meeting_are_events(db, factories):
    from minutes.lifecycle import close_meeting, start_meeting

    meeting = factories.meeting(state=MeetingState.PLANNED)
    item = factories.item(meeting, 3)
    factories.vote(factories.motion(item), {"A": "for"})
    db.session.commit()
    assert events(db, meeting.id) == []
    start_meeting(meeting, actor=None)
    db.session.commit()
    rows = events(db, meeting.id)
    assert [(r.kind, payload(r).get("state")) for r in rows] == [
        ("state", "in_session"),
        ("item", None),  # what was recorded before the start
    ]
    close_meeting(db.session.get(Meeting, meeting.id), actor=None)
    db.session.commit()
    last = events(db, meeting.id)[-1]
    assert (last.kind, payload(last)["state"]) == ("state", "closed")


def test_a_vote_recorded_in_the_console_emits_an_event(db, client, login, make_user, meeting):
    item = meeting.items[0]
    vote = item.motions[0].vote
    party = db.session.scalar(sa.select(Party).where(Party.letter == "O"))
    login(make_user("secretary", bodies=[meeting.body]))
    page = client.get(f"/console/items/{item.id}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    before = len(events(db))
    response = client.post(
        f"/console/votes/{vote.id}/parties/{party.id}",
        data={"csrf_token": token, "version": vote.version, "position": "for"},
    )
    assert response.status_code == 303
    rows = events(db)
    assert len(rows) == before + 1
    assert payload(rows[-1])["motions"][0]["vote"]["sides"]["for"]["labels"] == ["O"]


# --------------------------------------------------------------------------- the page


def test_the_live_page_shows_every_item_as_recorded(db, client, factories, meeting):
    record(db, meeting.items[0], {"V": "for", "O": "for"})
    closed = factories.item(meeting, 15, title="Personalesag", is_closed=True)
    factories.vote(factories.motion(closed, text=SECRET), {"A": "for"})
    factories.item(meeting, 16, title="Eventuelt")
    db.session.commit()
    response = client.get(f"/meetings/{meeting.id}/live")
    assert response.status_code == 200
    html = response.text
    assert '<meta http-equiv="refresh" content="15">' in html  # inside <noscript>
    assert "live.js" in html and 'aria-live="polite"' in html
    newest = events(db, meeting.id)[-1].id
    assert f"/meetings/{meeting.id}/live/events?after={newest}&amp;lang=da" in html
    assert "14. Integrationspolitik 2011-2014" in html and "V, O" in html
    assert "15. Personalesag" in html and SECRET not in html
    assert "16. Eventuelt" in html and "Intet registreret endnu." in html
    # The vote drawn as a seat diagram: one mark per seat, with its counts as text.
    assert html.count('class="seat-diagram"') == 1
    assert "For: <strong>2</strong>" in html
    english = client.get(f"/meetings/{meeting.id}/live?lang=en").text
    assert "Nothing recorded yet." in english or "Intet registreret endnu." in english


@pytest.fixture
def rendered(monkeypatch) -> list[int]:
    """The ids of the items the live page renders itself (not from a stored snapshot)."""
    ids: list[int] = []
    original = live_views.item_payload
    monkeypatch.setattr(
        live_views, "item_payload", lambda i, style: ids.append(i.id) or original(i, style)
    )
    return ids


def test_the_live_page_shows_a_made_snapshot_while_the_newest_is_pending(
    db, client, meeting, short_streams, rendered
):
    """An item whose newest event has no snapshot yet is not rendered by the page: it
    shows the item's newest snapshot made so far, and its stream starts before the
    pending event, whose backlog brings the newer state."""
    item = meeting.items[0]
    record(db, item, {"V": "for"})
    db.session.commit()
    made = events(db, meeting.id)[-1]  # its snapshot made, as the broadcaster does
    record(db, item, {"O": "for"})
    db.session.commit()
    pending = events(db, meeting.id, complete=False)[-1]
    assert pending.payload is None and pending.id > made.id

    html = client.get(f"/meetings/{meeting.id}/live").text
    assert rendered == []  # no item rendered per page view
    block = re.search(rf'id="live-item-{item.id}".*?</section>', html, re.S).group(0)
    assert "For: <strong>1</strong>" in block  # V alone: the snapshot made, not O too
    after = int(re.search(r'data-after="(\d+)"', html).group(1))
    assert made.id <= after < pending.id

    [resent] = sse(client.get(f"/meetings/{meeting.id}/live/events?after={after}").text)
    assert int(resent["id"]) == pending.id
    assert resent["data"]["motions"][0]["vote"]["sides"]["for"]["labels"] == ["V", "O"]


def test_the_live_page_stores_a_snapshot_no_stream_made(db, client, meeting, rendered):
    """Events written before any viewer's stream was open have no snapshot and no process
    would make one: the first page view makes and stores it, later views render none."""
    item = meeting.items[0]
    record(db, item, {"V": "for", "O": "for"})
    db.session.commit()
    *_, pending = [e for e in events(db, meeting.id, complete=False) if e.item_id == item.id]
    assert pending.payload is None

    first = client.get(f"/meetings/{meeting.id}/live").text
    *_, stored = [e for e in events(db, meeting.id, complete=False) if e.item_id == item.id]
    assert stored.id == pending.id and stored.payload is not None
    assert payload(stored)["motions"][0]["vote"]["sides"]["for"]["labels"] == ["V", "O"]

    rendered.clear()
    again = client.get(f"/meetings/{meeting.id}/live").text
    assert rendered == []
    block = re.compile(rf'<section class="live-item" id="live-item-{item.id}".*?</section>', re.S)
    assert block.search(again).group(0) == block.search(first).group(0)
    assert "For: <strong>2</strong>" in block.search(again).group(0)


def test_before_and_after_the_meeting(db, client, factories):
    planned = factories.meeting(state=MeetingState.PLANNED)
    html = client.get(f"/meetings/{planned.id}/live").text
    assert "Mødet er ikke begyndt" in html and "06.12.2010 kl. 15.30" in html
    closed = factories.meeting(
        state=MeetingState.CLOSED, body=planned.body, starts_at=factories_time(MeetingState.CLOSED)
    )
    db.session.commit()
    html = client.get(f"/meetings/{closed.id}/live").text
    assert "Mødet er slut." in html and f'href="/meetings/{closed.id}"' in html
    assert "live/events" not in html
    assert client.get("/meetings/999999/live").status_code == 404


def test_the_meeting_page_links_to_the_live_page_while_in_session(client, meeting):
    html = client.get(f"/meetings/{meeting.id}").text
    assert f'href="/meetings/{meeting.id}/live"' in html


# --------------------------------------------------------------------------- the stream


def sse(text: str) -> list[dict]:
    """The events of a Server-Sent Events body: [{"id", "event", "data"}]."""
    found = []
    for chunk in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in chunk.splitlines() if ": " in line)
        if "data" in fields:
            found.append({**fields, "data": json.loads(fields["data"])})
    return found


@pytest.fixture
def short_streams(app):
    app.config.update(LIVE_STREAM_SECONDS=0.5, LIVE_KEEPALIVE_SECONDS=0.2)


def test_the_stream_resumes_after_last_event_id(db, client, meeting, short_streams):
    item = meeting.items[0]
    record(db, item, {"A": "for"})
    db.session.commit()
    first = events(db)[-1].id
    record(db, item, {"B": "for"})
    db.session.commit()
    record(db, item, {"F": "against"})
    db.session.commit()
    newest = events(db)[-1].id
    url = f"/meetings/{meeting.id}/live/events"

    response = client.get(url, headers={"Last-Event-ID": str(first)})
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    body = response.text
    assert body.startswith("retry: ")
    assert ": keep-alive" in body
    # Only the newest state of the item: each event is a whole snapshot.
    [resumed] = sse(body)
    assert int(resumed["id"]) == newest and resumed["event"] == "item"
    sides = resumed["data"]["motions"][0]["vote"]["sides"]
    assert sides["for"]["labels"] == ["A", "B"] and sides["against"]["labels"] == ["F"]
    assert f'id="live-item-{item.id}"' in resumed["data"]["html"]
    assert "html" in resumed["data"] and isinstance(resumed["data"]["html"], str)

    # Up to date: nothing to resend; ?after= works as the header does.
    assert sse(client.get(url, headers={"Last-Event-ID": str(newest)}).text) == []
    assert sse(client.get(f"{url}?after={newest}").text) == []
    # In English, the block in English.
    english = sse(client.get(f"{url}?after={first}&lang=en").text)[0]["data"]["html"]
    assert "Against" in english or "Imod" in english


def test_the_stream_delivers_a_new_event(app, db, client, meeting, short_streams):
    app.config["LIVE_STREAM_SECONDS"] = 3
    item_id = meeting.items[0].id
    after = events(db)[-1].id if events(db) else 0
    result = {}
    url = f"/meetings/{meeting.id}/live/events?after={after}"

    def listen():
        result["body"] = client.get(url).text

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(0.8)  # subscribed by then (were it not, the backlog would still bring it)
    record(db, db.session.get(AgendaItem, item_id), {"Ø": "abstain"})
    db.session.commit()
    listener.join(timeout=10)
    [received] = sse(result["body"])
    assert received["data"]["motions"][0]["vote"]["sides"]["abstain"]["labels"] == ["Ø"]


def _restart_event_ids(db) -> None:
    """Empty the live events and start their ids again, as a restore of an older backup
    does (and the test suite's TRUNCATE ... RESTART IDENTITY on PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("TRUNCATE live_events RESTART IDENTITY"))
    else:
        db.session.execute(sa.text("DELETE FROM live_events"))
        db.session.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'live_events'"))
    db.session.commit()


def test_the_broadcaster_follows_event_ids_that_start_again(app, db, meeting):
    """A broadcaster that has seen events with high ids still delivers the next event
    at once (not after its 5 s safety net) when the ids have started again from 1."""
    from minutes.live_views import broadcaster

    item_id = meeting.items[0].id
    source = broadcaster()
    received: list[int] = []
    arrived = threading.Event()

    def deliver(message) -> None:
        received.append(message.id)
        arrived.set()

    source.subscribe(meeting.id, deliver)
    for letter in ("A", "B", "F"):
        record(db, db.session.get(AgendaItem, item_id), {letter: "against"})
        db.session.commit()
    high = db.session.scalar(sa.select(sa.func.max(LiveEvent.id)))
    deadline = time.monotonic() + 5
    while (not received or received[-1] < high) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert received[-1] == high  # the newest (older events of one item may be skipped)

    _restart_event_ids(db)
    received.clear()
    arrived.clear()
    record(db, db.session.get(AgendaItem, item_id), {"Ø": "against"})
    db.session.commit()
    started = time.monotonic()
    assert arrived.wait(timeout=4), "the event after the ids started again never arrived"
    assert time.monotonic() - started < 2.0
    assert received == [1] and high > 1


def test_the_broadcaster_reads_a_burst_of_events_together(app, db, meeting, monkeypatch):
    """The first event after a quiet spell is read and sent at once; the events committed
    within `gather_interval` of that read are read, completed and sent together, so of
    one item's only the newest (each is a whole snapshot of its item)."""
    from minutes.live_views import broadcaster

    item_id = meeting.items[0].id
    source = broadcaster()
    monkeypatch.setattr(source, "gather_interval", 1.5)
    monkeypatch.setattr(source, "poll_interval", 5.0)  # SQLite: only the wake-ups read
    completions: list[int] = []
    complete = source.complete

    def counted(rows):
        completions.append(len(rows))
        return complete(rows)

    monkeypatch.setattr(source, "complete", counted)
    received: list[tuple[int, float]] = []

    def deliver(message) -> None:
        received.append((message.id, time.monotonic()))

    source.subscribe(meeting.id, deliver)
    time.sleep(2.0)  # quiet for longer than the gathering interval
    waits: list[float] = []  # what the thread waited before each read from now on
    gather_rest = source._gather_rest

    def measured(read_at: float) -> float:
        waits.append(gather_rest(read_at))
        return waits[-1]

    monkeypatch.setattr(source, "_gather_rest", measured)
    record(db, db.session.get(AgendaItem, item_id), {"A": "for"})
    db.session.commit()
    committed = time.monotonic()
    first = db.session.scalar(sa.select(sa.func.max(LiveEvent.id)))
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [i for i, _ in received] == [first]
    assert waits[0] == 0.0  # after a quiet spell the event is read at once
    assert received[0][1] - committed < 1.0  # not held back for the 1.5 s of gathering

    for letter in ("B", "F", "Ø"):  # a burst right after that read
        record(db, db.session.get(AgendaItem, item_id), {letter: "for"})
        db.session.commit()
    newest = db.session.scalar(sa.select(sa.func.max(LiveEvent.id)))
    deadline = time.monotonic() + 5
    while received[-1][0] < newest and time.monotonic() < deadline:
        time.sleep(0.01)
    source.unsubscribe(meeting.id, deliver)
    assert [i for i, _ in received] == [first, newest]
    assert waits[1] > 0.0  # the burst waited for the rest of the gathering interval
    assert newest == first + 3
    assert completions == [1, 1]  # two reads; of the burst, the newest of the item


@pytest.fixture
def postgresql(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the chain lock is PostgreSQL's (SQLite has one writer)")


def chain_lock_is_free() -> bool:
    """Whether another connection could take the chain lock now."""
    from protokol.audit import CHAIN_LOCK_KEY
    from protokol.extensions import db

    with db.engine.connect() as other:
        free = other.execute(
            sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY}
        ).scalar()
        other.rollback()
    return bool(free)


def test_a_recording_takes_the_chain_lock_once(db, meeting, postgresql):
    """The audit entries and the live event of one recording are ordered by one lock,
    taken by one statement, and held until the commit."""
    locks: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "pg_advisory_xact_lock" in statement:
            locks.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        record(db, meeting.items[0], {"A": "for"})
        db.session.flush()
        assert not chain_lock_is_free()
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(locks) == 1
    assert chain_lock_is_free()
    assert [e.kind for e in events(db)][-1] == "item"


def test_a_recording_notifies_the_broadcasters_when_it_commits(db, factories, meeting, postgresql):
    """Its `NOTIFY protokol_live` (sent with the event row, in one statement; after the
    rows when a write makes several) reaches a listener at the commit: not before it, and
    not for a write that is rolled back."""
    import psycopg

    from minutes.live import CHANNEL

    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")

        def heard(timeout: float) -> list[str]:
            return [n.channel for n in listener.notifies(timeout=timeout, stop_after=1)]

        record(db, meeting.items[0], {"A": "against"})
        db.session.rollback()
        assert heard(0.3) == []

        record(db, meeting.items[0], {"A": "for"})
        db.session.flush()
        assert heard(0.3) == []  # the events are written at the commit
        db.session.commit()
        assert heard(5) == [CHANNEL]

        other = factories.item(meeting, 15)
        factories.vote(factories.motion(other, MotionKind.AMENDMENT, proposer="B 1"), is_open=True)
        db.session.commit()
        heard(5)  # the new item's own event
        before = len(events(db))
        record(db, meeting.items[0], {"A": "against"})
        record(db, other, {"A": "for"})
        db.session.commit()  # one write, two items: two event rows
        assert heard(5) == [CHANNEL]
        assert len(events(db)) == before + 2
    assert [e.kind for e in events(db)][-1] == "item"


def test_a_savepoint_rolled_back_gives_up_the_chain_lock(db, meeting, postgresql):
    from protokol.audit import hold_chain_lock

    with db.session.begin_nested() as savepoint:
        hold_chain_lock(db.session(), db.session.connection())
        assert not chain_lock_is_free()
        savepoint.rollback()
    assert chain_lock_is_free()  # PostgreSQL released it with the savepoint
    hold_chain_lock(db.session(), db.session.connection())  # so it is taken again
    assert not chain_lock_is_free()
    db.session.rollback()
    assert chain_lock_is_free()


def test_stream_status_and_parsing(client, db, factories):
    assert client.get("/meetings/999999/live/events").status_code == 404
    closed = factories.meeting(state=MeetingState.CLOSED)
    db.session.commit()
    assert client.get(f"/meetings/{closed.id}/live/events").status_code == 204
    assert stream_status(None) == 404
    assert stream_status("published") == 204
    assert stream_status("in_session") == stream_status("planned") == 200
    assert parse_after("12", None) == 12
    assert parse_after("12", "40") == 40
    assert parse_after("x", "-3") == 0
    assert parse_after("9" * 40, None) == 0


def test_frames_carry_one_language_each():
    stored = {
        "type": "item",
        "item_id": 7,
        "html": {"da": "<p>Imod</p>", "en": "<p>Against</p>"},
        "announce": {"da": "Punkt 1", "en": "Item 1"},
    }
    message = message_from_row(41, 3, 7, "item", json.dumps(stored))
    assert message.frame("en").startswith(b"id: 41\nevent: item\ndata: ")
    assert message.frame("en").endswith(b"\n\n")
    data = json.loads(message.frame("en").decode().split("data: ", 1)[1])
    assert data == {"type": "item", "item_id": 7, "html": "<p>Against</p>", "announce": "Item 1"}
    assert b"Imod" in message.frame("da") and b"Imod" in message.frame("xx")
