"""`kill -9` of the app server while secretaries record: gunicorn (sync workers,
deploy/gunicorn.conf.py) serves a meeting in session; `CLIENTS` secretaries record party
positions over HTTP, each request on a (vote, party) that has no position yet, so that
every acknowledged request has an effect of its own to look for. Once `KILL_AFTER` saves
are acknowledged, the whole gunicorn process group (master and workers) gets SIGKILL,
with requests in flight. Then the database is opened afresh (and after the checks served
again, recorded on, and killed again: `ROUNDS` kills in all):

- SQLite: `PRAGMA integrity_check` answers "ok", and so does the foreign key check;
- the app opens it: `flask audit verify` (a new process) finds the audit chain intact;
- every save acknowledged (303) before the kill is stored; nothing is stored that was not
  sent; each vote's version counts exactly its stored positions (a save is all or
  nothing), and the audit trail holds exactly one entry per stored position.

On PostgreSQL likewise: the server process is killed, not PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import sqlalchemy as sa

from tests.asgi_servers import ROOT, gunicorn_server, server_env
from tests.faults.clients import Console, Log, login, party_vote_trail, stored_votes

CLIENTS = 3
#: Each round serves the database, records on votes of its own, and kills the server
#: once `KILL_AFTER` saves are acknowledged, and then the round's delay (seconds): a
#: different moment of the requests in flight.
KILL_DELAYS = (0.0, 0.012)
ROUNDS = len(KILL_DELAYS)
VOTES_A_ROUND = 6
KILL_AFTER = 30
#: The most a client's run may take before the kill (a bound, not the expected time).
SECONDS = 60.0
POSITIONS = ("for", "against", "abstain")


def record_until_killed(
    console: Console, votes: list[tuple[int, int]], parties: list[int], sent: list
) -> None:
    """Set each party on each of `votes` in turn (one request each, never the same (vote,
    party) twice), until the server is gone; each request is noted in `sent` before it
    goes out."""
    until = time.monotonic() + SECONDS
    n = 0
    try:
        for vote_id, item_id in votes:
            console.vote_id, console.item_id = vote_id, item_id
            console.load()
            for party in parties:
                if time.monotonic() > until:
                    return
                position = POSITIONS[n % len(POSITIONS)]
                n += 1
                sent.append((vote_id, party, position))
                console.record(party, position, follow=False)
    except httpx.TransportError:
        return  # the server is gone: the last request sent may or may not be stored


def serve_and_kill(
    url: str, folder, setup, votes: list[tuple[int, int]], sent: list, delay: float
) -> list[Log]:
    """Serve the database, let the clients record on `votes`, and SIGKILL the server's
    process group `delay` seconds after `KILL_AFTER` saves are acknowledged; the clients'
    logs."""
    parties = list(setup.parties.values())
    with gunicorn_server(url, folder) as server:
        started = time.monotonic()
        sessions = [login(server.url, email) for email in setup.secretaries]
        logs = [Log() for _ in range(CLIENTS)]
        consoles = [
            Console(server.url, sessions[n], votes[n][1], votes[n][0], logs[n])
            for n in range(CLIENTS)
        ]
        threads = [
            threading.Thread(
                target=record_until_killed, args=(consoles[n], votes[n::CLIENTS], parties, sent)
            )
            for n in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        while sum(len(log.acknowledged) for log in logs) < KILL_AFTER:
            assert any(t.is_alive() for t in threads), "the clients stopped before the kill"
            assert time.monotonic() - started < SECONDS, "too slow to reach the kill"
            time.sleep(0.002)
        time.sleep(delay)
        server.kill()
        killed_at = time.monotonic()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(t.is_alive() for t in threads)
        for console in consoles:
            console.close()
    late = [a for log in logs for a in log.acknowledged if a[-1] > killed_at]
    assert not late, f"saves acknowledged after the kill: {late}"
    faults = [fault for log in logs for fault in log.faults]
    assert not faults, faults
    return logs


def check_after_kill(url: str, folder, acknowledged: set, sent: list) -> int:
    """Open the killed server's database afresh and check it (the module's docstring);
    the number of positions stored."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(sa.make_url(url).database)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            connection.close()

    verify = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify"],
        cwd=ROOT,
        env=server_env(url, folder),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "The audit trail is intact" in verify.stdout

    stored = stored_votes(url)
    cells = {(v, p, pos) for v, (_, positions) in stored.items() for p, pos in positions.items()}
    missing = acknowledged - cells
    assert not missing, f"acknowledged but not stored: {sorted(missing)}"
    assert cells <= set(sent), f"stored but never sent: {sorted(cells - set(sent))}"
    for vote_id, (version, positions) in stored.items():
        assert version == 1 + len(positions), f"vote {vote_id}: version {version}, {positions}"
    trail = party_vote_trail(url)
    assert sorted(
        (v, party, position) for v, entries in trail.items() for _, party, position in entries
    ) == sorted(cells)
    assert all(action == "create" for entries in trail.values() for action, _, _ in entries)
    return len(cells)


def test_kill_9_of_the_server_loses_no_acknowledged_save(
    meeting_in_session, own_database, tmp_path
):
    setup = meeting_in_session(votes=ROUNDS * VOTES_A_ROUND, secretaries=CLIENTS)
    votes = [(vote_id, item_id) for item_id, _, vote_id in setup.votes]
    started = time.monotonic()
    sent: list[tuple[int, int, str]] = []
    acknowledged: set[tuple[int, int, str]] = set()
    figures = []
    stored = 0
    for n in range(ROUNDS):
        # Each round serves the database the round before left behind.
        before = len(sent), len(acknowledged), stored
        these = votes[n * VOTES_A_ROUND : (n + 1) * VOTES_A_ROUND]
        logs = serve_and_kill(own_database, tmp_path, setup, these, sent, KILL_DELAYS[n])
        acknowledged |= {(v, p, pos) for log in logs for v, p, pos, _, _ in log.acknowledged}
        stored = check_after_kill(own_database, tmp_path, acknowledged, sent)
        in_flight = (len(sent) - before[0]) - (len(acknowledged) - before[1])
        figures.append(
            f"kill {n + 1}: {sum(log.requests for log in logs)} requests,"
            f" {len(acknowledged) - before[1]} saves acknowledged, {in_flight} in flight"
            f" ({(stored - before[2]) - (len(acknowledged) - before[1])} of them stored)"
        )
    print(f"\n{CLIENTS} clients; {'; '.join(figures)}; {time.monotonic() - started:.1f} s")
