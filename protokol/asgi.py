"""ASGI entry point: the whole site, with the live streams served asynchronously.

    uvicorn protokol.asgi:app --workers 2 --timeout-graceful-shutdown 5
    gunicorn -k uvicorn_worker.UvicornWorker -w 2 protokol.asgi:app

`/meetings/<id>/live/events` (Server-Sent Events) is a plain ASGI endpoint
(`minutes/live_stream.py`): a viewer holds an asyncio queue, not a thread, so hundreds of
viewers share one worker process, and each frame goes to the server's `send` without a
framework's layers around it. Every other path goes to the Flask app, run in a thread
pool by a2wsgi (`PROTOKOL_WSGI_THREADS` threads a process). See docs/live.md.
"""

from __future__ import annotations

import os
import re
from typing import Any

from flask import Flask

#: The live stream's path; its one argument, the meeting id, bounded as Flask's routes are.
LIVE_EVENTS_PATH = re.compile(r"/meetings/([0-9]{1,10})/live/events")
MAX_ID = 2**31 - 1


class ProtokolAsgi:
    """Routes the live streams to their async endpoint and everything else to Flask;
    answers the server's lifespan messages (nothing to start or stop)."""

    def __init__(self, flask_app: Flask, stream: Any, wsgi: Any, broadcaster: Any) -> None:
        self.flask_app = flask_app
        self.stream = stream
        self.wsgi = wsgi
        self.broadcaster = broadcaster

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            match = LIVE_EVENTS_PATH.fullmatch(scope["path"])
            if match and int(match[1]) <= MAX_ID:
                await self.stream(scope, receive, send, int(match[1]))
                return
        await self.wsgi(scope, receive, send)


def create_asgi_app(flask_app: Flask) -> ProtokolAsgi:
    """Wrap `flask_app`: the live stream route first, everything else to Flask."""
    from a2wsgi import WSGIMiddleware

    from minutes.broadcast import broadcaster_for
    from minutes.live import event_completer
    from minutes.live_stream import create_stream_app

    config = flask_app.config
    broadcaster = broadcaster_for(
        config["SQLALCHEMY_DATABASE_URI"],
        poll_interval=float(config["LIVE_POLL_SECONDS"]),
        gather_interval=float(config["LIVE_GATHER_SECONDS"]),
        complete=event_completer(flask_app),
    )
    stream = create_stream_app(broadcaster, config)
    wsgi = WSGIMiddleware(flask_app, workers=int(os.environ.get("PROTOKOL_WSGI_THREADS", 10)))
    return ProtokolAsgi(flask_app, stream, wsgi, broadcaster)


def __getattr__(name: str) -> Any:
    """`protokol.asgi:app`: the ASGI application, built on first access (once a worker
    process), from the configuration `PROTOKOL_ENV` and the environment name."""
    if name != "app":
        raise AttributeError(name)
    global app
    from protokol import create_app

    app = create_asgi_app(create_app())
    return app
