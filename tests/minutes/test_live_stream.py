"""The live stream as the ASGI app serves it (`minutes/live_stream.py`, `protokol/asgi.py`),
driven in-process through the ASGI interface: the backlog after `?after=` or
`Last-Event-ID`, a new event as it is committed, the keep-alive comments, the end of the
stream after `LIVE_STREAM_SECONDS`, a viewer who goes away, and the answers for a meeting
that is not in session or does not exist."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import sqlalchemy as sa

from meetings.models import AgendaItem, MeetingState, Party
from minutes.broadcast import message_from_row
from minutes.live import LiveEvent
from minutes.live_stream import KEEPALIVE, RETRY, TICK, AsyncHub, event_stream
from motions.models import MotionKind
from protokol.asgi import create_asgi_app
from votes.models import Position
from votes.services import set_party_position


@pytest.fixture
def meeting(db, factories):
    """A meeting in session with item 14 and an open vote on an amendment by C 1."""
    meeting = factories.meeting()
    item = factories.item(meeting, 14, title="Integrationspolitik 2011-2014")
    factories.vote(factories.motion(item, MotionKind.AMENDMENT, proposer="C 1"), is_open=True)
    db.session.commit()
    return meeting


def record(db, item_id: int, letter: str, position: str) -> None:
    vote = db.session.get(AgendaItem, item_id).motions[0].vote
    party = db.session.scalar(sa.select(Party).where(Party.letter == letter))
    set_party_position(vote, party, Position(position), expected_version=None, actor=None)
    db.session.commit()


class Viewer:
    """One request to the ASGI app: what it sent, and when."""

    def __init__(self, path: str, query: str = "", headers=(), method: str = "GET"):
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(k.encode(), v.encode()) for k, v in headers],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        self.gone = asyncio.Event()
        self.status: int | None = None
        self.headers: dict[bytes, bytes] = {}
        self.chunks: list[tuple[float, bytes]] = []
        self.ended = False

    async def receive(self):
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = dict(message["headers"])
        else:
            self.chunks.append((time.monotonic(), message.get("body", b"")))
            self.ended = not message.get("more_body", False)

    @property
    def text(self) -> str:
        return b"".join(c for _, c in self.chunks).decode()

    def events(self) -> list[tuple[int, dict]]:
        out, event_id = [], None
        for line in self.text.splitlines():
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                out.append((event_id, json.loads(line[6:])))
        return out


def run(app, *steps) -> None:
    """Run the ASGI app for each viewer and the coroutines `steps` together, on an event
    loop of their own in a thread of their own: the browser tests' Playwright (sync API)
    keeps a loop running on the main thread for the whole session."""

    async def main():
        await asyncio.wait_for(asyncio.gather(*steps), timeout=20)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, main()).result()


def serve(asgi, viewer: Viewer):
    return asgi(viewer.scope, viewer.receive, viewer.send)


def test_the_backlog_then_a_new_event_then_keepalives_until_the_stream_ends(app, db, meeting):
    app.config.update(LIVE_KEEPALIVE_SECONDS=0.1, LIVE_STREAM_SECONDS=1.0)
    asgi = create_asgi_app(app)
    item_id = meeting.items[0].id
    record(db, item_id, "A", "against")
    first = db.session.scalar(sa.select(sa.func.max(LiveEvent.id)))
    viewer = Viewer(f"/meetings/{meeting.id}/live/events", f"after={first - 1}&lang=en")

    async def vote_later():
        await asyncio.sleep(0.4)
        await asyncio.to_thread(record_in_app, app, db, item_id)

    started = time.monotonic()
    run(app, serve(asgi, viewer), vote_later())
    took = time.monotonic() - started

    assert viewer.status == 200
    assert viewer.headers[b"content-type"].startswith(b"text/event-stream")
    assert viewer.headers[b"x-accel-buffering"] == b"no"
    assert viewer.text.startswith("retry: 2000\n\n")
    [(backlog_id, backlog), (new_id, new)] = viewer.events()
    assert backlog_id == first and new_id > first
    assert backlog["motions"][0]["vote"]["sides"]["against"]["labels"] == ["A"]
    assert new["motions"][0]["vote"]["sides"]["for"]["labels"] == ["V"]
    assert "Against" in backlog["html"]  # the English fragment, as asked
    assert viewer.text.count(": keep-alive") >= 3
    assert viewer.ended and 0.9 < took < 3.0  # ended by LIVE_STREAM_SECONDS


def record_in_app(app, db, item_id: int) -> None:
    with app.app_context():
        record(db, item_id, "V", "for")
        db.session.remove()


def test_a_viewer_who_goes_away_is_let_go(app, db, meeting):
    app.config.update(LIVE_KEEPALIVE_SECONDS=5, LIVE_STREAM_SECONDS=60)
    asgi = create_asgi_app(app)
    stream = asgi.stream
    viewer = Viewer(f"/meetings/{meeting.id}/live/events")

    left = {}

    async def leave():
        while not stream.hubs or next(iter(stream.hubs.values())).viewers() == 0:
            await asyncio.sleep(0.02)  # connected (the broadcaster starts on first use)
        [hub] = stream.hubs.values()
        assert hub.viewers() == 1
        left["at"] = time.monotonic()
        viewer.gone.set()

    run(app, serve(asgi, viewer), leave())
    # The stream ended at once: well before the next keep-alive (5 s), let alone the end of
    # the stream (60 s). The bound leaves room for a loaded machine (1.02 s was seen in a
    # full run beside other work: the loop's shutdown is in the interval too).
    assert time.monotonic() - left["at"] < 4.0
    [hub] = stream.hubs.values()
    assert hub.viewers() == 0
    assert viewer.status == 200 and not viewer.ended  # nothing is sent to a closed connection


def test_a_resumed_stream_sends_only_what_came_after_last_event_id(app, db, meeting):
    app.config.update(LIVE_KEEPALIVE_SECONDS=0.1, LIVE_STREAM_SECONDS=0.3)
    asgi = create_asgi_app(app)
    item_id = meeting.items[0].id
    record(db, item_id, "A", "against")
    newest = db.session.scalar(sa.select(sa.func.max(LiveEvent.id)))
    viewer = Viewer(f"/meetings/{meeting.id}/live/events", headers=[("last-event-id", str(newest))])
    run(app, serve(asgi, viewer))
    assert viewer.events() == [] and viewer.ended


def test_answers_for_meetings_without_a_stream(app, db, factories, meeting):
    asgi = create_asgi_app(app)
    closed = factories.meeting(
        state=MeetingState.CLOSED, body=meeting.body, starts_at=datetime(2010, 11, 1, 15, 30)
    )
    db.session.commit()
    for path, status in (
        ("/meetings/999999/live/events", 404),
        (f"/meetings/{closed.id}/live/events", 204),
    ):
        viewer = Viewer(path)
        run(app, serve(asgi, viewer))
        assert (viewer.status, viewer.text, viewer.ended) == (status, "", True)
    head = Viewer(f"/meetings/{meeting.id}/live/events", method="HEAD")
    run(app, serve(asgi, head))
    assert head.status == 200 and head.text == "" and head.ended
    assert head.headers[b"content-type"].startswith(b"text/event-stream")


class QuietSource:
    """The broadcaster as a stream sees it, with nothing in the table."""

    def backlog(self, meeting_id: int, after: int) -> list:
        return []

    def subscribe(self, meeting_id: int, subscriber) -> None:
        pass

    def unsubscribe(self, meeting_id: int, subscriber) -> None:
        pass


def item_message(event_id: int):
    payload = json.dumps({"item_id": 5, "html": {"da": f"<p>{event_id}</p>"}})
    return message_from_row(event_id, 7, 5, "item", payload)


def test_events_waiting_together_go_out_in_one_write():
    """The events the broadcaster hands over in one go reach a viewer as one chunk (one
    write to its connection), in order, without one it has already had; a keep-alive
    goes out only when nothing else does."""
    chunks: list[bytes] = []

    async def main():
        hub = AsyncHub(QuietSource(), asyncio.get_running_loop(), keepalive=60)
        queue = hub.open(7)
        stream = event_stream(hub, queue, 7, 0, "da", max_seconds=60)
        chunks.append(await anext(stream))
        for event_id in (1, 2, 3):
            hub._dispatch(item_message(event_id))
        chunks.append(await anext(stream))
        for message in (item_message(2), item_message(4)):  # 2: already sent
            hub._dispatch(message)
        queue.put_nowait(TICK)
        chunks.append(await anext(stream))
        queue.put_nowait(TICK)
        chunks.append(await anext(stream))
        hub.stop(queue)
        assert [chunk async for chunk in stream] == []
        hub.close(7, queue)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, main()).result(timeout=10)

    assert chunks[0] == RETRY
    ids = [
        [line for line in chunk.decode().splitlines() if line.startswith("id: ")]
        for chunk in chunks[1:3]
    ]
    assert ids == [["id: 1", "id: 2", "id: 3"], ["id: 4"]]
    assert KEEPALIVE not in chunks[2]  # the tick came with an event
    assert chunks[3] == KEEPALIVE
