"""Benchmark of the published PDF downloads: gunicorn alone, and nginx after Protokol's check.

    .venv/bin/python bench/downloads.py                  # SQLite file in a temp folder
    .venv/bin/python bench/downloads.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/downloads.py --json           # machine-readable, for bench/run.py

It creates a fresh database (on PostgreSQL: a new database on that server, dropped at the
end) holding one meeting of `--items` items (the demo's item 14, repeated) published
through `minutes.lifecycle` — its frozen minutes PDF is about 300 KB — and then measures
with `wrk` (Debian's; `apt-get install wrk nginx`), `--connections` concurrent connections
on loopback, `--duration` seconds a run, the median of `--repeat` runs:

(a) gunicorn with deploy/gunicorn.conf.py (sync workers) sending the PDF itself;
(b) nginx with deploy/nginx.conf (rendered by deploy/loopback.py) in front of gunicorn
    with PROTOKOL_ACCEL_REDIRECT_PREFIX=/_frozen/, the production set-up: nginx asks
    Protokol's access check about the URL (auth_request; the answer kept for under 2 s)
    and sends the stored file Protokol names itself; (b') the same download with an
    If-None-Match that does not match, which nginx passes to Protokol every time (its
    answer: X-Accel-Redirect, and nginx sends the file);
(c) nginx serving the same file statically with the same headers: the reference for
    (b), measured side by side — each run of (b) is followed by one of (c), and the
    ratio is the median of the runs' ratios; (c') the same with open_file_cache, as the
    frozen PDFs' location has it (a stricter reference: no open() a request);
(d) 304 answers to If-None-Match, from gunicorn and through nginx (before these runs the
    stored file is made unreadable, so a 304 that touched the bytes would fail);
(e) a correction, published while the newest-version URL is downloaded all the time:
    how long after its commit a download still got the old version, from gunicorn and
    through nginx (FROZEN_CACHE_SECONDS, 1, plus nginx's whole-second keeping of the
    access check's answer: at most 3 s).

It also samples the memory of each gunicorn worker after every run (the largest RSS;
PSS, which counts the pages the preloaded workers share once, beside it).

It prints a table (figure, target, measured, reference, ratio) with the machine's load
average; `--json` prints the same as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import os
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy"))

ACCEL_PREFIX = "/_frozen/"


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


def drop_database(url: str) -> None:
    import sqlalchemy as sa

    if url.startswith("postgresql"):
        parsed = sa.make_url(url)
        engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        engine.dispose()


def prepare(url: str, folder: Path, items: int) -> dict:
    """Migrate; import a meeting of `items` items and publish its minutes (frozen PDFs)."""
    os.environ["PROTOKOL_ENV"] = "testing"
    import logging

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from minutes.interchange import import_meeting
    from minutes.models import PublishedMinutes
    from protokol import create_app
    from protokol.cli import demo_data, publish_meeting
    from protokol.extensions import db

    logging.getLogger("alembic").setLevel(logging.WARNING)
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
        template = data["meeting"]["items"][0]
        data["meeting"]["items"] = [
            {**copy.deepcopy(template), "number": n, "case_number": f"2010-{100000 + n}"}
            for n in range(1, items + 1)
        ]
        meeting = import_meeting(data, attachments_dir=app.config["ATTACHMENTS_DIR"])
        db.session.commit()
        publish_meeting(meeting.id)
        published = db.session.scalar(
            sa.select(PublishedMinutes).where(PublishedMinutes.meeting_id == meeting.id)
        )
        result = {
            "meeting_id": meeting.id,
            "sha256": published.sha256,
            "size": published.size,
            "path": str(folder / "minutes" / f"{published.sha256}.pdf"),
        }
        db.session.remove()
        db.engine.dispose()
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} stopped at start-up (exit code {process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not start")


def start_gunicorn(url: str, folder: Path, port: int, *, accel: bool, workers: int | None):
    env = {
        **os.environ,
        "PROTOKOL_ENV": "production",
        "SECRET_KEY": secrets.token_hex(16),
        "DATABASE_URL": url,
        "PROTOKOL_ATTACHMENTS_DIR": str(folder / "attachments"),
        "PROTOKOL_MINUTES_DIR": str(folder / "minutes"),
        "PROTOKOL_BIND": f"127.0.0.1:{port}",
        "PROTOKOL_ACCESS_LOG": "",
        "PROTOKOL_LOG_LEVEL": "warning",
    }
    if accel:
        env["PROTOKOL_ACCEL_REDIRECT_PREFIX"] = ACCEL_PREFIX
    if workers:
        env["PROTOKOL_WORKERS"] = str(workers)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
    )
    wait_for(f"http://127.0.0.1:{port}/login", process, "gunicorn")
    return process


def start_nginx(folder: Path, **ports) -> subprocess.Popen:
    from loopback import write_config

    conf = write_config(folder / "nginx", **ports)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(
        [nginx, "-p", str(conf.parent), "-e", str(conf.parent / "error.log"), "-c", str(conf)]
    )
    wait_for(f"http://127.0.0.1:{ports['static_port']}/static-copy.pdf", process, "nginx")
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------- checks


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


#: The security headers every download carries (Protokol's; nginx's frozen PDFs repeat them).
SECURITY_HEADERS = ("X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options")
SECURITY_HEADERS += ("Referrer-Policy", "Permissions-Policy")


def check_download(
    url: str, data: dict, what: str, *, headers: dict | None = None, same_as: dict | None = None
) -> dict:
    """The download is the frozen file with Protokol's headers (those of `same_as`, if
    given, for every header a download describes itself with); its headers."""
    status, answer, body = fetch(url, headers)
    problems = []
    if status != 200:
        problems.append(f"status {status}")
    if hashlib.sha256(body).hexdigest() != data["sha256"]:
        problems.append(f"body of {len(body)} bytes is not the frozen PDF")
    expected = {
        "ETag": f'"{data["sha256"]}"',
        "X-Content-SHA256": data["sha256"],
        "Content-Type": "application/pdf",
        "Cache-Control": "public, no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    for name in ("Last-Modified", "Content-Disposition", *SECURITY_HEADERS):
        if not answer.get(name):
            problems.append(f"no {name}")
        elif same_as is not None:
            expected[name] = same_as.get(name)
    for name, value in expected.items():
        if answer.get(name) != value:
            problems.append(f"{name}: {answer.get(name)!r}, expected {value!r}")
    if [name for name in answer if name.lower().startswith("x-accel")]:
        problems.append("an X-Accel header reached the client")
    if problems:
        raise SystemExit(f"{what}: " + "; ".join(problems))
    return answer


def check_not_modified(url: str, data: dict, what: str) -> None:
    status, _headers, body = fetch(url, {"If-None-Match": f'"{data["sha256"]}"'})
    if status != 304 or body:
        raise SystemExit(f"{what}: If-None-Match answered {status} with {len(body)} bytes")


def publish_correction(url: str, folder: Path, meeting_id: int) -> str:
    """Publish a correction of the meeting's minutes (a new version, as the secretary's
    button does); the new version's SHA-256."""
    import logging

    import sqlalchemy as sa

    from meetings.models import Meeting
    from minutes.lifecycle import add_correction
    from minutes.models import PublishedMinutes
    from minutes.views import render_public_item_pdf, render_public_pdf
    from protokol import create_app
    from protokol.extensions import db

    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "ATTACHMENTS_DIR": str(folder / "attachments"),
            "MINUTES_DIR": str(folder / "minutes"),
        }
    )
    with app.app_context():
        add_correction(
            db.session.get(Meeting, meeting_id),
            "Stemmetallet under punkt 1 rettes.",
            "Skrivefejl.",
            actor=None,
            minutes_dir=app.config["MINUTES_DIR"],
            render_pdf=render_public_pdf,
            render_item_pdf=render_public_item_pdf,
        )
        db.session.commit()
        newest = db.session.scalar(
            sa.select(PublishedMinutes.sha256)
            .where(PublishedMinutes.meeting_id == meeting_id)
            .order_by(PublishedMinutes.version.desc())
            .limit(1)
        )
        db.session.remove()
        db.engine.dispose()
    return newest


