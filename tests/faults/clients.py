"""The pieces the fault and concurrency tests share: the meeting they record on, a
secretary's browser on the live console over real HTTP (CSRF token and the vote's version
read from the page, as `bench/live_viewers.Secretary` does), the check that no answer
shows a server fault, and the record read back from the database afterwards."""

from __future__ import annotations

import html as html_lib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from protokol.extensions import db as _db
from tests.conftest import make_app

#: The password of the secretaries created here.
PASSWORD = "password-123"
#: The parties of the committee (tests/factories.py), in the body's order.
PARTIES = ("A", "B", "F", "Ø", "V", "O", "C")
#: What no answer may contain: a database error or a traceback reaching the user.
FAULT_MARKERS = ("database is locked", "OperationalError", "Traceback (most recent call last)")
#: The console's messages when a save is based on an older version of the vote: seen before
#: the write (`VoteConflict`), or by the database as the write ran (`StaleDataError`).
CONFLICTS = (
    "Afstemningen er netop ændret et andet sted.",
    "Afstemningen blev ændret et andet sted samtidig.",
)


@dataclass
class MeetingInSession:
    """The ids the clients need."""

    meeting_id: int
    #: (item id, item number, vote id) of each item with one open vote.
    votes: list[tuple[int, int, int]]
    #: (item id, motion id) of each item with one motion and no vote yet, nor a decision.
    unopened: list[tuple[int, int]]
    #: Party letter → id.
    parties: dict[str, int]
    #: The secretaries' e-mail addresses.
    secretaries: list[str]


def prepare_meeting(
    url: str, folder: Path, *, votes: int, secretaries: int, unopened: int = 0
) -> MeetingInSession:
    """A meeting in session of the tests' committee with `votes` items, each with one
    motion whose vote is open, then `unopened` items with a motion whose vote is not
    open yet, and `secretaries` secretaries of the committee."""
    from protokol.accounts.models import Role
    from protokol.accounts.services import create_user
    from tests.factories import Factories

    app = make_app(url, folder)
    with app.app_context():
        factories = Factories(_db.session)
        meeting = factories.meeting()
        items = []
        for number in range(1, votes + 1):
            item = factories.item(meeting, number, title=f"Punkt {number}")
            vote = factories.vote(factories.motion(item, party="C"), is_open=True)
            items.append((item.id, item.number, vote.id))
        waiting = []
        for number in range(votes + 1, votes + unopened + 1):
            item = factories.item(meeting, number, title=f"Punkt {number}")
            waiting.append((item.id, factories.motion(item, party="C").id))
        emails = []
        for n in range(1, secretaries + 1):
            user = create_user(
                f"sekretaer{n}@faults.example.dk",
                Role.SECRETARY,
                PASSWORD,
                name=f"Sekretær {n}",
                body_ids=[meeting.body_id],
            )
            emails.append(user.email)
        parties = {letter: factories.party(letter).id for letter in PARTIES}
        _db.session.commit()
        result = MeetingInSession(meeting.id, items, waiting, parties, emails)
        _db.session.remove()
        _db.engine.dispose()
    return result


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def login(base: str, email: str) -> httpx.Cookies:
    """Log a secretary in through the login form; the session's cookies (several clients
    may share them: one account, several browsers)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        form = client.get("/login").text
        response = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf(form)}
        )
        assert response.status_code == 302, response.text[:500]
        return client.cookies


def faults_in(response: httpx.Response) -> str | None:
    """Why the answer shows a server fault (a 5xx, a database error, a traceback), or None."""
    if response.status_code >= 500:
        return f"{response.request.method} {response.request.url.path}: {response.status_code}"
    text = response.text
    for marker in FAULT_MARKERS:
        if marker in text:
            return f"{response.request.method} {response.request.url.path}: {marker!r}"
    return None


#: The hidden inputs every console form starts with: its submission key and CSRF token.
FORM_KEYS = r'(?:<input type="hidden" name="(?:submission_key|csrf_token)" value="[^"]*">)*'


@dataclass
class ConsolePage:
    """What the console page of an item shows of one vote."""

    token: str
    #: An unused submission key from the page's forms (sent once, as a browser would).
    key: str | None
    version: int
    #: Party id → the position shown as pressed ("" when none).
    positions: dict[int, str]
    message: str


def read_console(html: str, vote_id: int) -> ConsolePage:
    versions = set(
        re.findall(
            rf'action="/console/votes/{vote_id}/[^"]+"[^>]*>\s*{FORM_KEYS}'
            r'<input type="hidden" name="version" value="(\d+)"',
            html,
        )
    )
    assert len(versions) == 1, f"vote {vote_id}: versions on the page {versions}"
    positions = {
        int(party): value
        for party, value in re.findall(
            rf'action="/console/votes/{vote_id}/parties/(\d+)"[^>]*>\s*{FORM_KEYS}'
            r'<input type="hidden" name="version" value="\d+"><input type="hidden" '
            r'name="position" value="([a-z]*)">\s*<button[^>]*aria-pressed="true"',
            html,
        )
    }
    message = re.search(r'<div id="console-message"[^>]*>(.*?)</div>', html, re.S)
    key = re.search(r'name="submission_key" value="([^"]+)"', html)
    return ConsolePage(
        csrf(html),
        key.group(1) if key else None,
        int(versions.pop()),
        positions,
        html_lib.unescape(message.group(1)).strip() if message else "",
    )


@dataclass
class Log:
    """What one client did: requests, faults, and each recording the server acknowledged."""

    requests: int = 0
    #: 409s refused before the write (the version sent was old), and by the database.
    conflicts: list[int] = field(default_factory=lambda: [0, 0])
    faults: list[str] = field(default_factory=list)
    #: (vote id, party id, position, the version the write was based on, time acknowledged).
    acknowledged: list[tuple[int, int, str, int, float]] = field(default_factory=list)
    #: The paths of other saves acknowledged.
    saved: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


class Console:
    """A secretary's browser on the live console of one item, over HTTP."""

    def __init__(self, base: str, cookies: httpx.Cookies, item_id: int, vote_id: int, log: Log):
        self.http = httpx.Client(base_url=base, cookies=cookies, timeout=30)
        self.item_id, self.vote_id, self.log = item_id, vote_id, log
        self.page = self.load()

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        started = time.monotonic()
        response = self.http.request(method, path, **kwargs)
        self.log.seconds.append(time.monotonic() - started)
        self.log.requests += 1
        fault = faults_in(response)
        if fault:
            self.log.faults.append(fault)
        return response

    def load(self) -> ConsolePage:
        """GET the console page (as after the redirect that follows a save)."""
        response = self.request("GET", f"/console/items/{self.item_id}")
        assert response.status_code == 200, response.status_code
        self.page = read_console(response.text, self.vote_id)
        return self.page

    def record(self, party_id: int, position: str, *, follow: bool = True) -> int:
        """POST a party's position with the version last seen; the status. On 303 (saved)
        the write is logged as acknowledged, and with `follow` the page is read again; on
        409 (a newer version) the answer is the page with the newer state."""
        based_on = self.page.version
        data = {"csrf_token": self.page.token, "version": based_on, "position": position}
        if self.page.key:
            data["submission_key"], self.page.key = self.page.key, None
        response = self.request(
            "POST", f"/console/votes/{self.vote_id}/parties/{party_id}", data=data
        )
        if response.status_code == 303:
            self.log.acknowledged.append(
                (self.vote_id, party_id, position, based_on, time.monotonic())
            )
            if follow:
                self.load()
            else:
                self.page.version += 1
                self.page.positions[party_id] = position
        elif response.status_code == 409:
            page = read_console(response.text, self.vote_id)
            self.log.conflicts[CONFLICTS[1] in page.message] += 1
            if not any(c in page.message for c in CONFLICTS) or page.version <= based_on:
                self.log.faults.append(
                    f"409 without the newer state: {page.message!r}, version {page.version}"
                    f" after {based_on}"
                )
            self.page = page
        else:
            self.log.faults.append(f"POST {response.request.url.path}: {response.status_code}")
        return response.status_code


