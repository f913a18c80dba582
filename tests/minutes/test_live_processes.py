"""A vote recorded through one app server process reaches live viewers connected to every
process: two uvicorn servers (the ASGI app, async streams) on the test database — SQLite
file or PostgreSQL, whichever the run uses — an SSE client on each, the secretary's vote
posted through the first; both clients must have it within 2 seconds."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime

import httpx
import sqlalchemy as sa

from meetings.models import Party
from minutes.live import LiveEvent
from motions.models import MotionKind
from tests.asgi_servers import uvicorn_servers


class Listener(threading.Thread):
    """An SSE client that records when each event arrives."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.connected = threading.Event()
        self.done = threading.Event()
        self.received: list[tuple[float, int, dict]] = []
        self.status: int | None = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url, timeout=httpx.Timeout(10.0)) as response:
                self.status = response.status_code
                event_id = 0
                for line in response.iter_lines():
                    if line.startswith("retry:"):
                        self.connected.set()  # subscribed: the server sends this first
                    elif line.startswith("id: "):
                        event_id = int(line[4:])
                    elif line.startswith("data: "):
                        self.received.append((time.monotonic(), event_id, json.loads(line[6:])))
                    if self.done.is_set() or any(d["type"] == "item" for _, _, d in self.received):
                        return
        except Exception as exc:  # reported by the test
            self.error = exc
        finally:
            self.connected.set()


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_a_vote_reaches_viewers_on_two_server_processes(
    app, db, factories, make_user, database_url, tmp_path
):
    meeting = factories.meeting()
    item = factories.item(meeting, 14, title="Integrationspolitik")
    vote = factories.vote(
        factories.motion(item, MotionKind.AMENDMENT, proposer="C 1"), is_open=True
    )
    db.session.commit()
    secretary = make_user("secretary", bodies=[meeting.body])
    party_id = db.session.scalar(sa.select(Party.id).where(Party.letter == "V"))
    after = db.session.scalar(sa.select(sa.func.max(LiveEvent.id))) or 0
    meeting_id, item_id, vote_id = meeting.id, item.id, vote.id

    with uvicorn_servers(database_url, tmp_path, count=2) as servers:
        listeners = [
            Listener(f"{base}/meetings/{meeting_id}/live/events?after={after}") for base in servers
        ]
        for listener in listeners:
            listener.start()
        for listener in listeners:
            assert listener.connected.wait(10), "no stream"
            assert listener.error is None and listener.status == 200

        with httpx.Client(base_url=servers[0], timeout=10) as browser:
            login_form = browser.get("/login").text
            response = browser.post(
                "/login",
                data={
                    "email": secretary.email,
                    "password": "password-123",
                    "csrf_token": csrf(login_form),
                },
            )
            assert response.status_code == 302
            console = browser.get(f"/console/items/{item_id}").text
            sent_at = time.monotonic()
            response = browser.post(
                f"/console/votes/{vote_id}/parties/{party_id}",
                data={"csrf_token": csrf(console), "version": "1", "position": "for"},
            )
            assert response.status_code == 303, response.text[:500]

        for listener in listeners:
            listener.join(timeout=5)
            listener.done.set()
        for base, listener in zip(servers, listeners, strict=True):
            items = [(t, i, d) for t, i, d in listener.received if d["type"] == "item"]
            assert items, f"{base}: no event within 5 s"
            arrived, event_id, data = items[0]
            assert event_id > after and data["item_id"] == item_id
            assert data["motions"][0]["vote"]["sides"]["for"]["labels"] == ["V"]
            assert 'class="live-item"' in data["html"]
            assert arrived - sent_at < 2.0, f"{base}: {arrived - sent_at:.2f} s"


def test_the_asgi_app_serves_the_whole_site(app, db, factories, database_url, tmp_path):
    from meetings.models import MeetingState

    meeting = factories.meeting()
    factories.item(meeting, 1, title="Dagsordenspunkt")
    finished = factories.meeting(
        state=MeetingState.CLOSED, body=meeting.body, starts_at=datetime(2011, 1, 3, 15, 0)
    )
    db.session.commit()
    with uvicorn_servers(database_url, tmp_path, count=1) as [base]:
        page = httpx.get(f"{base}/meetings/{meeting.id}/live", timeout=10)
        assert page.status_code == 200 and "1. Dagsordenspunkt" in page.text
        assert httpx.get(f"{base}/static/live.js", timeout=10).status_code == 200
        assert httpx.get(f"{base}/meetings/999999/live/events", timeout=10).status_code == 404
        url = f"{base}/meetings/{finished.id}/live/events"
        assert httpx.get(url, timeout=10).status_code == 204
