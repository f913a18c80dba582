"""Benchmark of recording a vote: the live console's write under the load of a meeting day.

    .venv/bin/python -m bench.recording                     # SQLite file in a temp folder
    .venv/bin/python -m bench.recording --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python -m bench.recording --duration 20 --json

It creates a fresh database (SQLite with the app's pragmas: WAL, synchronous=FULL; or a
new PostgreSQL database on that server, dropped at the end) holding the demo meeting with
its minutes published (the public PDFs frozen) and a meeting of the same committee in
session with one agenda item per recorder, each with a motion whose vote is open. It
serves the app as in production (docs/deploy.md): gunicorn with the settings of
`deploy/gunicorn.conf.py` for pages and the console (`make serve`) and uvicorn for the
live event streams (`make serve-live`), both on loopback ports, and then measures:

1. the reference, in this process: a bare INSERT + COMMIT on the same database with the
   same pragmas (the floor of any durable write);
2. one recording in-process through Flask's test client (no network, no WSGI server),
   its wall and CPU time, and the SQL statements it runs;
3. one secretary alone over HTTP against gunicorn: the POST's latency at the client, and
   its server time from gunicorn's access log (`%(D)s`);
4. the load, for `--duration` seconds: `--recorders` secretaries (each its own login and
   its own item's vote, so they do not meet on one vote's optimistic lock, but all on one
   meeting) toggling a party's position every `--think` seconds; `--readers` public
   clients fetching the published meeting's page, its item page, the minutes PDF and the
   item PDF, and the live page, every `--read-think` seconds; `--viewers` live viewers
   following the meeting in session over Server-Sent Events. The recorders start one
   after another across the first `--think` seconds, and the readers across the first
   `--read-think` (`start_offset`): a steady stream of requests, not all of them on the
   same beat. Reported: the POST latency
   p50/p99, its server time, the delay from each POST being sent to each viewer having
   the event (p99 over every delivery, and over each event's slowest viewer), missed
   deliveries, the readers' latency and rate, and the largest resident memory of any
   worker process (sampled every second).

Everything runs on this machine's loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import multiprocessing as mp
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live_viewers import (  # noqa: E402  (the shared pieces of the live benchmark)
    PASSWORD,
    ConsoleRefused,
    Secretary,
    cpu_seconds,
    create_database,
    delivery_delays,
    drop_database,
    free_port,
    last_event_id,
    pct,
    rss_mb,
    start_server,
    viewers_process,
)
from bench.live_viewers import worker_pids as uvicorn_workers  # noqa: E402

#: The targets (issue 6).
TARGET_P99 = 0.050
TARGET_DELIVERY = 1.0
TARGET_ALONE = 0.005
TARGET_RSS_MB = 150.0

# --------------------------------------------------------------------------- set-up


def _app(url: str, folder: Path):
    from protokol import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "ATTACHMENTS_DIR": str(folder / "attachments"),
            "MINUTES_DIR": str(folder / "minutes"),
        }
    )


def prepare(url: str, folder: Path, recorders: int) -> dict:
    """Migrate; load the demo meeting with its minutes published; add a meeting in session
    with one item per recorder, each with a motion whose vote is open, and a secretary of
    the committee per recorder. Returns the ids the clients need."""
    os.environ["PROTOKOL_ENV"] = "testing"
    from flask_migrate import upgrade

    from minutes.interchange import import_meeting
    from motions.models import MotionKind
    from motions.services import create_motion
    from protokol.accounts.models import Role
    from protokol.accounts.services import create_user
    from protokol.cli import demo_data, load_demo, publish_meeting
    from protokol.extensions import db
    from votes.services import open_vote

    app = _app(url, folder)
    with app.app_context():
        upgrade()
        published_id, _ = load_demo()
        publish_meeting(published_id)
        data = copy.deepcopy(demo_data())
        data["meeting"].update(starts_at="2010-12-13T15:30:00", ends_at=None, state="in_session")
        template = data["meeting"]["items"][0]
        template.update(motions=[], decision=None, remarks=[])
        data["meeting"]["items"] = [
            {**copy.deepcopy(template), "number": n} for n in range(1, recorders + 1)
        ]
        meeting = import_meeting(data, attachments_dir=app.config["ATTACHMENTS_DIR"])
        party = meeting.body.ordered_parties[0]
        clients = []
        for n, item in enumerate(meeting.items, start=1):
            motion = create_motion(
                item, MotionKind.AMENDMENT, actor=None, text="Benchmark.", proposer_name="Formanden"
            )
            vote = open_vote(motion, actor=None)
            user = create_user(
                f"recorder{n}@bench.example.dk",
                Role.SECRETARY,
                PASSWORD,
                body_ids=[meeting.body_id],
            )
            db.session.flush()
            clients.append(
                {"email": user.email, "item_id": item.id, "vote_id": vote.id, "party_id": party.id}
            )
        db.session.commit()
        published = db.session.get(type(meeting), published_id)
        result = {
            "meeting_id": meeting.id,
            "published_id": published_id,
            "published_item": published.items[0].number,
            "recorders": clients,
        }
        db.session.remove()
        db.engine.dispose()
    return result


# --------------------------------------------------------------------------- in-process


@dataclass
class Summary:
    """Percentiles of a list of durations (seconds)."""

    count: int
    p50: float
    p99: float

    @classmethod
    def of(cls, values: list[float]) -> Summary:
        return cls(len(values), pct(values, 50), pct(values, 99))

    @classmethod
    def of_any(cls, values: list[float]) -> Summary | None:
        """The summary, or None for no values (a line not printed)."""
        return cls.of(values) if values else None


def floor_commit(url: str, count: int = 200) -> Summary:
    """A bare INSERT + COMMIT of one small row on the same database, with the app's
    connection settings (its SQLite pragmas apply to every engine): the floor."""
    import sqlalchemy as sa

    import protokol  # noqa: F401  (registers the SQLite pragmas)

    engine = sa.create_engine(url)
    table = sa.Table(
        "bench_floor",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("payload", sa.Text, nullable=False),
    )
    table.create(engine, checkfirst=True)
    times = []
    with engine.connect() as conn:
        for n in range(count + 10):
            started = time.perf_counter()
            conn.execute(table.insert().values(payload=f"row {n}"))
            conn.commit()
            if n >= 10:
                times.append(time.perf_counter() - started)
    table.drop(engine)
    engine.dispose()
    return Summary.of(times)


@dataclass
class InProcess:
    wall: Summary
    cpu_p50: float
    statements: int


def measure_in_process(url: str, folder: Path, recorder: dict, count: int) -> InProcess:
    """One recording through the test client: wall time, CPU time, SQL statements."""
    import sqlalchemy as sa

    from protokol.extensions import db

    app = _app(url, folder)
    console = Secretary(app.test_client(), recorder)
    for _ in range(20):
        console.record()
    walls, cpus = [], []
    for _ in range(count):
        started, cpu = time.perf_counter(), time.process_time()
        console.record()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    statements = []
    with app.app_context():
        engine = db.engine

    def count_statement(*_args) -> None:
        statements.append(1)

    sa.event.listen(engine, "before_cursor_execute", count_statement)
    console.record()
    sa.event.remove(engine, "before_cursor_execute", count_statement)
    with app.app_context():
        db.engine.dispose()
    return InProcess(Summary.of(walls), statistics.median(cpus), len(statements))


# --------------------------------------------------------------------------- servers


def start_gunicorn(url: str, folder: Path, port: int, workers: int, log: Path) -> subprocess.Popen:
    """gunicorn as `make serve` runs it (deploy/gunicorn.conf.py), its access log (with
    the time each request took, `%(D)s`) written to `log`."""
    env = {
        **os.environ,
        "PROTOKOL_ENV": "testing",
        "DATABASE_URL": url,
        "PROTOKOL_ATTACHMENTS_DIR": str(folder / "attachments"),
        "PROTOKOL_MINUTES_DIR": str(folder / "minutes"),
        "PROTOKOL_BIND": f"127.0.0.1:{port}",
        "PROTOKOL_WORKERS": str(workers),
        "PROTOKOL_ACCESS_LOG": str(log),
        "PROTOKOL_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                for _ in range(4 * workers):
                    httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def private_mb(pid: int) -> float:
    """The process's private resident memory (USS: not shared with the master or the other
    workers after the fork), in MB."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total / 1024


