"""Twenty clients at once on one meeting in session, over real HTTP against gunicorn (sync
workers, deploy/gunicorn.conf.py), on SQLite (WAL, synchronous=FULL) or PostgreSQL:

- `OWN` secretaries each record party positions on a vote of their own;
- `PAIRS` pairs of secretaries race on one vote and one party (each of a pair sets
  positions the other never sets, so every save the server acknowledges changes the
  record); optimistic locking answers the loser 409 with the newer state;
- a pair of secretaries opens the vote on the same motion, and then gives the item its
  first decision, at the same instant (`DOUBLE` items; as two colleagues, or a double
  click): both must be answered as saved, and each row exists once;
- `READERS` clients read the console page, the public meeting and item pages and the
  live page.

Four logins are shared among the secretaries' clients (one account, several browsers).
No answer may be a 5xx or show a database error or a traceback; no acknowledged save may
be lost (for each vote, the stored positions are those of the last acknowledged save of
each party, and the versions the saves were based on follow each other without a gap or a
repeat); none may be written twice (the audit trail holds exactly one entry per
acknowledged save, in the same order), and the audit chain verifies.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial

import httpx
import sqlalchemy as sa

from protokol.audit import verify_chain
from tests.asgi_servers import gunicorn_server
from tests.faults.clients import (
    Console,
    Log,
    audit_trail,
    csrf,
    faults_in,
    login,
    party_vote_trail,
    query,
    stored_votes,
)

OWN = 12
PAIRS = 2
DOUBLE = 6
READERS = 20 - OWN - 2 * PAIRS - 2
ACCOUNTS = 4
#: How long the clients run, and the most requests a client sends.
SECONDS = 8.0
MAX_REQUESTS = 400
#: The positions each of a racing pair sets: disjoint, and each sends one the page does not
#: show, so the party never has it already, whatever the other did meanwhile: every save
#: acknowledged changes the vote.
RACER_POSITIONS = (("for", ""), ("against", "abstain"))
ALL_POSITIONS = ("for", "against", "abstain", "")


def own_recorder(console: Console, parties: list[int], until: float, *, seed: int) -> None:
    """Set a random party to a position it does not have; after each save the page shows
    exactly that save (no one else writes this vote)."""
    rng = random.Random(seed)
    while time.monotonic() < until and console.log.requests < MAX_REQUESTS:
        party = rng.choice(parties)
        before = console.page
        position = rng.choice([p for p in ALL_POSITIONS if p != before.positions.get(party, "")])
        based_on = before.version
        status = console.record(party, position)
        shown = console.page.positions.get(party, "")
        if status == 303 and (console.page.version != based_on + 1 or shown != position):
            console.log.faults.append(
                f"vote {console.vote_id}: saved {position!r} on version {based_on}, the page"
                f" shows {shown!r} at version {console.page.version}"
            )
        elif status != 303:
            console.log.faults.append(f"vote {console.vote_id}: alone, yet answered {status}")


def racer(
    console: Console, party: int, positions: tuple[str, str], until: float, *, seed: int
) -> None:
    """Set the shared vote's party to one of `positions` other than the one shown."""
    rng = random.Random(seed)
    while time.monotonic() < until and console.log.requests < MAX_REQUESTS:
        shown = console.page.positions.get(party, "")
        console.record(party, rng.choice([p for p in positions if p != shown]))


def double_clicker(
    base: str, cookies: httpx.Cookies, items: list[tuple[int, int]], side: int, barrier, log: Log
) -> None:
    """With the other of the pair, item by item: open the vote on the item's motion, then
    set the item's decision, each at the same instant as the other (`barrier`)."""
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        try:
            token = csrf(client.get(f"/console/items/{items[0][0]}").text)
            for item_id, motion_id in items:
                for path, data in (
                    (f"/console/motions/{motion_id}/vote", {}),
                    (f"/console/items/{item_id}/decision", {"result_text": f"Vedtaget ({side})."}),
                ):
                    barrier.wait(timeout=60)
                    response = client.post(path, data={"csrf_token": token, **data})
                    log.requests += 1
                    if response.status_code == 303:
                        log.saved.append(path)
                    else:
                        log.faults.append(
                            faults_in(response) or f"POST {path}: {response.status_code}"
                        )
        except Exception:
            barrier.abort()  # the other of the pair stops waiting
            raise


def reader(base: str, cookies: httpx.Cookies, paths: list[str], log: Log, until: float) -> None:
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        n = 0
        while time.monotonic() < until and log.requests < MAX_REQUESTS:
            path = paths[n % len(paths)]
            n += 1
            started = time.monotonic()
            response = client.get(path)
            log.seconds.append(time.monotonic() - started)
            log.requests += 1
            fault = faults_in(response)
            if fault or response.status_code != 200:
                log.faults.append(fault or f"GET {path}: {response.status_code}")


def guarded(log: Log, run: Callable[[float], None], until: float) -> None:
    try:
        run(until)
    except Exception as exc:  # reported by the test
        log.faults.append(f"client failed: {exc!r}")