def correction_delays(url: str, folder: Path, meeting_id: int, urls: list[str], limit=10):
    """Publish a correction while `urls` are being downloaded all the time (so that every
    cache holds the old version when it is committed); for each URL, the seconds from
    the commit until it serves the new version (None: not within `limit`)."""
    import threading

    seen: dict[str, list[tuple[float, str | None]]] = {u: [] for u in urls}
    done = threading.Event()

    def download() -> None:
        while not done.is_set():
            for u in urls:
                seen[u].append((time.monotonic(), fetch(u)[1].get("ETag")))
            time.sleep(0.005)

    poller = threading.Thread(target=download, daemon=True)
    poller.start()
    try:
        time.sleep(0.5)
        new = f'"{publish_correction(url, folder, meeting_id)}"'
        committed = time.monotonic()
        while time.monotonic() - committed < limit:
            if all(any(e == new for _t, e in seen[u]) for u in urls):
                break
            time.sleep(0.05)
    finally:
        done.set()
        poller.join()
    delays: list[float | None] = []
    for u in urls:
        # How long after the commit a request (by when it was sent) still got the old one.
        if not any(e == new for _t, e in seen[u]):
            delays.append(None)
            continue
        stale = [t - committed for t, e in seen[u] if e != new and t >= committed]
        delays.append(max(stale, default=0.0))
    return delays