def gunicorn_workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def stop(process: subprocess.Popen | None) -> None:
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


#: A console POST in gunicorn's access log: `"POST /console/votes/..." 303 ... 1234us`.
ACCESS_POST = re.compile(r'"POST /console/votes/\d+/parties/\d+ [^"]*" (\d{3}) .* (\d+)us$')


def server_times(log: Path, start: int, end: int | None = None) -> list[float]:
    """The time each console POST took in gunicorn (seconds), from the access log's bytes
    `start` to `end`."""
    with log.open("rb") as handle:
        handle.seek(start)
        text = handle.read(None if end is None else end - start).decode(errors="replace")
    times = []
    for line in text.splitlines():
        match = ACCESS_POST.search(line)
        if match and match.group(1) == "303":
            times.append(int(match.group(2)) / 1e6)
    return times


# --------------------------------------------------------------------------- clients


def start_offset(n: int, count: int, think: float) -> float:
    """When the `n`-th of `count` clients sends its first request, in seconds after the
    start: spread evenly over the first `think` seconds, so that the clients (each
    waiting `think` between its requests) keep that spread — a steady rate of requests,
    as from people who do not click on the same beat, not one burst of all of them at
    the top of every second."""
    return think * n / count if count else 0.0


def _recorder_thread(
    console: Secretary, until: float, think: float, offset: float, out: list
) -> None:
    item_id = console.setup["item_id"]
    time.sleep(max(0.0, min(offset, until - time.monotonic())))
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            sent, taken = console.record()
        except (ConsoleRefused, httpx.HTTPError) as exc:
            sent_version = console.version
            console.refresh()
            out.append(
                (
                    "error",
                    f"{exc} (vote {console.setup['vote_id']}: sent version {sent_version},"
                    f" the page then showed {console.version})",
                    0.0,
                )
            )
            continue
        out.append((item_id, sent, taken))
        now = time.monotonic()
        time.sleep(max(0.0, min(think - (now - started), until - now)))


