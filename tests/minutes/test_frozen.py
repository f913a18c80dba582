"""Frozen PDF downloads in both modes: sent by Protokol, or handed to nginx with
X-Accel-Redirect (PROTOKOL_ACCEL_REDIRECT_PREFIX); 304s never touch the stored file."""

from __future__ import annotations

import hashlib
import os

import pytest
import sqlalchemy as sa

from meetings.storage import attachment_path
from minutes import frozen
from minutes.models import PublishedItemMinutes, PublishedMinutes
from tests.helpers import publish_correction

PREFIX = "/_frozen/"


@pytest.fixture
def accel(app, monkeypatch):
    """Protokol behind nginx: frozen PDFs are handed over with X-Accel-Redirect."""
    monkeypatch.setitem(app.config, "ACCEL_REDIRECT_PREFIX", PREFIX)


def _published(db) -> PublishedMinutes:
    return db.session.scalars(sa.select(PublishedMinutes)).one()


def _downloads(db, meeting_id: int) -> list[tuple[str, str, str]]:
    """(URL, SHA-256, Cache-Control) of each frozen download of the meeting."""
    published = _published(db)
    [item] = db.session.scalars(sa.select(PublishedItemMinutes)).all()
    return [
        (f"/meetings/{meeting_id}/minutes.pdf", published.sha256, "public, no-cache"),
        (f"/meetings/{meeting_id}/minutes/v1.pdf", published.sha256, "public, no-cache"),
        (f"/meetings/{meeting_id}/items/14/minutes.pdf", item.sha256, "public, no-cache"),
    ]


def _hide_stored_files(app) -> None:
    """Remove every stored PDF: an answer that needed the bytes would now fail."""
    for path in os.scandir(app.config["MINUTES_DIR"]):
        os.unlink(path.path)


def test_protokol_sends_the_stored_bytes_with_the_headers(app, client, db, published_demo):
    for url, sha256, cache_control in _downloads(db, published_demo):
        response = client.get(url)
        assert response.status_code == 200, url
        stored = attachment_path(app.config["MINUTES_DIR"], sha256).read_bytes()
        assert response.data == stored
        assert response.headers["Content-Length"] == str(len(stored))
        assert response.mimetype == "application/pdf"
        assert response.headers["ETag"] == f'"{sha256}"'
        assert response.headers["X-Content-SHA256"] == sha256
        assert response.headers["Cache-Control"] == cache_control
        assert response.headers["Content-Disposition"].startswith("attachment; filename=")
        assert response.headers["Last-Modified"]
        assert "X-Accel-Redirect" not in response.headers


def test_accel_mode_hands_the_file_to_nginx(client, db, accel, published_demo):
    for url, sha256, cache_control in _downloads(db, published_demo):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["X-Accel-Redirect"] == f"{PREFIX}{sha256}.pdf"
        assert response.data == b""
        assert response.headers["Content-Length"] == "0"
        assert response.mimetype == "application/pdf"
        assert response.headers["ETag"] == f'"{sha256}"'
        assert response.headers["X-Content-SHA256"] == sha256
        assert response.headers["Cache-Control"] == cache_control
        assert response.headers["Content-Disposition"].startswith("attachment; filename=")
        assert response.headers["Last-Modified"]


def test_accel_mode_names_an_older_version_immutable(app, client, db, accel, published_demo):
    publish_correction(app, db, published_demo)
    old, new = db.session.scalars(sa.select(PublishedMinutes).order_by("version")).all()
    first = client.get(f"/meetings/{published_demo}/minutes/v1.pdf")
    assert first.headers["X-Accel-Redirect"] == f"{PREFIX}{old.sha256}.pdf"
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    newest = client.get(f"/meetings/{published_demo}/minutes.pdf")
    assert newest.headers["X-Accel-Redirect"] == f"{PREFIX}{new.sha256}.pdf"


@pytest.mark.parametrize("mode", ["protokol", "accel"])
def test_conditional_requests_never_touch_the_file(app, client, db, published_demo, mode):
    if mode == "accel":
        app.config["ACCEL_REDIRECT_PREFIX"] = PREFIX
    downloads = _downloads(db, published_demo)
    last_modified = {url: client.get(url).headers["Last-Modified"] for url, *_ in downloads}
    _hide_stored_files(app)
    try:
        for url, sha256, _cache in downloads:
            for headers in (
                {"If-None-Match": f'"{sha256}"'},
                {"If-None-Match": f'"other", "{sha256}"'},
                {"If-Modified-Since": last_modified[url]},
            ):
                response = client.get(url, headers=headers)
                assert response.status_code == 304, (url, headers)
                assert response.data == b""
                assert response.headers["ETag"] == f'"{sha256}"'
                assert "X-Accel-Redirect" not in response.headers
            # Not the current version: the full answer, which needs the (missing) file.
            stale = client.get(url, headers={"If-None-Match": '"other"'})
            assert stale.status_code == 503
    finally:
        app.config["ACCEL_REDIRECT_PREFIX"] = None


def test_accel_mode_refuses_a_missing_or_truncated_file(app, client, db, accel, published_demo):
    published = _published(db)
    path = attachment_path(app.config["MINUTES_DIR"], published.sha256)
    path.write_bytes(path.read_bytes()[:-1])
    response = client.get(f"/meetings/{published_demo}/minutes.pdf")
    assert response.status_code == 503
    assert "X-Accel-Redirect" not in response.headers
    path.unlink()
    assert client.get(f"/meetings/{published_demo}/minutes.pdf").status_code == 503