def worker_memory(master: int) -> list[tuple[int, float, float]]:
    """(pid, RSS MB, PSS MB) of each worker (child process) of the gunicorn master."""
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != master:
                continue
            status = (entry / "status").read_text()
            rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1))
            pss = 0
            with contextlib.suppress(OSError, AttributeError):
                rollup = (entry / "smaps_rollup").read_text()
                pss = int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE).group(1))
        except (OSError, AttributeError, IndexError):
            continue  # the worker exited meanwhile
        workers.append((int(entry.name), rss / 1024, pss / 1024))
    return workers


# --------------------------------------------------------------------------- wrk

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def wrk(url: str, *, connections: int, duration: float, headers: dict | None = None) -> dict:
    """One wrk run: requests/s, latency p50/p99 (ms), errors and non-2xx/3xx answers."""
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration:g}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if set(latency) != {"50", "99"}:
        raise SystemExit(f"wrk gave no latency distribution:\n{output}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "requests": requests,
        # wrk's own CPU time a request: it shares the 2 cores with the servers.
        "wrk_cpu_ms": wrk_cpu * 1000 / max(requests, 1),
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "bad_status": int(bad.group(1)) if bad else 0,
    }


def tree_cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by these processes and their descendants,
    including those that have exited."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        # utime, stime, and those of children already reaped (gunicorn replaces workers)
        times[int(entry.name)] = sum(int(n) for n in fields[11:15]) / tick
    wanted, total = set(pids), 0.0
    for pid in times:
        ancestor = pid
        while ancestor > 1 and ancestor not in wanted:
            ancestor = parents.get(ancestor, 0)
        if ancestor in wanted:
            total += times[pid]
    return total


def paired_ratios(runs: list[dict], references: list[dict]) -> dict:
    """The median over the runs of (b) of its ratio to the run of (c) right after it: the
    rate measured, and the rate estimated from the CPU time a request of the servers and
    wrk together (all the work on the 2 cores; steadier when other work shares them)."""

    def cpu(run: dict) -> float:
        return run["server_cpu_ms"] + run["wrk_cpu_ms"]

    pairs = list(zip(runs, references, strict=True))
    return {
        "rps": statistics.median(run["rps"] / ref["rps"] for run, ref in pairs),
        "cpu": statistics.median(cpu(ref) / cpu(run) for run, ref in pairs),
        "runs": [round(run["rps"] / ref["rps"], 3) for run, ref in pairs],
    }


def median_run(runs: list[dict]) -> dict:
    result = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    result["runs"] = [round(run["rps"]) for run in runs]
    return result


# --------------------------------------------------------------------------- the benchmark


