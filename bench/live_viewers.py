"""Benchmark of the live page: many viewers on the ASGI server while the secretary records.

    .venv/bin/python bench/live_viewers.py                  # SQLite file in a temp folder
    .venv/bin/python bench/live_viewers.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

It creates a fresh database (on PostgreSQL: a new database on that server, dropped at the
end), loads the demo meeting in session with an open vote on item 14, starts
`uvicorn protokol.asgi:app --workers 2` on a free loopback port, and then:

1. records `--votes` votes through the console (HTTP POSTs, one after another, as the
   secretary's clicks) with no viewer connected;
2. opens `--viewers` Server-Sent Events streams of the meeting's live page from a separate
   process (asyncio + httpx), and records `--votes` votes again;
3. prints the console POST latency (p50/p99) without and with the viewers, the delivery
   latency of each event to every viewer (from the POST being sent to the viewer having
   the event; p50/p99 over all deliveries and over each event's slowest viewer), missed
   deliveries, and the resident memory of each worker process.

Everything runs on this machine's loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import multiprocessing as mp
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-123"


# --------------------------------------------------------------------------- set-up


def create_database(base_url: str | None, folder: Path) -> str:
    import sqlalchemy as sa

    if base_url and base_url.startswith("postgresql"):
        url = sa.make_url(base_url)
        name = f"protokol_bench_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return url.set(database=name).render_as_string(hide_password=False)
    return f"sqlite:///{folder / 'bench.sqlite3'}"


def drop_database(url: str, base_url: str | None) -> None:
    import sqlalchemy as sa

    if url.startswith("postgresql") and base_url:
        engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            name = sa.make_url(url).database
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def prepare(url: str, folder: Path) -> dict:
    """Migrate, load the demo meeting in session with an open vote, create a secretary."""
    os.environ["PROTOKOL_ENV"] = "testing"
    from flask_migrate import upgrade

    from minutes.interchange import import_meeting
    from motions.models import MotionKind
    from motions.services import create_motion
    from protokol import create_app
    from protokol.accounts.models import Role
    from protokol.accounts.services import create_user
    from protokol.cli import demo_data
    from protokol.extensions import db
    from votes.services import open_vote

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "ATTACHMENTS_DIR": str(folder / "attachments"),
            "MINUTES_DIR": str(folder / "minutes"),
        }
    )
    with app.app_context():
        upgrade()
        data = copy.deepcopy(demo_data())
        item = data["meeting"]["items"][0]
        item["motions"], item["decision"], item["remarks"] = [], None, []
        data["meeting"]["state"] = "in_session"
        meeting = import_meeting(data, attachments_dir=app.config["ATTACHMENTS_DIR"])
        item = meeting.items[0]
        motion = create_motion(
            item, MotionKind.AMENDMENT, actor=None, text="Benchmark.", proposer_name="Formanden"
        )
        vote = open_vote(motion, actor=None)
        user = create_user("bench@example.dk", Role.SECRETARY, PASSWORD, body_ids=[meeting.body_id])
        db.session.commit()
        party = meeting.body.ordered_parties[0]
        result = {
            "meeting_id": meeting.id,
            "item_id": item.id,
            "vote_id": vote.id,
            "party_id": party.id,
            "email": user.email,
        }
        db.engine.dispose()
    return result


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, folder: Path, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PROTOKOL_ENV": "testing",
        "DATABASE_URL": url,
        "PROTOKOL_ATTACHMENTS_DIR": str(folder / "attachments"),
        "PROTOKOL_MINUTES_DIR": str(folder / "minutes"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "protokol.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "2",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                # Every worker answers: warm each one up a little.
                for _ in range(4 * workers):
                    httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def worker_pids(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children")
    pids = [int(p) for p in children.read_text().split()] if children.exists() else []
    # uvicorn --workers: the parent supervises; the workers are its python children.
    workers = []
    for pid in pids:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        if "spawn_main" in cmdline and "resource_tracker" not in cmdline:
            workers.append(pid)
    return workers


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sockets(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd).startswith("socket:")
    return count


# --------------------------------------------------------------------------- viewers


async def _viewer(url: str, arrivals: dict, connected: list, stop: asyncio.Event) -> None:
    """One viewer: a plain HTTP/1.1 request on its own connection, and the stream read as
    bytes, noting the time each event id arrives. Deliberately cheap (no HTTP client
    library, no SSE parser beyond finding the `id:` lines): the client must cost the
    machine it shares with the server as little as possible."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    writer = None
    try:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n"
            "\r\n".encode()
        )
        rest = b""
        while not stop.is_set():
            data = await reader.read(65536)
            if not data:
                return
            now = time.monotonic()
            *lines, rest = (rest + data).split(b"\n")
            for line in lines:
                if line.startswith(b"id: "):
                    arrivals.setdefault(int(line[4:]), now)
                elif line.startswith(b"retry:"):
                    connected.append(1)
    except (OSError, ValueError, asyncio.CancelledError):
        return
    finally:
        if writer is not None:
            writer.close()