def test_accel_mode_checks_access_first(client, accel, demo_id):
    for suffix in ("minutes.pdf", "minutes/v1.pdf", "items/14/minutes.pdf"):
        response = client.get(f"/meetings/{demo_id}/{suffix}")
        assert response.status_code == 404, suffix
        assert "X-Accel-Redirect" not in response.headers


def test_the_checksum_is_verified_again_when_the_file_changes(
    app, client, db, published_demo, monkeypatch
):
    published = _published(db)
    url = f"/meetings/{published_demo}/minutes.pdf"
    hashed = []
    real_sha256 = hashlib.sha256

    def counting_sha256(data=b""):
        hashed.append(len(data))
        return real_sha256(data)

    monkeypatch.setattr(frozen.hashlib, "sha256", counting_sha256)
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    assert len(hashed) == 1  # verified once while the file stays the same
    path = attachment_path(app.config["MINUTES_DIR"], published.sha256)
    data = bytearray(path.read_bytes())
    data[-20] ^= 1  # same size, other content
    path.write_bytes(bytes(data))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert client.get(url).status_code == 503
    # Checked again: by the download fast path, then by the view, which answers 503.
    assert len(hashed) == 3


def test_frozen_files_are_readable_by_the_group(app, db, published_demo):
    """nginx (in the owner's group) reads the files it sends with X-Accel-Redirect."""
    path = attachment_path(app.config["MINUTES_DIR"], _published(db).sha256)
    assert path.stat().st_mode & 0o777 == 0o640


# --------------------------------------------------------------------------- nginx's check

CHECK = {frozen.CHECK_HEADER: "1"}
#: The headers with which the access check names a frozen PDF to nginx.
DOWNLOAD_HEADERS = (
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Content-Disposition",
    "X-Content-SHA256",
    "X-Accel-Expires",
)


def _named(response) -> dict[str, str]:
    return {name: response.headers[name] for name in DOWNLOAD_HEADERS if name in response.headers}


def test_the_access_check_names_the_frozen_file_with_the_downloads_headers(
    client, db, accel, published_demo
):
    for url, sha256, _cache_control in _downloads(db, published_demo):
        download = client.get(url)
        for _ in range(2):  # decided by the view, then remembered
            check = client.get(url, headers=CHECK)
            assert check.status_code == 200, url
            assert check.data == b""
            assert check.headers["X-Content-SHA256"] == sha256
            assert _named(check) == _named(download), url
            assert "X-Accel-Redirect" not in check.headers


def test_the_access_check_is_decided_by_the_views_without_reading_the_file(
    app, client, db, accel, published_demo, monkeypatch
):
    def no_reading(*_args, **_kwargs):
        raise AssertionError("the stored file was opened")

    monkeypatch.setattr(frozen, "open_verified", no_reading)
    url = f"/meetings/{published_demo}/minutes.pdf"
    check = client.get(url, headers=CHECK)  # nothing remembered yet: through the view
    assert check.headers["X-Content-SHA256"] == _published(db).sha256
    assert check.headers["X-Accel-Expires"] == "1"


def test_the_access_check_names_no_file_for_anything_else(
    app, client, db, accel, demo_id, make_user, login
):
    """Not published, not found, or a draft: 200 without the headers, so that nginx asks
    Protokol for the download itself (nginx's auth_request takes a 404 for an error)."""
    urls = [f"/meetings/{demo_id}/{s}" for s in ("minutes.pdf", "minutes/v1.pdf")]
    urls += ["/meetings/999999/minutes.pdf", f"/meetings/{demo_id}/items/99/minutes.pdf"]
    for url in urls:
        check = client.get(url, headers=CHECK)
        assert (check.status_code, check.data, _named(check)) == (200, b"", {}), url
    login(make_user("admin"))  # the staff's draft is never named either
    check = client.get(f"/meetings/{demo_id}/minutes.pdf", headers=CHECK)
    assert (check.status_code, _named(check)) == (200, {})
    assert client.get(f"/meetings/{demo_id}/minutes.pdf").headers["Cache-Control"] == (
        "private, no-store"
    )


def test_the_access_check_names_no_missing_or_truncated_file(
    app, client, db, accel, published_demo
):
    url = f"/meetings/{published_demo}/minutes.pdf"
    path = attachment_path(app.config["MINUTES_DIR"], _published(db).sha256)
    path.write_bytes(path.read_bytes()[:-1])
    assert _named(client.get(url, headers=CHECK)) == {}
    path.unlink()
    assert _named(client.get(url, headers=CHECK)) == {}
    assert client.get(url).status_code == 503  # Protokol's answer to the download


def test_the_access_check_renders_nothing(app, client, db, accel, published_demo, monkeypatch):
    """Minutes published before item PDFs were frozen are rendered per download: the check
    names no file and renders nothing."""
    from minutes import views

    db.session.execute(sa.delete(PublishedItemMinutes))
    db.session.commit()
    url = f"/meetings/{published_demo}/items/14/minutes.pdf"
    assert client.get(url).status_code == 200  # rendered
    monkeypatch.setattr(views, "render_minutes_pdf", lambda *_a: pytest.fail("rendered"))
    check = client.get(url, headers=CHECK)
    assert (check.status_code, _named(check)) == (200, {})


def test_without_nginx_the_check_header_changes_nothing(app, client, db, published_demo):
    url = f"/meetings/{published_demo}/minutes.pdf"
    response = client.get(url, headers=CHECK)
    assert response.status_code == 200
    assert (
        response.data
        == attachment_path(app.config["MINUTES_DIR"], _published(db).sha256).read_bytes()
    )
