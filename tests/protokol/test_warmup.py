"""Warming the master up before gunicorn forks (protokol.warmup): the public pages of
each kind are got once, read-only, and nothing of them is kept but code and compiled
statements."""

from __future__ import annotations

import logging
import re

import sqlalchemy as sa

from minutes.page_cache import PAGE_CACHE
from protokol.audit import AuditEntry
from protokol.warmup import warm_up_pages


def test_each_kind_of_public_page_is_got_once_and_nothing_is_written(app, db, published_demo):
    audit_entries = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    db.session.remove()
    got = warm_up_pages(app)
    assert got[0] == "/"
    assert f"/meetings/{published_demo}" in got
    assert any(re.fullmatch(rf"/meetings/{published_demo}/items/\d+", path) for path in got)
    assert any(re.fullmatch(r"/bodies/\d+", path) for path in got)
    assert len(got) == len(set(got)) <= 5
    assert not any(path.endswith((".pdf", "/events")) for path in got)
    assert len(app.extensions[PAGE_CACHE]) == 0  # cached for the test client's address
    assert db.engine.pool.checkedout() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audit_entries


def test_the_workers_inherit_the_pages_compiled_statements(app, db, published_demo):
    db.session.remove()  # as in gunicorn's master: no connection is checked out
    cache = db.engine._compiled_cache
    cache.clear()
    warm_up_pages(app)
    warmed = len(cache)
    assert warmed > 10
    app.test_client().get(f"/meetings/{published_demo}")  # as a worker's first page
    assert len(cache) == warmed  # no statement of it was compiled again


def test_a_failing_page_ends_the_warm_up_with_a_warning(app, caplog, monkeypatch):
    def broken() -> str:
        raise RuntimeError("no such table: meetings")

    monkeypatch.setitem(app.view_functions, "portal.home", broken)
    with caplog.at_level(logging.WARNING, logger="protokol.warmup"):
        assert warm_up_pages(app) == ["/"]
    assert "warming up the public pages stopped at /" in caplog.text


def test_an_empty_record_warms_the_front_page_only(app):
    assert warm_up_pages(app) == ["/"]