async def _viewers(url: str, count: int, conn) -> None:
    #: For each viewer, when each event id reached it.
    arrivals: list[dict[int, float]] = [{} for _ in range(count)]
    connected: list[int] = []
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_viewer(url, mine, connected, stop)) for mine in arrivals]
    started = time.monotonic()
    while len(connected) < count and time.monotonic() - started < 60:
        await asyncio.sleep(0.05)
    conn.send(("connected", len(connected), time.monotonic() - started))
    while not conn.poll():
        await asyncio.sleep(0.05)
    conn.recv()
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    conn.send(("arrivals", arrivals))


def viewers_process(url: str, count: int, conn) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count * 2 + 256)), hard))
    asyncio.run(_viewers(url, count, conn))


def delivery_delays(
    posts: list[tuple[int, float]],
    events: list[tuple[int, int]],
    arrivals: list[dict[int, float]],
    since: float = float("-inf"),
    until: float = float("inf"),
) -> tuple[list[float], list[float], int]:
    """Match each successful POST (item id, time sent) with its live event (event id,
    item id): each item has one recorder, whose POSTs and the item's events are in the
    same order; `arrivals` holds, for each viewer, when each event id reached it. An
    event that a server process superseded by a newer event of the same item (of one
    item's events read together it sends the newest: each is a whole snapshot) reached
    that process's viewers with the newer one. Returns every delivery's delay, each
    event's slowest delay, and the deliveries missed (a viewer that never had the event
    nor a newer one of its item). Only POSTs sent from `since` until before `until` are
    counted; the others are still matched, to keep each item's POSTs and events in step."""
    by_item: dict[int, list[int]] = {}
    for event_id, item_id in sorted(events):
        by_item.setdefault(item_id, []).append(event_id)
    sent_by_item: dict[int, list[float]] = {}
    for item_id, sent in posts:
        sent_by_item.setdefault(item_id, []).append(sent)
    deliveries: list[float] = []
    slowest: list[float] = []
    missed = 0
    for item_id, sent_times in sent_by_item.items():
        event_ids = by_item.get(item_id, [])
        for n, sent in enumerate(sorted(sent_times)[: len(event_ids)]):
            if not since <= sent < until:
                continue
            later = event_ids[n:]
            delays = []
            for seen in arrivals:
                at = next((seen[i] for i in later if i in seen), None)
                if at is None:
                    missed += 1
                else:
                    delays.append(at - sent)
            deliveries += delays
            if delays:
                slowest.append(max(delays))
        unmatched = sorted(sent_times)[len(event_ids) :]
        missed += len(arrivals) * sum(1 for sent in unmatched if since <= sent < until)
    return deliveries, slowest, missed


# --------------------------------------------------------------------------- the secretary


class ConsoleRefused(RuntimeError):
    """The console did not accept a recording (not 303)."""


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


class Secretary:
    """A secretary on the console of one vote (`setup`: email, item_id, vote_id,
    party_id): logs in, reads the CSRF token and the vote's version from the console
    page, then toggles the party's position. `client` is a base URL (httpx over HTTP) or
    a client with the same `get`/`post` (Flask's test client, in-process)."""

    def __init__(self, client, setup: dict):
        self.client = (
            httpx.Client(base_url=client, timeout=30) if isinstance(client, str) else client
        )
        self.setup = setup
        page = self.client.get("/login").text
        response = self.client.post(
            "/login", data={"email": setup["email"], "password": PASSWORD, "csrf_token": csrf(page)}
        )
        assert response.status_code == 302, response.status_code
        self.refresh()
        self.position = "for"

    def refresh(self) -> None:
        """Read the CSRF token and the vote's version from the console page."""
        html = self.client.get(f"/console/items/{self.setup['item_id']}").text
        self.token = csrf(html)
        vote_id = self.setup["vote_id"]
        self.version = int(
            re.search(
                rf'action="/console/votes/{vote_id}/[^"]+"[^>]*>\s*(?:<input type="hidden" '
                r'name="submission_key" value="[0-9a-f]*">)?<input type="hidden" '
                r'name="csrf_token" value="[^"]*"><input type="hidden" name="version" '
                r'value="(\d+)"',
                html,
            ).group(1)
        )

    def record(self) -> tuple[float, float]:
        """Toggle the first party's position, with a new submission key as each console
        form carries one (until 7 December the benchmark sent none, and so left out the
        key's statements that a secretary's click runs); (time sent, seconds taken)."""
        self.position = "against" if self.position == "for" else "for"
        path = f"/console/votes/{self.setup['vote_id']}/parties/{self.setup['party_id']}"
        data = {
            "csrf_token": self.token,
            "version": self.version,
            "position": self.position,
            "submission_key": uuid.uuid4().hex,
        }
        sent = time.monotonic()
        response = self.client.post(path, data=data)
        taken = time.monotonic() - sent
        if response.status_code != 303:
            self.position = "against" if self.position == "for" else "for"  # not recorded
            message = re.search(r'id="console-message"[^>]*>([^<]*)<', response.text)
            reason = message.group(1).strip() if message else ""
            raise ConsoleRefused(f"the console answered {response.status_code} {reason}".strip())
        self.version += 1
        return sent, taken

    def run(self, votes: int, interval: float) -> list[tuple[float, float]]:
        results = []
        for _ in range(votes):
            results.append(self.record())
            time.sleep(interval)
        return results


