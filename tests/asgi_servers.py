"""Start Protokol's app servers in processes of their own, on free loopback ports, against
a given database: the ASGI app (`protokol.asgi:app`) under uvicorn, for the tests that
need several app server processes, and the WSGI app under gunicorn as `make serve` runs
it (deploy/gunicorn.conf.py, sync workers), for the tests of faults and concurrency."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PROTOKOL_ENV": "testing",
        "DATABASE_URL": database_url,
        "PROTOKOL_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        "PROTOKOL_MINUTES_DIR": str(tmp_path / "minutes"),
        "PROTOKOL_LIVE_KEEPALIVE_SECONDS": "1",
    }
    env.update(extra)
    return env


@contextmanager
def uvicorn_servers(
    database_url: str, tmp_path: Path, count: int = 2, *, workers: int = 1, **env: str
) -> Iterator[list[str]]:
    """`count` uvicorn servers (each with `workers` worker processes); their base URLs."""
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
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
                "1",
            ],
            cwd=ROOT,
            env=server_env(database_url, tmp_path, **env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            wait_until_up(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stderr.close()


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"server {url} exited: {output[-2000:]}")
        try:
            if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server {url} did not start within {timeout} s")


@dataclass
class Gunicorn:
    """A gunicorn master and its workers, in a process group of their own."""

    url: str
    process: subprocess.Popen
    #: gunicorn's error log (its standard error): tracebacks of failed requests land here.
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, timeout: float = 10) -> None:
        """SIGKILL the master and every worker at once (`kill -9` of the process group),
        and wait until none of them is left."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while group_members(self.process.pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn's process group {self.process.pid} outlived SIGKILL")
            time.sleep(0.05)

    def stop(self, timeout: float = 15) -> None:
        """Stop gracefully (SIGTERM to the master); SIGKILL whatever is left after `timeout`."""
        if self.process.poll() is None:
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        if self.process.poll() is None or group_members(self.process.pid):
            self.kill()


def group_members(pgid: int) -> list[int]:
    """The live processes (not zombies) of process group `pgid`."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
    return pids


@contextmanager
def gunicorn_server(
    database_url: str, tmp_path: Path, *, workers: int | None = None, **env: str
) -> Iterator[Gunicorn]:
    """gunicorn serving `wsgi:app` with deploy/gunicorn.conf.py (sync workers; `workers`
    defaults to the file's 2 × CPUs + 1), in a new session (process group) so that a test
    can kill master and workers together; stopped on exit."""
    port = free_port()
    settings = {
        "PROTOKOL_BIND": f"127.0.0.1:{port}",
        "PROTOKOL_ACCESS_LOG": "",
        "PROTOKOL_LOG_LEVEL": "warning",
        **({"PROTOKOL_WORKERS": str(workers)} if workers else {}),
        **env,
    }
    log = tmp_path / f"gunicorn-{port}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=server_env(database_url, tmp_path, **settings),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    server = Gunicorn(f"http://127.0.0.1:{port}", process, log)
    try:
        try:
            wait_until_up(server.url, process, timeout=60)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{server.log_text()[-2000:]}") from None
        yield server
    finally:
        server.stop()
