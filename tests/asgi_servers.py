"""Start Protokol's ASGI app (`protokol.asgi:app`) under uvicorn in processes of their own,
on free loopback ports, against a given database: for the tests that need several app
server processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
            raise RuntimeError(f"server {url} exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server {url} did not start within {timeout} s")