# --------------------------------------------------------------------------- the record


def query(url: str, sql: str) -> list[tuple]:
    """The rows of one query, on a connection of its own."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def stored_votes(url: str) -> dict[int, tuple[int, dict[int, str]]]:
    """Each vote as stored: vote id → (version, party id → position)."""
    votes: dict[int, tuple[int, dict[int, str]]] = {
        vote_id: (version, {}) for vote_id, version in query(url, "SELECT id, version FROM votes")
    }
    for vote_id, party_id, position in query(
        url, "SELECT vote_id, party_id, position FROM party_votes"
    ):
        votes[vote_id][1][party_id] = str(position).lower()
    return votes


def audit_trail(url: str, entity: str) -> list[tuple[str, int, dict | None, dict | None]]:
    """The audit trail's entries for one table, in order: (action, row id, before, after)."""
    from protokol.audit import AuditEntry

    table = AuditEntry.__table__
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            entries = conn.execute(
                sa.select(table.c.action, table.c.entity_id, table.c.before, table.c.after)
                .where(table.c.entity == entity)
                .order_by(table.c.id)
            ).all()
    finally:
        engine.dispose()
    return [(str(getattr(a, "value", a)).lower(), i, b, c) for a, i, b, c in entries]


def party_vote_trail(url: str) -> dict[int, list[tuple[str, int, str]]]:
    """The audit trail's entries for party positions, per vote, in order:
    (action, party id, position after: "" for a delete)."""
    rows = {}  # party_votes id → (vote id, party id)
    trail: dict[int, list[tuple[str, int, str]]] = {}
    for action, entity_id, _before, after in audit_trail(url, "party_votes"):
        if action == "create":
            rows[entity_id] = (after["vote_id"], after["party_id"])
        vote_id, party_id = rows[entity_id]
        position = "" if action == "delete" else after["position"]
        trail.setdefault(vote_id, []).append((action, party_id, position))
    return trail