def run(args) -> dict:
    if not shutil.which("wrk") or not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        raise SystemExit("needs Debian's wrk and nginx: apt-get install -y wrk nginx")
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="protokol-downloads-"))
    url = create_database(args.database_url, folder)
    processes: list[subprocess.Popen] = []
    try:
        data = prepare(url, folder, args.items)
        path = f"/meetings/{data['meeting_id']}/minutes.pdf"
        say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
        say(f"Frozen minutes PDF: {data['size'] / 1000:.0f} KB, {args.items} items.")
        options = {"connections": args.connections, "duration": args.duration}
        conditional = {"If-None-Match": f'"{data["sha256"]}"'}
        unmatched = {"If-None-Match": '"an-older-version"'}
        results: dict[str, list[dict]] = {}
        #: gunicorn worker pid → (RSS MB, PSS MB) after each run.
        memory: dict[int, list[tuple[float, float]]] = {}
        gunicorns: list[subprocess.Popen] = []
        #: gunicorn master pid → the pids of its workers seen after the runs.
        workers_seen: dict[int, set[int]] = {}

        def measure(name: str, target: str, servers: list, **kwargs) -> None:
            say(f"  {name} …")
            wrk(target, connections=args.connections, duration=1, **kwargs.get("w", {}))
            pids = [server.pid for server in servers]
            before = tree_cpu_seconds(pids)
            figures = wrk(target, **options, **kwargs.get("w", {}))
            # The servers' CPU time a request (not wrk's): independent of the machine's load.
            figures["server_cpu_ms"] = (
                (tree_cpu_seconds(pids) - before) * 1000 / max(figures["requests"], 1)
            )
            results.setdefault(name, []).append(figures)
            for server in servers:
                if server in gunicorns:
                    for pid, rss, pss in worker_memory(server.pid):
                        memory.setdefault(pid, []).append((rss, pss))
                        workers_seen.setdefault(server.pid, set()).add(pid)

        # (a) and (d): gunicorn alone.
        app_port = free_port()
        gunicorn = start_gunicorn(url, folder, app_port, accel=False, workers=args.workers)
        processes.append(gunicorn)
        gunicorns.append(gunicorn)
        direct = f"http://127.0.0.1:{app_port}{path}"
        check_download(direct, data, "gunicorn")
        floor = f"http://127.0.0.1:{app_port}/static/protokol.css"
        for _ in range(args.repeat):
            measure("gunicorn", direct, [gunicorn])
            measure("gunicorn_floor", floor, [gunicorn])
        replaced = len(workers_seen.get(gunicorn.pid, ())) - len(worker_memory(gunicorn.pid))
        stop(gunicorn)

        # (b), (c) and (d): nginx in front of gunicorn, after Protokol's access check.
        app_port, port, static_port = free_port(), free_port(), free_port()
        gunicorn = start_gunicorn(url, folder, app_port, accel=True, workers=args.workers)
        processes.append(gunicorn)
        gunicorns.append(gunicorn)
        nginx = start_nginx(
            folder,
            port=port,
            app_port=app_port,
            live_port=free_port(),
            minutes_dir=folder / "minutes",
            static_port=static_port,
            static_file=Path(data["path"]),
        )
        processes.append(nginx)
        proxied = f"http://127.0.0.1:{port}{path}"
        static = f"http://127.0.0.1:{static_port}/static-copy.pdf"
        static_cached = f"http://127.0.0.1:{static_port}/static-copy-cached.pdf"
        direct_accel = f"http://127.0.0.1:{app_port}{path}"
        protokol = fetch(direct_accel)[1]  # Protokol's own answer: X-Accel-Redirect
        for attempt in ("", ", the access check's answer kept"):
            check_download(proxied, data, f"nginx{attempt}", same_as=protokol)
        check_download(proxied, data, "nginx via Protokol", headers=unmatched, same_as=protokol)
        check = fetch(direct_accel, {"X-Protokol-Frozen-Check": "1"})
        if check[1].get("X-Accel-Expires") != "1" or check[2]:
            raise SystemExit("Protokol's access check: no X-Accel-Expires: 1, or a body")
        for internal in (f"/_frozen/{data['sha256']}.pdf", "/_protokol_frozen_check"):
            if fetch(f"http://127.0.0.1:{port}{internal}")[0] != 404:
                raise SystemExit(f"nginx: {internal} answers clients directly")
        for _ in range(args.repeat):  # side by side
            measure("accel", proxied, [gunicorn, nginx])
            measure("static", static, [nginx])
            measure("static_cached", static_cached, [nginx])
            measure("accel_uncached", proxied, [gunicorn, nginx], w={"headers": unmatched})

        # (d): 304s without the bytes: the file is made unreadable first.
        frozen = Path(data["path"])
        hidden = frozen.with_name(frozen.name + ".hidden")
        frozen.rename(hidden)
        try:
            check_not_modified(proxied, data, "nginx")
            check_not_modified(direct_accel, data, "gunicorn")
            for _ in range(args.repeat):
                measure("not_modified", direct_accel, [gunicorn], w={"headers": conditional})
                measure(
                    "not_modified_nginx", proxied, [gunicorn, nginx], w={"headers": conditional}
                )
        finally:
            hidden.rename(frozen)

        # (e): a correction reaches the newest-version URL, from gunicorn and through nginx.
        delays = correction_delays(url, folder, data["meeting_id"], [direct_accel, proxied])
        correction = {"gunicorn_s": delays[0], "nginx_s": delays[1], "replaced": replaced}
    finally:
        for process in reversed(processes):
            stop(process)
        drop_database(url)
        shutil.rmtree(folder, ignore_errors=True)
    figures = {name: median_run(runs) for name, runs in results.items()}
    figures["accel"]["paired"] = paired_ratios(results["accel"], results["static"])
    figures["accel"]["paired_cached"] = paired_ratios(results["accel"], results["static_cached"])
    workers = {
        pid: {"rss_mb": max(r for r, _ in samples), "pss_mb": max(p for _, p in samples)}
        for pid, samples in memory.items()
    }
    return report(args, data, figures, workers, correction, load_before, os.getloadavg())


