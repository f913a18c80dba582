"""gunicorn settings for Protokol's WSGI app (`wsgi:app`): `make serve`, or

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

Sync workers: each handles one request at a time, which suits Protokol's short,
CPU-bound requests (pages, PDFs from the frozen store) behind nginx, which buffers slow
clients. The live streams (`/meetings/<id>/live/events`) are not served here but by the
ASGI app under uvicorn (`make serve-live`; docs/deploy.md), to which nginx routes them.

Every setting can be changed from the environment:

    PROTOKOL_BIND           address to listen on              127.0.0.1:8000
    PROTOKOL_WORKERS        worker processes                  2 × CPUs + 1
    PROTOKOL_TIMEOUT        seconds before a silent worker is restarted   30
    PROTOKOL_MAX_REQUESTS   requests before a worker is replaced          100000
    PROTOKOL_ACCESS_LOG     access log file ("-": standard output; "": none)  -
    PROTOKOL_WARM_UP_PAGES  get the public pages once before forking ("0": no)     1
"""

from __future__ import annotations

import gc
import multiprocessing
import os

bind = os.environ.get("PROTOKOL_BIND", "127.0.0.1:8000").split(",")
worker_class = "sync"
workers = int(os.environ.get("PROTOKOL_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# A request that takes longer than this is stuck: the worker is killed and replaced. The
# longest ordinary request (rendering a 200-item draft PDF) takes a few seconds.
timeout = int(os.environ.get("PROTOKOL_TIMEOUT", 30))
graceful_timeout = 30
# Sync workers close the connection after each response; nginx in front keeps the
# clients' connections open.
keepalive = 2
backlog = 2048
# Load the app once in the master, then fork: the workers share its memory pages, and a
# broken configuration fails at start-up instead of in every worker.
preload_app = True
# Replace each worker after this many requests (with jitter, so not all at once): bounds
# any slow growth of a worker's memory. Not much more often: a replacement costs about
# 0.15 s of CPU (the new worker's first requests, its copies of the shared pages it
# writes, the old one's exit), which at 5,000 requests and 3,000 downloads a second was
# a replacement every 2 s and the benchmark's p99 (bench/README.md).
max_requests = int(os.environ.get("PROTOKOL_MAX_REQUESTS", 100_000))
max_requests_jitter = max_requests // 10
# Behind nginx on the same machine: trust its X-Forwarded-For / X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("PROTOKOL_ACCESS_LOG", "-") or None
# The client (from nginx's X-Forwarded-For), request, status, size, referrer, agent and
# the time taken in microseconds.
access_log_format = '%({x-forwarded-for}i)s %(h)s %(t)s "%(r)s" %(s)s %(B)s "%(f)s" "%(a)s" %(D)sus'
errorlog = "-"
loglevel = os.environ.get("PROTOKOL_LOG_LEVEL", "info")
proc_name = "protokol"


_warmed_up = False


def pre_fork(server, worker) -> None:
    """Before each fork, move the preloaded app's objects out of the garbage collector's
    reach (Python's advice for forking servers, `gc.freeze`): a worker's collections then
    neither scan them nor write to their pages, which would copy the pages the workers
    share; the collection at a worker's exit took about 0.6 s of CPU without this. Before
    the first fork, compile every template (`protokol.warm_up`) and get each kind of
    public page once (`warm_up_pages`): the workers share what that did, and a new
    worker's first pages are not 10-40 ms slower each (docs/deploy.md)."""
    global _warmed_up
    app = getattr(getattr(server, "app", None), "callable", None)
    if not _warmed_up and app is not None and hasattr(app, "jinja_env"):
        from protokol.warmup import warm_up, warm_up_pages

        warm_up(app)
        if os.environ.get("PROTOKOL_WARM_UP_PAGES", "1").lower() not in ("0", "false", "no", "off"):
            warm_up_pages(app)
        _warmed_up = True
    gc.freeze()


def post_fork(server, worker) -> None:
    """Each worker opens its own database connections: any the preloaded app opened in
    the master stay the master's (SQLAlchemy's advice for forking)."""
    app = getattr(server.app, "callable", None)
    if app is not None and hasattr(app, "app_context"):
        from protokol.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)