def last_event_id(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(sa.text("SELECT max(id) FROM live_events")).scalar() or 0
    engine.dispose()
    return value


# --------------------------------------------------------------------------- report


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def ms(value: float) -> str:
    return f"{value * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--votes", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between votes")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="protokol-live-bench-"))
    url = create_database(args.database_url, folder)
    server = None
    try:
        setup = prepare(url, folder)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(url, folder, port, args.workers)
        workers = worker_pids(server.pid)
        kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite (file, WAL)"
        print(f"Protokol live benchmark: {kind}, uvicorn --workers {args.workers}, {base}")
        print(f"machine: {os.cpu_count()} cores; {args.votes} votes, {args.interval} s apart")

        secretary = Secretary(base, setup)
        secretary.run(5, 0.05)  # warm up
        cpu = {pid: cpu_seconds(pid) for pid in workers}
        alone = secretary.run(args.votes, args.interval)
        cpu_alone = {pid: cpu_seconds(pid) - cpu[pid] for pid in workers}
        rss_idle = {pid: rss_mb(pid) for pid in workers}

        parent, child = mp.Pipe()
        stream = f"{base}/meetings/{setup['meeting_id']}/live/events?after={last_event_id(url)}"
        viewer = mp.get_context("spawn").Process(
            target=viewers_process, args=(stream, args.viewers, child)
        )
        viewer.start()
        _, connected, took = parent.recv()
        print(f"viewers connected: {connected} of {args.viewers} in {took:.1f} s")
        per_worker = {pid: sockets(pid) for pid in workers}
        first_id = last_event_id(url)
        cpu = {pid: cpu_seconds(pid) for pid in [*workers, viewer.pid]}
        crowded = secretary.run(args.votes, args.interval)
        cpu_crowded = {pid: cpu_seconds(pid) - cpu[pid] for pid in cpu}
        time.sleep(2)
        rss_busy = {pid: rss_mb(pid) for pid in workers}
        parent.send("stop")
        _, arrivals = parent.recv()
        viewer.join(timeout=30)

        events = [(first_id + 1 + k, setup["item_id"]) for k in range(len(crowded))]
        posts = [(setup["item_id"], sent) for sent, _ in crowded]
        deliveries, slowest, missed = delivery_delays(posts, events, arrivals)

        post_alone = [t for _, t in alone]
        post_crowded = [t for _, t in crowded]
        print()
        print(f"{'figure':56} {'p50':>10} {'p99':>10}")
        for label, values in (
            ("console POST, no viewers", post_alone),
            (f"console POST, {connected} viewers", post_crowded),
            ("event delivery, every viewer (POST sent → received)", deliveries),
            ("event delivery, slowest viewer of each event", slowest),
        ):
            print(f"{label:56} {ms(pct(values, 50)):>10} {ms(pct(values, 99)):>10}")
        print(f"deliveries: {len(deliveries)} of {connected * len(crowded)}; missed {missed}")
        for pid in workers:
            print(
                f"worker {pid}: RSS {rss_idle[pid]:.0f} MB without viewers, "
                f"{rss_busy[pid]:.0f} MB with them; {per_worker[pid]} sockets; CPU "
                f"{cpu_alone[pid]:.1f} s without viewers, {cpu_crowded[pid]:.1f} s with them"
            )
        print(f"viewer client process: CPU {cpu_crowded[viewer.pid]:.1f} s while the votes ran")
        print(f"load average: {os.getloadavg()[0]:.1f} (other work on the machine counts too)")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        drop_database(url, args.database_url)


if __name__ == "__main__":
    main()