def paired_rows(
    figure: str, run: dict, paired: dict, reference: dict, reference_is: str, *, target: str
) -> list[dict]:
    """Two rows for a ratio measured side by side (`paired_ratios`): the rates, with the
    median of the run-by-run ratios (met when the target is 90 %), and the estimate from
    CPU time."""
    name = reference_is.split(" ", 1)[0]
    return [
        {
            "figure": figure,
            "target": target,
            "measured": run["rps"],
            "reference": reference["rps"],
            "reference_is": reference_is,
            "ratio": round(paired["rps"], 3),
            "met": paired["rps"] >= 0.9 if target.startswith(">=") else None,
        },
        {
            "figure": f"(b) / {name} from the CPU time a request (servers and wrk)",
            "target": "(estimate)",
            "measured": round(paired["cpu"] * 100, 1),
            "reference": None,
            "reference_is": f"% of {name}",
            "ratio": round(paired["cpu"], 3),
            "met": None,
        },
    ]


def report(
    args, data: dict, f: dict, workers: dict, correction: dict, load_before, load_after
) -> dict:
    a, b, c = f["gunicorn"], f["accel"], f["static"]
    rss = max((w["rss_mb"] for w in workers.values()), default=0.0)
    pss = max((w["pss_mb"] for w in workers.values()), default=0.0)
    late = [correction[k] for k in ("gunicorn_s", "nginx_s") if correction[k] is not None]
    nm, nmn = f["not_modified"], f["not_modified_nginx"]
    rows = [
        {
            "figure": "(a) gunicorn sync workers send the PDF, req/s",
            "target": ">= 3000",
            "measured": a["rps"],
            "reference": c["rps"],
            "reference_is": "nginx static",
            "met": a["rps"] >= 3000,
        },
        {
            "figure": "(a) gunicorn sync workers send the PDF, p99 ms",
            "target": "<= 25",
            "measured": a["p99_ms"],
            "reference": c["p99_ms"],
            "reference_is": "nginx static",
            "met": a["p99_ms"] <= 25,
        },
        {
            "figure": "(a) gunicorn workers replaced during the runs (max_requests)",
            "target": "(none needed)",
            "measured": correction["replaced"],
            "reference": None,
            "reference_is": None,
            "met": None,
        },
        {
            "figure": "(a') gunicorn: its cheapest Flask answer (a 10 KB stylesheet), req/s",
            "target": "(ceiling)",
            "measured": f["gunicorn_floor"]["rps"],
            "reference": a["rps"],
            "reference_is": "(a)",
            "met": None,
        },
        *paired_rows(
            "(b) nginx sends the file after Protokol's access check (kept < 2 s), req/s",
            b,
            b["paired"],
            c,
            "(c) nginx static",
            target=">= 90% of (c)",
        ),
        *paired_rows(
            "(b) against (c') nginx static with open_file_cache, req/s",
            b,
            b["paired_cached"],
            f["static_cached"],
            "(c') static, open files kept",
            target="(stricter)",
        ),
        {
            "figure": "(b) nginx after Protokol's access check, p99 ms",
            "target": "(no target)",
            "measured": b["p99_ms"],
            "reference": c["p99_ms"],
            "reference_is": "(c) nginx static",
            "met": None,
        },
        {
            "figure": "(b') Protokol asked every time (If-None-Match of another version), req/s",
            "target": "(no target)",
            "measured": f["accel_uncached"]["rps"],
            "reference": c["rps"],
            "reference_is": "(c) nginx static",
            "met": None,
        },
        {
            "figure": "(c) nginx serves the file statically, req/s",
            "target": "(reference)",
            "measured": c["rps"],
            "reference": None,
            "reference_is": None,
            "met": None,
        },
        {
            "figure": "(c) nginx serves the file statically, p99 ms",
            "target": "(reference)",
            "measured": c["p99_ms"],
            "reference": None,
            "reference_is": None,
            "met": None,
        },
        {
            "figure": "(d) 304 to If-None-Match from gunicorn, req/s (file unreadable)",
            "target": "no file read",
            "measured": nm["rps"],
            "reference": a["rps"],
            "reference_is": "(a) 200 from gunicorn",
            "met": nm["bad_status"] == 0 and nm["socket_errors"] == 0,
        },
        {
            "figure": "(d) 304 to If-None-Match through nginx, req/s (file unreadable)",
            "target": "no file read",
            "measured": nmn["rps"],
            "reference": a["rps"],
            "reference_is": "(a) 200 from gunicorn",
            "met": nmn["bad_status"] == 0 and nmn["socket_errors"] == 0,
        },
        {
            "figure": "(e) old version still served after a correction: gunicorn, s",
            "target": "<= 1",
            "measured": correction["gunicorn_s"],
            "reference": None,
            "reference_is": None,
            "met": correction["gunicorn_s"] is not None and correction["gunicorn_s"] <= 1.1,
        },
        {
            "figure": "(e) old version still served after a correction: nginx, s",
            "target": "<= 3",
            "measured": correction["nginx_s"],
            "reference": None,
            "reference_is": None,
            "met": correction["nginx_s"] is not None and correction["nginx_s"] <= 3.1,
        },
        {
            "figure": "memory: largest RSS of a gunicorn worker, MB (PSS beside it)",
            "target": "<= 150",
            "measured": rss,
            "reference": pss,
            "reference_is": "its PSS",
            "met": 0 < rss <= 150,
        },
    ]
    if len(late) < 2:
        print("  (e): the correction was not served within 10 s", file=sys.stderr)
    for row in rows:
        if "ratio" in row:
            continue
        if row["measured"] is None:
            row["ratio"] = None
            continue
        row["ratio"] = round(row["measured"] / row["reference"], 3) if row["reference"] else None
    return {
        "benchmark": "downloads",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
        "database": "postgresql" if args.database_url else "sqlite",
        "pdf_bytes": data["size"],
        "connections": args.connections,
        "duration_s": args.duration,
        "repeat": args.repeat,
        "rows": rows,
        "runs": f,
        "workers": workers,
    }


