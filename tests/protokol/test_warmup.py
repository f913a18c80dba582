"""Warming the master up before gunicorn forks (protokol.warmup): the public pages of
each kind are got once, writing nothing, and nothing of them is kept but code and
compiled statements."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from minutes.page_cache import PAGE_CACHE
from protokol.warmup import warm_up_pages

WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|SELECT pg_notify|SELECT pg_advisory)", re.I)


@pytest.fixture
def writes(db):
    """The statements that write (or lock) run while the test runs."""
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_args) -> None:
        if WRITES.match(statement):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", listen)


def test_each_kind_of_public_page_is_got_once_and_nothing_is_written(
    app, db, factories, published_demo, writes
):
    factories.meeting()  # a meeting in session too: its live page is not the master's
    db.session.commit()
    db.session.remove()
    writes.clear()
    got = warm_up_pages(app)
    assert got[0] == "/"
    assert f"/meetings/{published_demo}" in got
    assert any(re.fullmatch(rf"/meetings/{published_demo}/items/\d+", path) for path in got)
    assert any(re.fullmatch(r"/bodies/\d+", path) for path in got)
    assert len(got) == len(set(got)) == 4
    assert not any(path.endswith((".pdf", "/live", "/events")) for path in got)
    assert writes == []
    assert len(app.extensions[PAGE_CACHE]) == 0  # cached for the test client's address
    assert db.engine.pool.checkedout() == 0 and db.engine.pool.checkedin() == 0


def test_the_workers_inherit_the_pages_compiled_statements(app, db, published_demo):
    db.session.remove()  # as in gunicorn's master: no connection is checked out
    cache = db.engine._compiled_cache
    cache.clear()
    warm_up_pages(app)
    warmed = len(cache)
    assert warmed > 10
    app.test_client().get(f"/meetings/{published_demo}")  # as a worker's first page
    assert len(cache) == warmed  # no statement of it was compiled again


def _broken() -> str:
    raise RuntimeError("no such table: meetings")


def test_a_failing_page_ends_the_warm_up_with_a_warning(app, caplog, monkeypatch):
    monkeypatch.setitem(app.view_functions, "portal.home", _broken)
    with caplog.at_level(logging.WARNING, logger="protokol.warmup"):
        assert warm_up_pages(app) == ["/"]
    assert "warming up the public pages stopped at /" in caplog.text


def test_a_page_answering_500_ends_the_warm_up_with_a_warning(app, caplog, monkeypatch):
    # As in production, where Flask answers a view's error with a 500 page.
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "portal.home", _broken)
    with caplog.at_level(logging.WARNING, logger="protokol.warmup"):
        assert warm_up_pages(app) == ["/"]
    assert "warming up the public pages stopped: / answered 500" in caplog.text


def test_the_warm_up_stops_when_its_time_is_up(app, published_demo, monkeypatch):
    monkeypatch.setattr("protokol.warmup.TIME_BUDGET", 0.0)
    assert warm_up_pages(app) == []


def test_an_empty_record_warms_the_front_page_only(app):
    assert warm_up_pages(app) == ["/"]
