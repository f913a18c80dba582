"""Published downloads behind nginx with deploy/nginx.conf as deploy/loopback.py renders
it: nginx asks Protokol's access check about a URL (kept for under 2 s) and sends the
stored file Protokol names with Protokol's headers; anything else — unpublished minutes,
cookies, queries, conditional requests, a missing file — is Protokol's own answer, and a
correction reaches the download within the bound. Protokol runs in a thread here
(werkzeug's server), nginx in a process of its own; skipped only when nginx is not
installed."""

from __future__ import annotations

import contextlib
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


def fetch(url: str, headers: dict | None = None, method: str = "GET") -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def nginx(app, tmp_path, monkeypatch):
    """Protokol (behind nginx: PROTOKOL_ACCEL_REDIRECT_PREFIX) served in a thread, nginx in
    front: (the nginx address, the requests Protokol got: (path, whether an access check))."""
    monkeypatch.setitem(app.config, "ACCEL_REDIRECT_PREFIX", "/_frozen/")
    asked: list[tuple[str, bool]] = []

    def counting(environ, start_response):
        asked.append((environ["PATH_INFO"], bool(environ.get(CHECK_ENVIRON))))
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, counting, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with _running_nginx(tmp_path, server.port, Path(app.config["MINUTES_DIR"])) as base:
            yield base, asked
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextlib.contextmanager
def _running_nginx(tmp_path: Path, app_port: int, minutes_dir: Path):
    """nginx with the loopback rendering of deploy/nginx.conf in front of `app_port`: its
    address."""
    port = _free_port()
    conf = _loopback().write_config(
        tmp_path / "nginx",
        port=port,
        app_port=app_port,
        live_port=_free_port(),
        minutes_dir=minutes_dir,
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
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


CHECK_ENVIRON = "HTTP_X_PROTOKOL_FROZEN_CHECK"
#: The headers of a download that nginx sends as Protokol gave them.
DOWNLOAD_HEADERS = (
    "ETag",
    "X-Content-SHA256",
    "Cache-Control",
    "Content-Disposition",
    "Last-Modified",
)
SECURITY_HEADERS = (
    "X-Content-Type-Options",
    "Content-Security-Policy",
    "X-Frame-Options",
    "Referrer-Policy",
    "Permissions-Policy",
)


def _checks(asked, path: str) -> int:
    return asked.count((path, True))


def _downloads(asked, path: str) -> int:
    return asked.count((path, False))


def test_nginx_sends_the_stored_file_protokol_names(app, client, db, nginx, published_demo):
    base, asked = nginx
    path = f"/meetings/{published_demo}/minutes.pdf"
    published = db.session.scalars(sa.select(PublishedMinutes)).one()
    stored = attachment_path(app.config["MINUTES_DIR"], published.sha256).read_bytes()
    own = client.get(path)  # Protokol's own answer (with X-Accel-Redirect)
    page = client.get("/login")
    answers = [fetch(base + path) for _ in range(6)]
    for status, headers, body in answers:
        assert status == 200
        assert body == stored
        assert headers["Content-Type"] == "application/pdf"
        assert headers["Content-Length"] == str(len(stored))
        for name in DOWNLOAD_HEADERS:
            assert headers[name] == own.headers[name], name
        for name in SECURITY_HEADERS:  # deploy/nginx.conf repeats Protokol's
            assert headers[name] == page.headers[name] == own.headers[name], name
        assert headers["Vary"] == "Cookie"
        assert not [name for name in headers if name.lower().startswith("x-accel")]
    assert 1 <= _checks(asked, path) <= 2  # once, or twice across nginx's second boundary
    assert _downloads(asked, path) == 0  # the bytes never came from Protokol
    status, headers, body = fetch(base + path, {"Range": "bytes=0-99"})
    assert (status, body, headers["ETag"]) == (206, stored[:100], own.headers["ETag"])
    status, headers, body = fetch(base + path, method="HEAD")
    assert (status, body, headers["Content-Length"]) == (200, b"", str(len(stored)))


def test_every_version_and_item_is_sent_by_nginx(app, client, db, nginx, published_demo):
    base, asked = nginx
    publish_correction(app, db, published_demo)
    for path in (
        f"/meetings/{published_demo}/minutes.pdf",
        f"/meetings/{published_demo}/minutes/v1.pdf",
        f"/meetings/{published_demo}/minutes/v2.pdf",
        f"/meetings/{published_demo}/items/14/minutes.pdf",
    ):
        own = client.get(path)  # X-Accel-Redirect: the file it names
        stored = attachment_path(app.config["MINUTES_DIR"], own.headers["X-Content-SHA256"])
        status, headers, body = fetch(base + path)
        assert (status, body) == (200, stored.read_bytes()), path
        assert {n: headers[n] for n in DOWNLOAD_HEADERS} == {
            n: own.headers[n] for n in DOWNLOAD_HEADERS
        }, path
        assert _downloads(asked, path) == 0, path
    old = fetch(f"{base}/meetings/{published_demo}/minutes/v1.pdf")[1]
    assert old["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_revalidation_is_answered_304_by_protokol_without_the_file(
    app, db, nginx, published_demo
):
    base, asked = nginx
    path = f"/meetings/{published_demo}/minutes.pdf"
    published = db.session.scalars(sa.select(PublishedMinutes)).one()
    last_modified = fetch(base + path)[1]["Last-Modified"]
    stored = attachment_path(app.config["MINUTES_DIR"], published.sha256)
    stored.rename(stored.with_suffix(".hidden"))
    try:
        for headers in (
            {"If-None-Match": f'"{published.sha256}"'},
            {"If-Modified-Since": last_modified},
        ):
            status, answer, body = fetch(base + path, headers)
            assert (status, body) == (304, b""), headers
            assert answer["ETag"] == f'"{published.sha256}"'
    finally:
        stored.with_suffix(".hidden").rename(stored)
    assert _downloads(asked, path) == 2


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


def test_unpublished_minutes_are_protokols_answer_and_never_kept(nginx, demo_id):
    base, asked = nginx
    for suffix in ("minutes.pdf", "minutes/v1.pdf", "items/14/minutes.pdf"):
        path = f"/meetings/{demo_id}/{suffix}"
        for _ in range(3):
            status, headers, _body = fetch(base + path, {"X-Protokol-Frozen-Check": "1"})
            assert status == 404, path
            assert "X-Content-SHA256" not in headers
        assert (_checks(asked, path), _downloads(asked, path)) == (3, 3), path
    assert fetch(f"{base}/meetings/999999/minutes.pdf")[0] == 404


def test_a_missing_file_is_protokols_answer(app, db, nginx, published_demo):
    base, _asked = nginx
    published = db.session.scalars(sa.select(PublishedMinutes)).one()
    attachment_path(app.config["MINUTES_DIR"], published.sha256).unlink()
    assert fetch(f"{base}/meetings/{published_demo}/minutes.pdf")[0] == 503


def test_requests_with_a_login_cookie_or_a_query_always_reach_protokol(nginx, published_demo):
    base, asked = nginx
    path = f"/meetings/{published_demo}/minutes.pdf"
    fetch(base + path)
    before = _downloads(asked, path)
    for _ in range(2):
        for status, headers, body in (
            fetch(base + path, {"Cookie": "session=x"}),
            fetch(base + path, {"Cookie": "remember_token=x"}),
            fetch(base + path + "?lang=en"),
        ):
            assert status == 200
            assert body[:5] == b"%PDF-"  # nginx sent the file Protokol's X-Accel-Redirect named
            assert headers["X-Content-SHA256"] and headers["Content-Security-Policy"]
            assert "X-Accel-Redirect" not in headers
    assert _downloads(asked, path) - before == 6


def test_the_internal_locations_are_not_reachable(app, db, nginx, published_demo):
    base, _asked = nginx
    sha256 = db.session.scalars(sa.select(PublishedMinutes)).one().sha256
    for path in (
        f"/_frozen/{sha256}.pdf",
        "/_protokol_frozen_check",
        f"/_protokol_frozen_check/meetings/{published_demo}/minutes.pdf",
    ):
        assert fetch(base + path)[0] == 404, path


def test_without_protokol_a_download_is_a_502_not_a_500(tmp_path):
    """nginx's auth_request takes any failed check for a 500: the check's errors name no
    file, so the download goes to Protokol and gets nginx's 502 like any other page."""
    with _running_nginx(tmp_path, _free_port(), tmp_path / "minutes") as base:
        assert fetch(f"{base}/meetings/1/minutes.pdf")[0] == 502
        assert fetch(f"{base}/login")[0] == 502
