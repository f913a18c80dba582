"""The download fast path (minutes/frozen.py): a published PDF download the views answered
is answered again from memory for FROZEN_CACHE_SECONDS, with the same headers and body;
a correction reaches the download within that bound (at once in the committing process);
unpublished minutes, logged-in visitors and anything unusual still go through the views."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa
from werkzeug.wsgi import FileWrapper

from meetings.storage import attachment_path
from minutes import frozen
from minutes.models import PublishedItemMinutes, PublishedMinutes
from tests.helpers import publish_correction

PREFIX = "/_frozen/"


@contextlib.contextmanager
def count_statements(db):
    """The SQL statements run inside the block (a list, filled as they run)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def _urls(meeting_id: int) -> list[str]:
    return [
        f"/meetings/{meeting_id}/minutes.pdf",
        f"/meetings/{meeting_id}/minutes/v1.pdf",
        f"/meetings/{meeting_id}/items/14/minutes.pdf",
    ]


def _headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "Date"}


@pytest.fixture
def clock(monkeypatch):
    """The fast path's clock, moved by hand: clock.now += seconds."""

    class Clock:
        now = 1000.0

    monkeypatch.setattr(frozen.time, "monotonic", lambda: Clock.now)
    return Clock


@pytest.fixture
def cache(app) -> frozen.DownloadCache:
    return app.extensions["protokol.frozen_downloads"]


@pytest.mark.parametrize("mode", ["protokol", "accel"])
def test_a_repeated_download_is_answered_without_the_view(
    app, client, db, published_demo, cache, mode, monkeypatch
):
    if mode == "accel":
        monkeypatch.setitem(app.config, "ACCEL_REDIRECT_PREFIX", PREFIX)
    for url in _urls(published_demo):
        first = client.get(url)
        assert first.status_code == 200, url
        with count_statements(db) as statements:
            again = client.get(url)
            conditional = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert statements == []  # no Flask request: no session, no login, no query
        assert again.status_code == 200
        assert _headers(again) == _headers(first)
        assert again.data == first.data
        assert conditional.status_code == 304
        assert conditional.data == b""
        assert "X-Accel-Expires" not in conditional.headers  # nginx keeps only the 200
        if mode == "accel":  # nginx may reuse the answer for 1 s (under 2 s, whole seconds)
            assert again.headers["X-Accel-Expires"] == "1"
        else:
            assert "X-Accel-Expires" not in again.headers
    assert len(cache) == 3


def test_the_headers_are_those_of_the_view(client, db, published_demo):
    url = f"/meetings/{published_demo}/minutes.pdf"
    first, again = client.get(url), client.get(url)
    published = db.session.scalars(sa.select(PublishedMinutes)).one()
    for response in (first, again):
        assert response.mimetype == "application/pdf"
        assert response.headers["ETag"] == f'"{published.sha256}"'
        assert response.headers["X-Content-SHA256"] == published.sha256
        assert response.headers["Cache-Control"] == "public, no-cache"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="beslutningsprotokol-2010-12-06-{published_demo}-v1.pdf"'
        )
        assert response.headers["Content-Length"] == str(published.size)
        assert response.headers["Vary"] == "Cookie"
        assert response.headers["Last-Modified"]


def _header_list(response) -> list[tuple[str, str]]:
    """Every header but Date, duplicates kept, in a stable order."""
    return sorted((k, v) for k, v in response.headers.items() if k != "Date")


@pytest.mark.parametrize("mode", ["protokol", "accel"])
def test_the_prepared_answer_is_the_views_header_for_header(
    app, client, db, published_demo, mode, monkeypatch
):
    """The fast path sends each download's headers as made once (prepare_download, by the
    functions the view uses), with a Date of its own: the same list as the view's, no
    header twice."""
    if mode == "accel":
        monkeypatch.setitem(app.config, "ACCEL_REDIRECT_PREFIX", PREFIX)
    for url in _urls(published_demo):
        first = client.get(url)
        with count_statements(db) as statements:
            again, third = client.get(url), client.get(url)
        assert statements == []
        assert _header_list(again) == _header_list(first) == _header_list(third), url
        assert again.headers.getlist("Date") == [again.headers["Date"]]
        assert again.data == first.data


def test_the_prepared_answer_follows_the_settings(app, client, db, published_demo, monkeypatch):
    """An answer prepared under one setting is not sent under another: switching nginx's
    X-Accel-Redirect on changes the remembered download's next answer."""
    url = f"/meetings/{published_demo}/minutes.pdf"
    client.get(url)
    plain = client.get(url)
    assert plain.headers["Content-Length"] == str(len(plain.data))
    monkeypatch.setitem(app.config, "ACCEL_REDIRECT_PREFIX", PREFIX)
    accel = client.get(url)
    assert accel.headers["X-Accel-Redirect"].startswith(PREFIX)
    assert accel.data == b""


@pytest.mark.parametrize("mode", ["protokol", "accel"])
def test_a_file_damaged_after_its_answer_was_prepared_is_refused(
    app, client, db, published_demo, mode, monkeypatch
):
    if mode == "accel":
        monkeypatch.setitem(app.config, "ACCEL_REDIRECT_PREFIX", PREFIX)
    url = f"/meetings/{published_demo}/minutes.pdf"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # the fast path's prepared answer
    published = db.session.scalars(sa.select(PublishedMinutes)).one()
    path = attachment_path(app.config["MINUTES_DIR"], published.sha256)
    path.write_bytes(path.read_bytes()[:-1])
    response = client.get(url)
    assert response.status_code == 503
    assert "X-Accel-Redirect" not in response.headers
    path.unlink()
    assert client.get(url).status_code == 503


