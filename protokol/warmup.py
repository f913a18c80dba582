"""Warming a process up before gunicorn forks its workers (deploy/gunicorn.conf.py): what
a new worker would otherwise do in its first requests — compiling the templates, and the
first public pages' SQL, ORM and translation work — is done once in the master, and
every worker, a replacement after `max_requests` included, starts with it done."""

from __future__ import annotations

import contextlib
import gc
import logging
import re
import time
from typing import Any

from flask import Flask, has_app_context

log = logging.getLogger(__name__)

#: The public pages warmed: the first address of each kind found from the front page.
#: Never a PDF (a draft's is rendered per request) nor a live event stream.
PAGE_KINDS = (
    re.compile(r"/"),
    re.compile(r"/bodies/\d+"),
    re.compile(r"/meetings/\d+"),
    re.compile(r"/meetings/\d+/items/\d+"),
    re.compile(r"/meetings/\d+/live"),
)
_LINK = re.compile(r'href="(/[^"?#]*)"')


def warm_up(app: Flask) -> int:
    """Compile every template of the app and of each minutes style, as the first requests
    of a new process would: gunicorn's master calls this before it forks its workers
    (deploy/gunicorn.conf.py), which then share the compiled templates; a new worker's
    first pages took 57-115 ms each without it, 16-50 ms with it (docs/deploy.md).
    Returns how many templates were compiled."""
    from minutes.oparl.store import fingerprint
    from minutes.styles import available_styles, load_style

    fingerprint(app)  # the key of the open-data lists' stored texts: read once, shared
    names = app.jinja_env.list_templates()
    for name in names:
        app.jinja_env.get_template(name)
    count = len(names)
    style_dirs = app.config.get("PROTOKOL_STYLE_DIRS", ())
    for style_name in available_styles(style_dirs):
        env = load_style(style_name, style_dirs).env
        for name in env.list_templates(filter_func=lambda n: n.endswith(".j2")):
            env.get_template(name)
            count += 1
    return count


def warm_up_pages(app: Flask) -> list[str]:
    """Get the public pages of each kind (`PAGE_KINDS`) as an anonymous visitor, the first
    of each kind linked from the front page or from a page so found (the live page of a
    meeting in session, if one is, as its visitors come from elsewhere): a new worker's first
    such pages then take what later ones do (4 ms in place of 37-48 ms on the demo
    record; bench/README.md). Read-only GETs; the pages cached for the test client's
    address are dropped, and the database connections they opened closed, so nothing is
    shared with the workers but code and compiled statements. A page that fails ends the
    warm-up with a warning: serving does not depend on it. Returns the addresses got."""
    import sqlalchemy as sa

    from meetings.models import Meeting, MeetingState
    from minutes.page_cache import PAGE_CACHE
    from protokol.extensions import db

    started = time.perf_counter()
    got: list[str] = []
    found: dict[int, str] = {0: "/"}
    client = app.test_client()
    try:
        with app.app_context():  # a live page does its work only for a meeting in session
            in_session = db.session.scalar(
                sa.select(Meeting.id).where(Meeting.state == MeetingState.IN_SESSION).limit(1)
            )
        if in_session is not None:
            found[len(PAGE_KINDS) - 1] = f"/meetings/{in_session}/live"
        while len(got) < len(found):
            path = next(p for kind, p in sorted(found.items()) if p not in got)
            got.append(path)
            response = client.get(path)
            if response.status_code != 200:
                continue
            for link in _LINK.findall(response.get_data(as_text=True)):
                for kind, pattern in enumerate(PAGE_KINDS):
                    if kind not in found and pattern.fullmatch(link):
                        found[kind] = link
    except Exception:  # a database not migrated yet, ...: serve anyway
        where = got[-1] if got else "the first query"
        log.warning("warming up the public pages stopped at %s", where, exc_info=True)
    finally:
        cache: Any = app.extensions.get(PAGE_CACHE)
        if cache is not None:
            cache.clear()
        # The requests' sessions are their own contexts', or the caller's if it has one
        # (a test's: a request then uses it); the connections they held are closed.
        with contextlib.nullcontext() if has_app_context() else app.app_context():
            db.session.remove()
            gc.collect()  # a request's garbage cycles may still hold a connection
            db.engine.dispose()
    log.info(
        "warmed up %d public pages in %.0f ms", len(got), (time.perf_counter() - started) * 1000
    )
    return got
