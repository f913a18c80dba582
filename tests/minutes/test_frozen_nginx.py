"""Published downloads behind nginx with deploy/nginx.conf as deploy/loopback.py renders
it: nginx reuses Protokol's answer (X-Accel-Redirect with X-Accel-Expires) for a URL
for under 2 s, never an answer Protokol did not mark, and a correction reaches the
download within that bound. Protokol runs in a thread here (werkzeug's server), nginx in
a process of its own; skipped only when nginx is not installed."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from meetings.storage import attachment_path
from minutes.models import PublishedMinutes
from tests.helpers import publish_correction

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


def _loopback():
    spec = importlib.util.spec_from_file_location("loopback", DEPLOY / "loopback.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def nginx(app, tmp_path, monkeypatch):
    """Protokol (X-Accel-Redirect mode) served in a thread, nginx in front: (the nginx
    address, the paths Protokol was asked for)."""
    monkeypatch.setitem(app.config, "ACCEL_REDIRECT_PREFIX", "/_frozen/")
    asked: list[str] = []

    def counting(environ, start_response):
        asked.append(environ["PATH_INFO"])
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, counting, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = _free_port()
    conf = _loopback().write_config(
        tmp_path / "nginx",
        port=port,
        app_port=server.port,
        live_port=_free_port(),
        downloads_port=_free_port(),
        minutes_dir=Path(app.config["MINUTES_DIR"]),
        workers=1,
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(conf.parent), "-e", str(conf.parent / "error.log"), "-c", str(conf)]
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError((conf.parent / "error.log").read_text()) from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", asked
    finally:
        process.terminate()
        process.wait(timeout=10)
        server.shutdown()
        thread.join(timeout=10)


def test_nginx_reuses_protokols_answer_briefly(app, db, nginx, published_demo):
    base, asked = nginx
    path = f"/meetings/{published_demo}/minutes.pdf"
    published = db.session.scalars(sa.select(PublishedMinutes)).one()
    stored = attachment_path(app.config["MINUTES_DIR"], published.sha256).read_bytes()
    answers = [fetch(base + path) for _ in range(6)]
    for status, headers, body in answers:
        assert status == 200
        assert body == stored
        assert headers["ETag"] == f'"{published.sha256}"'
        assert headers["X-Content-SHA256"] == published.sha256
        assert headers["Cache-Control"] == "public, no-cache"
        assert headers["Content-Disposition"].startswith("attachment; filename=")
        assert headers["Last-Modified"]
        assert not [name for name in headers if name.lower().startswith("x-accel")]
    assert 1 <= asked.count(path) <= 2  # once, or twice across nginx's second boundary
    status, _headers, body = fetch(base + path, {"If-None-Match": f'"{published.sha256}"'})
    assert (status, body) == (304, b"")


def test_a_correction_reaches_the_download_within_two_seconds(app, db, nginx, published_demo):
    base, _asked = nginx
    url = f"{base}/meetings/{published_demo}/minutes.pdf"
    old = fetch(url)[1]["ETag"]
    publish_correction(app, db, published_demo)  # this process forgets its own answers at once
    committed = time.monotonic()
    new = db.session.scalar(sa.select(PublishedMinutes.sha256).where(PublishedMinutes.version == 2))
    while (etag := fetch(url)[1]["ETag"]) == old and time.monotonic() - committed < 5:
        time.sleep(0.02)
    assert etag == f'"{new}"'
    assert time.monotonic() - committed < 2.1


def test_unpublished_minutes_are_never_cached(nginx, demo_id):
    base, asked = nginx
    path = f"/meetings/{demo_id}/minutes.pdf"
    for _ in range(3):
        assert fetch(base + path)[0] == 404
    assert asked.count(path) == 3


def test_requests_with_a_login_cookie_or_a_query_always_reach_protokol(nginx, published_demo):
    base, asked = nginx
    path = f"/meetings/{published_demo}/minutes.pdf"
    fetch(base + path)
    before = asked.count(path)
    for _ in range(2):
        assert fetch(base + path, {"Cookie": "session=x"})[0] == 200
        assert fetch(base + path, {"Cookie": "remember_token=x"})[0] == 200
        assert fetch(base + path + "?lang=en")[0] == 200
    assert asked.count(path) - before == 6
