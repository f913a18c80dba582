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
#: Never a PDF (a draft's is rendered per request), nor a live page: a meeting in
#: session's completes its events' snapshots (a write, under a lock another process may
#: hold), which is not the master's to do.
PAGE_KINDS = (
    re.compile(r"/"),
    re.compile(r"/bodies/\d+"),
    re.compile(r"/meetings/\d+"),
    re.compile(r"/meetings/\d+/items/\d+"),
)
_LINK = re.compile(r'href="(/[^"?#]*)"')
#: Seconds the warm-up may take; what is left when they are up is not got.
TIME_BUDGET = 10.0


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
    of each kind linked from the front page or from a page so found: a new worker's first
    such pages then cost little more than later ones (docs/deploy.md). GETs that write
    nothing; the pages cached for the test client's address are dropped, and the database
    connections they opened closed, so nothing is shared with the workers but code and
    compiled statements. A page that fails (an error, or an answer of 500 and more) ends
    the warm-up with a warning, the `TIME_BUDGET` running out without one: serving does
    not depend on it.
    Returns the addresses got."""
    from minutes.page_cache import PAGE_CACHE
    from protokol.extensions import db

    deadline = time.monotonic() + TIME_BUDGET
    got: list[str] = []
    found: dict[int, str] = {0: "/"}
    client = app.test_client()
    try:
        while len(got) < len(found) and time.monotonic() < deadline:
            path = next(p for _kind, p in sorted(found.items()) if p not in got)
            got.append(path)
            response = client.get(path)
            if response.status_code >= 500:
                log.warning(
                    "warming up the public pages stopped: %s answered %s",
                    path,
                    response.status_code,
                )
                break
            if response.status_code != 200:
                continue
            for link in _LINK.findall(response.get_data(as_text=True)):
                for kind, pattern in enumerate(PAGE_KINDS):
                    if kind not in found and pattern.fullmatch(link):
                        found[kind] = link
    except Exception:  # a database not migrated yet, ...: serve anyway
        log.warning("warming up the public pages stopped at %s", got[-1], exc_info=True)
    finally:
        cache: Any = app.extensions.get(PAGE_CACHE)
        if cache is not None:
            cache.clear()
        # The requests' sessions are their own contexts', or the caller's if it has one
        # (a test's: a request then uses it); the connections they held are closed.
        with contextlib.nullcontext() if has_app_context() else app.app_context():
            db.session.remove()
            gc.collect()  # a request's garbage cycles may still hold a connection
            if getattr(db.engine.pool, "checkedout", lambda: 0)():
                log.warning("a connection of the warm-up is still in use; it is not closed")
            db.engine.dispose()
    log.info("warmed up %d public pages", len(got))
    return got