def recorders_process(base: str, recorders: list[dict], think: float, conn) -> None:
    """The secretaries, one thread each: log in (before the clock starts: a login hashes
    a password on purpose slowly), say "ready", wait for the end time, then record."""
    consoles: list[Secretary] = []
    logins = [
        threading.Thread(target=lambda r=r: consoles.append(Secretary(base, r))) for r in recorders
    ]
    for thread in logins:
        thread.start()
    for thread in logins:
        thread.join()
    conn.send("ready")
    until = conn.recv()
    out: list = []
    threads = [
        threading.Thread(
            target=_recorder_thread,
            args=(console, until, think, start_offset(n, len(consoles), think), out),
        )
        for n, console in enumerate(consoles)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    conn.send(out)


def _reader_thread(
    client: httpx.Client,
    paths: list[str],
    until: float,
    think: float,
    offset: int,
    delay: float,
    out: list,
) -> None:
    n = offset
    time.sleep(max(0.0, min(delay, until - time.monotonic())))
    while time.monotonic() < until:
        path = paths[n % len(paths)]
        n += 1
        started = time.monotonic()
        try:
            response = client.get(path)
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        taken = time.monotonic() - started
        out.append((path, ok, taken, started))
        time.sleep(max(0.0, min(think - taken, until - time.monotonic())))


def readers_process(base: str, paths: list[str], count: int, think: float, conn) -> None:
    """The public readers, one thread each: make their HTTP clients (before the clock
    starts: each costs tens of milliseconds of CPU, its TLS context; fifty of them made
    at the start of the load were a second of both cores and most of its first seconds'
    p99 until 7 December), say "ready", wait for the end time, then read."""
    clients = [httpx.Client(base_url=base, timeout=30) for _ in range(count)]
    conn.send("ready")
    until = conn.recv()
    out: list = []
    threads = [
        threading.Thread(
            target=_reader_thread,
            args=(client, paths, until, think, n, start_offset(n, count, think), out),
        )
        for n, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    conn.send(out)


def events_after(url: str, after: int) -> list[tuple[int, int]]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, item_id FROM live_events WHERE id > :after AND item_id IS NOT NULL"
            ),
            {"after": after},
        ).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


# --------------------------------------------------------------------------- the run


