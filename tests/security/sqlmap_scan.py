"""SQL injection scan of the public search, pages and open-data API with sqlmap.

    .venv/bin/python -m tests.security.sqlmap_scan         # SQLite in a temp folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python -m tests.security.sqlmap_scan

`make check-security` runs it on both databases. It migrates a fresh database, loads and
publishes the demo meeting, serves it with gunicorn on loopback, and points Debian's
`sqlmap` at every query-string parameter of the URLs below, one sqlmap run a URL
(`--level 2 --risk 1`: boolean-based, error-based, union, stacked, time-based and inline
queries, on the parameters and the cookie). The scan passes when sqlmap reports for every
run that no tested parameter appears injectable, and every request it sent was answered
without a server error (a 5xx in gunicorn's access log fails the scan too). It prints the
parameters and requests of each run, and exits with status 1 on any finding or failure.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

#: The public URLs whose query strings reach the database; `{meeting}` is the demo's id.
TARGETS = (
    "/search?q=integration&body=1&year=2010&party=1&page=1",
    "/bodies/1?year=2010",
    "/bodies/1?from=2010-01-01&to=2010-12-31",
    "/oparl/v1/body/1/meeting?modified_since=2010-01-01T00:00:00%2B01:00&page=1&limit=10",
    "/oparl/v1/body/1/agendaItem?created_until=2030-01-01T00:00:00Z&page=1",
    "/oparl/v1/bodies?modified_until=2030-01-01T00:00:00Z",
)
CLEAN = "all tested parameters do not appear to be injectable"
FOUND = re.compile(
    r"(?:parameter '[^']+' (?:is|appears to be) .*injectable)|(?:is vulnerable)", re.I
)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database(base_url: str | None, folder: Path) -> tuple[str, str | None]:
    """A new database: (its URL, the name to drop afterwards on PostgreSQL)."""
    if base_url and base_url.startswith("postgresql"):
        import sqlalchemy as sa

        name = f"protokol_sqlmap_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return sa.make_url(base_url).set(database=name).render_as_string(False), name
    return f"sqlite:///{folder / 'scan.sqlite3'}", None


def drop(base_url: str, name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def statuses(log: Path) -> list[str]:
    """The status of every request in gunicorn's access log so far."""
    if not log.exists():
        return []
    return re.findall(r'" (\d{3}) ', log.read_text(encoding="utf-8", errors="replace"))


def scan(url: str, out: Path, level: int, risk: int, log: Path) -> dict:
    started = time.monotonic()
    before = len(statuses(log))
    done = subprocess.run(
        [
            "sqlmap", "-u", url, "--batch", "--flush-session", "--disable-coloring",
            "--level", str(level), "--risk", str(risk), "--threads", "2",
            "--timeout", "15", "--retries", "1", "--output-dir", str(out),
            "--technique=BEUSTQ",
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    text = done.stdout + done.stderr
    time.sleep(0.5)  # the access log is written after each answer
    answered = statuses(log)[before:]
    server_errors = sum(1 for s in answered if s.startswith("5"))
    return {
        "url": url,
        "seconds": round(time.monotonic() - started, 1),
        "clean": CLEAN in text and not FOUND.search(text) and not server_errors,
        "server_errors": server_errors,
        "found": FOUND.findall(text),
        "parameters": sorted({p for p in re.findall(r"parameter '([^']+)'", text)}),
        "requests": len(answered),
        "exit": done.returncode,
        "tail": text[-1500:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--level", type=int, default=2)
    parser.add_argument("--risk", type=int, default=1)
    args = parser.parse_args()
    if not shutil.which("sqlmap"):
        print("sqlmap is not installed (apt-get install sqlmap)", file=sys.stderr)
        return 2
    base_url = os.environ.get("DATABASE_URL")
    kind = "PostgreSQL" if base_url and base_url.startswith("postgresql") else "SQLite"
    with tempfile.TemporaryDirectory(prefix="protokol-sqlmap-") as tmp:
        folder = Path(tmp)
        url, dropname = database(base_url, folder)
        env = {
            **os.environ,
            "PROTOKOL_ENV": "testing",
            "DATABASE_URL": url,
            "PROTOKOL_ATTACHMENTS_DIR": str(folder / "attachments"),
            "PROTOKOL_MINUTES_DIR": str(folder / "minutes"),
        }
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        port = free_port()
        server = None
        try:
            for command in (["db", "upgrade"], ["demo"]):
                subprocess.run(flask + command, env=env, cwd=ROOT, check=True, capture_output=True)
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                 "--workers", "2", "--log-level", "warning",
                 "--access-logfile", str(folder / "access.log"), "wsgi:app"],
                env=env, cwd=ROOT,
            )  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.1)
            results = [
                scan(base + target, folder / "sqlmap", args.level, args.risk, folder / "access.log")
                for target in TARGETS
            ]
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=10)
            if dropname:
                drop(base_url, dropname)
    print(f"sqlmap scan ({kind}, level {args.level}, risk {args.risk}):")
    failed = False
    for r in results:
        verdict = "clean" if r["clean"] else "FINDING OR FAILURE"
        failed |= not r["clean"]
        print(
            f"  {verdict:>8}  {r['url'].split(str(port), 1)[1]}  parameters:"
            f" {', '.join(r['parameters']) or '-'}; {r['requests']} requests,"
            f" {r['server_errors']} answered 5xx, {r['seconds']} s"
        )
        if not r["clean"]:
            print("    " + "\n    ".join(r["tail"].splitlines()[-25:]))
    total = sum(r["requests"] for r in results)
    print(
        f"  {len(results)} URLs, {total} requests in all: {'FAILED' if failed else 'nothing found'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