def test_a_correction_is_served_at_once_by_the_process_that_commits_it(
    app, client, db, published_demo
):
    url = f"/meetings/{published_demo}/minutes.pdf"
    old = client.get(url).headers["ETag"]
    assert client.get(url).headers["ETag"] == old  # remembered
    publish_correction(app, db, published_demo)
    new = db.session.scalars(sa.select(PublishedMinutes).where(PublishedMinutes.version == 2)).one()
    assert client.get(url).headers["ETag"] == f'"{new.sha256}"'
    item = client.get(f"/meetings/{published_demo}/items/14/minutes.pdf")
    newest_item = db.session.scalar(
        sa.select(PublishedItemMinutes).where(PublishedItemMinutes.published_minutes_id == new.id)
    )
    assert item.headers["ETag"] == f'"{newest_item.sha256}"'


def test_a_correction_by_another_process_is_served_within_the_bound(
    app, client, db, published_demo, clock, monkeypatch
):
    """Another process's commit does not reach this process's memory: its remembered
    answers end FROZEN_CACHE_SECONDS after the request that looked them up began."""
    seconds = app.config["FROZEN_CACHE_SECONDS"]
    assert 0 < seconds <= 2
    urls = _urls(published_demo)
    before = {url: client.get(url) for url in urls}
    with monkeypatch.context() as m:
        m.setattr(frozen, "_caches", frozen.weakref.WeakSet())  # the commit is elsewhere
        publish_correction(app, db, published_demo)
    new = db.session.scalars(sa.select(PublishedMinutes).where(PublishedMinutes.version == 2)).one()
    clock.now += seconds - 0.01
    for url in urls:  # within the bound: the answer looked up before the correction
        assert _headers(client.get(url)) == _headers(before[url]), url
    clock.now += 0.01
    newest = client.get(urls[0])
    assert newest.headers["ETag"] == f'"{new.sha256}"'
    assert newest.headers["Content-Disposition"].endswith('-v2.pdf"')
    version_1 = client.get(urls[1])  # no longer the newest: immutable from now on
    assert version_1.headers["ETag"] == before[urls[1]].headers["ETag"]
    assert version_1.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(urls[2]).headers["ETag"] != before[urls[2]].headers["ETag"]


def test_unpublished_minutes_stay_404_and_are_not_remembered(client, demo_id, cache):
    for url in _urls(demo_id):
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "X-Content-SHA256" not in response.headers
    assert len(cache) == 0


def test_the_staff_draft_is_never_remembered(client, db, demo_id, cache, make_user, login):
    login(make_user("admin"))
    response = client.get(f"/meetings/{demo_id}/minutes.pdf")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert len(cache) == 0


def test_a_logged_in_visitor_goes_through_the_views(client, db, published_demo, make_user, login):
    url = f"/meetings/{published_demo}/minutes.pdf"
    anonymous = client.get(url)
    login(make_user("admin"))
    with count_statements(db) as statements:
        response = client.get(url)
    assert statements  # the session and the login are loaded as on every page
    assert _headers(response) == _headers(anonymous)


@pytest.mark.parametrize(("method", "query"), [("HEAD", ""), ("GET", "lang=en")])
def test_other_requests_go_through_the_views(client, db, published_demo, method, query):
    url = f"/meetings/{published_demo}/minutes.pdf"
    client.get(url)
    with count_statements(db) as statements:
        response = client.open(url, method=method, query_string=query)
    assert statements, (method, query)
    assert response.status_code == 200
    if query:
        assert "lang=en" in response.headers["Set-Cookie"]


def test_other_methods_are_answered_by_flask(client, published_demo):
    url = f"/meetings/{published_demo}/minutes.pdf"
    client.get(url)
    assert client.post(url).status_code == 405
    options = client.options(url)
    assert options.status_code == 200
    assert "GET" in options.headers["Allow"]


def test_a_damaged_file_is_reported_by_the_view(app, client, db, published_demo):
    url = f"/meetings/{published_demo}/minutes.pdf"
    assert client.get(url).status_code == 200
    published = db.session.scalars(sa.select(PublishedMinutes)).one()
    path = attachment_path(app.config["MINUTES_DIR"], published.sha256)
    path.write_bytes(path.read_bytes()[:-1])
    response = client.get(url)
    assert response.status_code == 503
    assert "Prøv igen senere" in response.get_data(as_text=True)


def test_the_file_goes_to_the_servers_file_wrapper(app, client, db, published_demo):
    """Under gunicorn the body is its wsgi.file_wrapper (sent with sendfile), from the view
    and from the fast path alike."""
    url = f"/meetings/{published_demo}/minutes.pdf"
    published = db.session.scalars(sa.select(PublishedMinutes)).one()
    stored = attachment_path(app.config["MINUTES_DIR"], published.sha256).read_bytes()
    wrapped: list[FileWrapper] = []

    def file_wrapper(handle, block_size=8192):
        wrapped.append(FileWrapper(handle, block_size))
        return wrapped[-1]

    for _ in range(2):
        response = client.get(url, environ_base={"wsgi.file_wrapper": file_wrapper})
        try:
            assert response.status_code == 200
            assert response.data == stored
            assert response.headers["Content-Length"] == str(len(stored))
        finally:
            response.close()
    assert len(wrapped) == 2
    assert all(w.file.closed for w in wrapped)


def test_off_when_the_lifetime_is_zero(database_url, tmp_path, published_demo):
    from tests.conftest import make_app

    other = make_app(database_url, tmp_path / "other", FROZEN_CACHE_SECONDS=0)
    assert "protokol.frozen_downloads" not in other.extensions
    assert other.wsgi_app.cache is None  # it only answers nginx's access checks