@dataclass
class Results:
    database: str
    machine: str
    floor: Summary
    in_process: InProcess
    alone_client: Summary
    alone_server: Summary
    load_client: Summary | None = None
    load_server: Summary | None = None
    load_errors: int = 0
    #: The first few refusals, as the clients saw them.
    error_samples: list[str] = field(default_factory=list)
    recordings: int = 0
    delivery_all: Summary | None = None
    delivery_slowest: Summary | None = None
    missed: int = 0
    #: The load's first seconds, not counted above (`--warmup`): the POSTs at the client,
    #: their server time, the reads, and each vote to every viewer.
    warmup_client: Summary | None = None
    warmup_server: Summary | None = None
    warmup_reads: Summary | None = None
    warmup_delivery: Summary | None = None
    viewers_connected: int = 0
    reads: Summary | None = None
    reads_per_second: float = 0.0
    read_errors: int = 0
    #: p50 and p99 of each path the readers fetch.
    reads_by_path: dict[str, Summary] = field(default_factory=dict)
    rss_max_mb: dict[str, float] = field(default_factory=dict)
    #: The largest private part of it (USS) of any worker.
    private_max_mb: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    loadavg: list[float] = field(default_factory=list)
    settings: dict = field(default_factory=dict)


def run(args: argparse.Namespace) -> Results:
    folder = Path(tempfile.mkdtemp(prefix="protokol-recording-bench-"))
    url = create_database(args.database_url, folder)
    gunicorn = uvicorn = None
    try:
        # Two more items than recorders: one for the in-process measurement and one for the
        # secretary alone, so that each recorder under load starts from a vote no one
        # touched (a request for the position a party already has is accepted without a
        # change, and the recorder's version would then be one ahead).
        setup = prepare(url, folder, args.recorders + 2)
        spare_in_process, spare_alone = setup["recorders"][-2:]
        setup["recorders"] = setup["recorders"][: args.recorders]
        kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite (WAL, synchronous=FULL)"
        say = print if not args.json else (lambda *a, **k: print(*a, file=sys.stderr, **k))
        say(f"Protokol recording benchmark: {kind}; {os.cpu_count()} cores")
        floor = floor_commit(url)
        in_process = measure_in_process(url, folder, spare_in_process, args.alone)
        say(f"in-process recording: p50 {in_process.wall.p50 * 1000:.1f} ms")

        log = folder / "access.log"
        gport, uport = free_port(), free_port()
        gunicorn = start_gunicorn(url, folder, gport, args.gunicorn_workers, log)
        uvicorn = start_server(url, folder, uport, args.live_workers)
        gbase, ubase = f"http://127.0.0.1:{gport}", f"http://127.0.0.1:{uport}"

        # One secretary alone.
        secretary = Secretary(gbase, spare_alone)
        secretary.run(10, 0.0)  # warm up
        mark = log.stat().st_size
        alone = [taken for _, taken in secretary.run(args.alone, 0.02)]
        time.sleep(0.5)  # the access log is written after the response
        alone_server = server_times(log, mark)
        results = Results(
            database=kind,
            machine=f"{os.cpu_count()} cores",
            floor=floor,
            in_process=in_process,
            alone_client=Summary.of(alone),
            alone_server=Summary.of(alone_server),
            settings={
                k: getattr(args, k)
                for k in (
                    "recorders",
                    "readers",
                    "viewers",
                    "duration",
                    "think",
                    "read_think",
                    "warmup",
                    "gunicorn_workers",
                    "live_workers",
                )
            },
        )
        if args.duration <= 0:
            return results

        # The load: viewers first (connected), then readers and recorders together.
        ctx = mp.get_context("spawn")
        workers = {
            **{pid: "gunicorn" for pid in gunicorn_workers(gunicorn.pid)},
            **{pid: "uvicorn" for pid in uvicorn_workers(uvicorn.pid)},
        }
        after = last_event_id(url)
        stream = f"{ubase}/meetings/{setup['meeting_id']}/live/events?after={after}"
        viewer_pipes, viewer_procs = [], []
        shares = [args.viewers // args.viewer_processes] * args.viewer_processes
        shares[0] += args.viewers - sum(shares)
        for share in shares:
            parent, child = mp.Pipe()
            process = ctx.Process(target=viewers_process, args=(stream, share, child))
            process.start()
            viewer_pipes.append(parent)
            viewer_procs.append(process)
        connected = sum(pipe.recv()[1] for pipe in viewer_pipes)
        say(f"viewers connected: {connected} of {args.viewers}")

        published, number = setup["published_id"], setup["published_item"]
        paths = [
            f"/meetings/{published}",
            f"/meetings/{published}/items/{number}",
            f"/meetings/{published}/minutes.pdf",
            f"/meetings/{published}/items/{number}/minutes.pdf",
            f"/meetings/{setup['meeting_id']}/live",
        ]
        rec_parent, rec_child = mp.Pipe()
        recorders = ctx.Process(
            target=recorders_process, args=(gbase, setup["recorders"], args.think, rec_child)
        )
        read_parent, read_child = mp.Pipe()
        readers = ctx.Process(
            target=readers_process, args=(gbase, paths, args.readers, args.read_think, read_child)
        )
        recorders.start()
        readers.start()
        rec_parent.recv()  # logged in
        read_parent.recv()  # the readers' clients made
        started_at = log.stat().st_size
        mark = None
        cpu = {pid: cpu_seconds(pid) for pid in workers}
        # The clients run for the warm-up and then the measured `duration`; what is sent
        # in the warm-up is reported on its own lines (a start transient shows there).
        measured_from = time.monotonic() + args.warmup
        until = measured_from + args.duration
        rec_parent.send(until)
        read_parent.send(until)
        rss: dict[int, float] = {}
        private: dict[int, float] = {}
        while time.monotonic() < until:
            if mark is None and time.monotonic() >= measured_from:
                mark = log.stat().st_size
                cpu = {pid: cpu_seconds(pid) for pid in workers}
            for pid in workers:
                with contextlib.suppress(OSError):
                    rss[pid] = max(rss.get(pid, 0.0), rss_mb(pid))
                    private[pid] = max(private.get(pid, 0.0), private_mb(pid))
            left = (measured_from if mark is None else until) - time.monotonic()
            time.sleep(min(1.0, max(0.01, left)))
        if mark is None:
            mark = log.stat().st_size
        posts = rec_parent.recv()
        reads = read_parent.recv()
        recorders.join(timeout=30)
        readers.join(timeout=30)
        time.sleep(2)  # the last events reach the viewers
        cpu_used = {pid: cpu_seconds(pid) - cpu[pid] for pid in workers}
        arrivals: list[dict[int, float]] = []
        for pipe, process in zip(viewer_pipes, viewer_procs, strict=True):
            pipe.send("stop")
            arrivals += pipe.recv()[1]  # every viewer: one that never connected missed all
            process.join(timeout=30)
        load_server = server_times(log, mark)
        if args.keep_log:
            shutil.copyfile(log, args.keep_log)

        every_ok = [(p[0], p[1], p[2]) for p in posts if isinstance(p[0], int)]
        ok = [p for p in every_ok if p[1] >= measured_from]
        events = events_after(url, after)
        matched = [(item, sent) for item, sent, _ in every_ok]
        deliveries, slowest, missed = delivery_delays(matched, events, arrivals, measured_from)
        if args.warmup > 0:
            early_deliveries, _, _ = delivery_delays(matched, events, arrivals, until=measured_from)
            results.warmup_delivery = Summary.of_any(early_deliveries)
            results.warmup_client = Summary.of_any(
                [t for _, sent, t in every_ok if sent < measured_from]
            )
            results.warmup_server = Summary.of_any(server_times(log, started_at, mark))
            results.warmup_reads = Summary.of_any(
                [t for _, good, t, at in reads if good and at < measured_from]
            )
        reads = [r for r in reads if r[3] >= measured_from]
        read_ok = [t for _, good, t, _ in reads if good]
        results.load_client = Summary.of([t for _, _, t in ok])
        results.load_server = Summary.of(load_server)
        results.load_errors = sum(1 for p in posts if p[0] == "error")
        results.error_samples = sorted({p[1] for p in posts if p[0] == "error"})[:5]
        results.recordings = len(ok)
        results.delivery_all = Summary.of(deliveries)
        results.delivery_slowest = Summary.of(slowest)
        results.missed = missed
        results.viewers_connected = connected
        results.reads = Summary.of(read_ok)
        results.reads_per_second = len(read_ok) / args.duration
        results.read_errors = sum(1 for _, good, _, _ in reads if not good)
        for path in paths:
            results.reads_by_path[path] = Summary.of(
                [t for p, good, t, _ in reads if p == path and good]
            )
        for kind_name in ("gunicorn", "uvicorn"):
            pids = [pid for pid, name in workers.items() if name == kind_name]
            results.rss_max_mb[kind_name] = max((rss.get(pid, 0.0) for pid in pids), default=0)
            results.private_max_mb[kind_name] = max(
                (private.get(pid, 0.0) for pid in pids), default=0
            )
            results.cpu_seconds[kind_name] = sum(cpu_used[pid] for pid in pids)
        results.loadavg = list(os.getloadavg())
        return results
    finally:
        stop(gunicorn)
        stop(uvicorn)
        drop_database(url, args.database_url)
        shutil.rmtree(folder, ignore_errors=True)


def ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def print_table(r: Results) -> None:
    print(f"Recording a vote: {r.database}, {r.machine}, {r.settings}")
    print(f"{'figure':58} {'p50':>10} {'p99':>10} {'target':>12}")

    def line(label: str, s: Summary | None, target: str = "") -> None:
        if s is not None:
            print(f"{label:58} {ms(s.p50):>10} {ms(s.p99):>10} {target:>12}")

    line("floor: bare INSERT + COMMIT, same pragmas", r.floor)
    line("one recording in-process (test client), wall", r.in_process.wall, "≤ 5 ms")
    print(
        f"{'  CPU p50, SQL statements':58} {ms(r.in_process.cpu_p50):>10}"
        f" {r.in_process.statements:>10}"
    )
    line("one secretary alone over HTTP: POST at the client", r.alone_client)
    line("  server time (gunicorn access log)", r.alone_server, "≤ 5 ms")
    line(f"under load: POST at the client ({r.recordings} POSTs)", r.load_client, "p99 ≤ 50 ms")
    line("  server time (gunicorn access log)", r.load_server)
    line(f"vote → every viewer ({r.viewers_connected} viewers)", r.delivery_all, "p99 ≤ 1 s")
    line("vote → its slowest viewer", r.delivery_slowest)
    line(f"readers: pages and PDFs ({r.reads_per_second:.0f} req/s)", r.reads)
    for path, summary in r.reads_by_path.items():
        line(f"  {path}", summary)
    warmup = r.settings.get("warmup", 0)
    line(f"first {warmup:g} s of the load (not counted above): POST", r.warmup_client)
    line("  server time", r.warmup_server)
    line("  vote → every viewer", r.warmup_delivery)
    line("  readers", r.warmup_reads)
    if r.load_client is not None:
        print(f"errors: {r.load_errors} POSTs, {r.read_errors} reads; missed deliveries {r.missed}")
        for sample in r.error_samples:
            print(f"  {sample}")
        for name, value in r.rss_max_mb.items():
            print(
                f"{name} workers: max RSS {value:.0f} MB (target ≤ 150 MB), private"
                f" {r.private_max_mb[name]:.0f} MB;"
                f" CPU {r.cpu_seconds[name]:.1f} s in all"
            )
        print(f"load average: {' '.join(f'{v:.2f}' for v in r.loadavg)}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--recorders", type=int, default=20)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--viewer-processes", type=int, default=2)
    parser.add_argument("--duration", type=float, default=30, help="seconds of load (0: none)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=5,
        help="seconds of load before the measured duration, reported on their own",
    )
    parser.add_argument(
        "--think", type=float, default=1.0, help="seconds between a recorder's POSTs"
    )
    parser.add_argument(
        "--read-think", type=float, default=1.0, help="seconds between a reader's requests"
    )
    parser.add_argument("--alone", type=int, default=200, help="recordings timed alone")
    parser.add_argument("--gunicorn-workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--live-workers", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--keep-log", type=Path, help="copy gunicorn's access log (%%(D)s: µs a request) here"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results = run(args)
    if args.json:
        print(json.dumps(asdict(results)))
    else:
        print_table(results)


if __name__ == "__main__":
    main()