def print_table(result: dict) -> None:
    def number(value) -> str:
        if value is None:
            return "–"
        return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"

    rows = result["rows"]
    width = max(len(r["figure"]) for r in rows)
    print()
    print(
        f"Published PDF downloads ({result['pdf_bytes'] / 1000:.0f} KB, "
        f"{result['connections']} connections, {result['duration_s']} s × {result['repeat']}, "
        f"median; {result['database']})"
    )
    print(f"{'figure':<{width}}  {'target':>14}  {'measured':>9}  {'reference':>9}  ratio  met")
    for r in rows:
        met = {True: "yes", False: "NO", None: ""}[r["met"]]
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "–"
        print(
            f"{r['figure']:<{width}}  {r['target']:>14}  {number(r['measured']):>9}  "
            f"{number(r['reference']):>9}  {ratio:>5}  {met}"
        )
    print("CPU time a request, ms: the servers' (gunicorn and nginx) / wrk's:")
    print(
        "  "
        + ", ".join(
            f"{name} {run['server_cpu_ms']:.3f} / {run['wrk_cpu_ms']:.3f}"
            for name, run in result["runs"].items()
        )
    )
    for key, reference in (("paired", "(c)"), ("paired_cached", "(c')")):
        paired = result["runs"]["accel"][key]["runs"]
        print(f"(b) / {reference}, run by run: {', '.join(f'{r:.2f}' for r in paired)}")
    m = result["machine"]
    print(
        f"{m['cpus']} CPUs; load average before {m['load_average_before']}, "
        f"after {m['load_average_after']}"
    )
    for name, run in result["runs"].items():
        errors = run["socket_errors"] + run["bad_status"]
        if errors:
            print(f"  {name}: {errors:.0f} socket errors or unexpected answers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--items", type=int, default=24, help="items of the meeting (24: ~300 KB)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10, help="seconds a run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the median counts")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its config)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