def test_twenty_clients_record_and_read_one_meeting(meeting_in_session, own_database, tmp_path):
    setup = meeting_in_session(votes=OWN + PAIRS, secretaries=ACCOUNTS, unopened=DOUBLE)
    party_ids = list(setup.parties.values())
    own_votes, race_votes = setup.votes[:OWN], setup.votes[OWN:]
    meeting = setup.meeting_id

    with gunicorn_server(own_database, tmp_path) as server:
        started = time.monotonic()
        sessions = [login(server.url, email) for email in setup.secretaries]
        # Each client: its log, and what it does until the time given.
        clients: list[tuple[Log, Callable[[float], None]]] = []
        consoles: list[Console] = []

        def console(n: int, item_id: int, vote_id: int) -> Console:
            log = Log()
            consoles.append(Console(server.url, sessions[n % ACCOUNTS], item_id, vote_id, log))
            return consoles[-1]

        for n, (item_id, _, vote_id) in enumerate(own_votes):
            c = console(n, item_id, vote_id)
            clients.append((c.log, partial(own_recorder, c, party_ids, seed=n)))
        for p, (item_id, _, vote_id) in enumerate(race_votes):
            for side, positions in enumerate(RACER_POSITIONS):
                c = console(p + side, item_id, vote_id)
                clients.append(
                    (c.log, partial(racer, c, party_ids[p], positions, seed=100 + 2 * p + side))
                )
        barrier = threading.Barrier(2)
        doubles = [Log(), Log()]
        for side, log in enumerate(doubles):
            run = partial(
                double_clicker, server.url, sessions[side], setup.unopened, side, barrier, log
            )
            clients.append((log, lambda _until, run=run: run()))
        paths = [
            f"/console/items/{race_votes[0][0]}",
            f"/meetings/{meeting}",
            f"/meetings/{meeting}/live",
            f"/meetings/{meeting}/items/{race_votes[-1][1]}",
            f"/console/items/{own_votes[0][0]}",
        ]
        for n in range(READERS):
            log = Log()
            rotated = paths[n:] + paths[:n]
            clients.append((log, partial(reader, server.url, sessions[n % ACCOUNTS], rotated, log)))
        assert len(clients) == 20

        until = time.monotonic() + SECONDS
        threads = [threading.Thread(target=guarded, args=(log, run, until)) for log, run in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 60)
        assert not any(t.is_alive() for t in threads), "a client is still waiting"
        for c in consoles:
            c.close()
        elapsed = time.monotonic() - started
        server_log = server.log_text()
    logs = [log for log, _ in clients]

    faults = [fault for log in logs for fault in log.faults]
    assert not faults, f"{faults[:20]}\n{server_log[-4000:]}"
    tracebacks = "Traceback" in server_log or "Error handling request" in server_log
    assert not tracebacks, server_log[-4000:]

    acknowledged = sorted(a for log in logs for a in log.acknowledged)
    by_vote: dict[int, list[tuple[int, int, str]]] = {}
    for vote_id, party, position, based_on, _at in acknowledged:
        by_vote.setdefault(vote_id, []).append((based_on, party, position))
    stored = stored_votes(own_database)
    trail = party_vote_trail(own_database)
    for _item, _number, vote_id in setup.votes:
        saves = sorted(by_vote.get(vote_id, []))
        bases = [based_on for based_on, _, _ in saves]
        # Each acknowledged save changed the vote, so each was based on a version of its own:
        # two on the same version would be a lost update.
        repeated = [v for v, n in Counter(bases).items() if n > 1]
        assert not repeated, f"vote {vote_id}: saves acknowledged on the same version {repeated}"
        assert bases == list(range(1, len(saves) + 1)), f"vote {vote_id}: {bases}"
        version, positions = stored[vote_id]
        assert version == len(saves) + 1
        last: dict[int, str] = {}
        for _, party, position in saves:
            last[party] = position
        assert positions == {p: v for p, v in last.items() if v}, f"vote {vote_id}"
        # Exactly one audit entry per acknowledged save, in the order of the saves.
        assert [(party, position) for _, party, position in trail.get(vote_id, [])] == [
            (party, position) for _, party, position in saves
        ], f"vote {vote_id}"

    # The pair's saves: every one acknowledged; each vote and each decision exists once,
    # created once in the audit trail.
    assert sum(len(log.saved) for log in doubles) == 2 * 2 * DOUBLE
    motions = [motion_id for _, motion_id in setup.unopened]
    items = [item_id for item_id, _ in setup.unopened]
    opened = [m for (m,) in query(own_database, "SELECT motion_id FROM votes") if m in motions]
    assert sorted(opened) == sorted(motions)
    trail = audit_trail(own_database, "votes")
    created = [a["motion_id"] for action, _, _, a in trail if action == "create"]
    assert sorted(m for m in created if m in motions) == sorted(motions)
    decisions = {
        item_id: text
        for item_id, text in query(own_database, "SELECT item_id, result_text FROM decisions")
        if item_id in items
    }
    assert sorted(decisions) == sorted(items)
    assert set(decisions.values()) <= {"Vedtaget (0).", "Vedtaget (1)."}
    trail = audit_trail(own_database, "decisions")
    created = [a["item_id"] for action, _, _, a in trail if action == "create"]
    assert sorted(created) == sorted(items)

    engine = sa.create_engine(own_database)
    with engine.connect() as conn:
        report = verify_chain(conn)
    engine.dispose()
    assert report.is_intact, report

    requests = sum(log.requests for log in logs)
    early = sum(log.conflicts[0] for log in logs)
    late = sum(log.conflicts[1] for log in logs)
    race_saves = sum(len(by_vote.get(v, [])) for _, _, v in race_votes)
    print(
        f"\n{requests} requests by 20 clients in {elapsed:.1f} s:"
        f" {len(acknowledged)} saves acknowledged ({race_saves} on the raced votes),"
        f" {early + late} answered 409 ({late} of them caught by the database's version check);"
        f" {DOUBLE} votes opened and {DOUBLE} decisions set twice at once, all acknowledged"
    )
    assert race_saves and early + late, "the pairs never raced"
