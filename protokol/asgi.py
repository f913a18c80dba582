"""ASGI entry point: the whole site, with the live streams served asynchronously.

    uvicorn protokol.asgi:app --workers 2 --timeout-graceful-shutdown 5
    gunicorn -k uvicorn_worker.UvicornWorker -w 2 protokol.asgi:app

`/meetings/<id>/live/events` (Server-Sent Events) is an async route: a viewer holds an
asyncio queue, not a thread, so hundreds of viewers share one worker process. Every other
path goes to the Flask app, run in a thread pool by a2wsgi (`PROTOKOL_WSGI_THREADS`
threads a process). See docs/live.md.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_asgi_app(flask_app: Flask) -> Any:
    """Wrap `flask_app`: the live stream route first, everything else to Flask."""
    from a2wsgi import WSGIMiddleware
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route

    from minutes.broadcast import broadcaster_for
    from minutes.live import event_completer
    from minutes.live_stream import create_stream_app

    config = flask_app.config
    broadcaster = broadcaster_for(
        config["SQLALCHEMY_DATABASE_URI"],
        poll_interval=float(config["LIVE_POLL_SECONDS"]),
        complete=event_completer(flask_app),
    )
    stream = create_stream_app(broadcaster, config)
    wsgi = WSGIMiddleware(flask_app, workers=int(os.environ.get("PROTOKOL_WSGI_THREADS", 10)))
    asgi = Starlette(
        routes=[
            Route("/meetings/{meeting_id:int}/live/events", stream),
            Mount("/", app=wsgi),
        ],
    )
    asgi.state.flask_app = flask_app
    asgi.state.broadcaster = broadcaster
    return asgi


def __getattr__(name: str) -> Any:
    """`protokol.asgi:app`: the ASGI application, built on first access (once a worker
    process), from the configuration `PROTOKOL_ENV` and the environment name."""
    if name != "app":
        raise AttributeError(name)
    global app
    from protokol import create_app

    app = create_asgi_app(create_app())
    return app
