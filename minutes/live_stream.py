"""The live event stream (Server-Sent Events) of a meeting, served without a worker per
viewer: an async route of the ASGI app (`protokol/asgi.py`). Each viewer is an
`asyncio.Queue` fed by one hub per event loop, which the process's broadcaster thread
(`minutes/broadcast.py`) wakes once per event with `call_soon_threadsafe`; a viewer costs
a few kilobytes and no thread. The Flask view of the same URL (`minutes/live_views.py`)
serves the development server.

`GET /meetings/<id>/live/events?after=N&lang=da`:
- 404 for an unknown meeting; 204 (EventSource stops retrying) unless it is planned or in
  session;
- first the newest event of each item after `after` (or after the `Last-Event-ID` header
  an EventSource sends when it reconnects), then every new event as it is committed, each
  as `id:`, `event:` ("item" or "state") and one line of JSON `data:` with the item's HTML
  fragment in the asked language;
- a comment every `LIVE_KEEPALIVE_SECONDS`; after `LIVE_STREAM_SECONDS` the server ends the
  stream and the browser reconnects with `Last-Event-ID` (and may land on another process);
  a state event that ends the meeting ends the stream too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from minutes.broadcast import RETRY_MS, Broadcaster, LiveMessage
from protokol.i18n import DEFAULT_LANGUAGE, LANGUAGES

#: Events a slow viewer may have waiting; beyond that its stream ends and it reconnects.
QUEUE_SIZE = 64
#: Meeting states whose stream is open (planned: to learn that it starts).
STREAM_STATES = frozenset({"planned", "in_session"})
HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
    "X-Content-Type-Options": "nosniff",
}
MEDIA_TYPE = "text/event-stream; charset=utf-8"
RETRY = f"retry: {RETRY_MS}\n\n".encode()
KEEPALIVE = b": keep-alive\n\n"


def stream_status(state: str | None) -> int:
    """200 while the meeting's stream is open; 404 for no meeting; 204 once it is over."""
    if state is None:
        return 404
    return 200 if state in STREAM_STATES else 204


def parse_after(last_event_id: str | None, after: str | None) -> int:
    """The id after which to send: the larger of `Last-Event-ID` and `?after=`."""
    values = []
    for raw in (last_event_id, after):
        raw = (raw or "").strip()
        if raw.isdigit() and len(raw) < 19:
            values.append(int(raw))
    return max(values, default=0)


def parse_language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def ends_stream(message: LiveMessage) -> bool:
    """A state event after which the meeting's stream closes (the meeting ended)."""
    return message.kind == "state" and message.state not in STREAM_STATES


class AsyncHub:
    """Fans the broadcaster's messages out to the streams of one event loop: one
    subscription per meeting, one `call_soon_threadsafe` per event."""

    def __init__(self, broadcaster: Broadcaster, loop: asyncio.AbstractEventLoop) -> None:
        self.broadcaster = broadcaster
        self.loop = loop
        self._queues: dict[int, set[asyncio.Queue]] = {}

    def open(self, meeting_id: int) -> asyncio.Queue:
        queues = self._queues.get(meeting_id)
        if queues is None:
            queues = self._queues[meeting_id] = set()
            self.broadcaster.subscribe(meeting_id, self._from_thread)
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        queues.add(queue)
        return queue

    def close(self, meeting_id: int, queue: asyncio.Queue) -> None:
        queues = self._queues.get(meeting_id)
        if queues is None:
            return
        queues.discard(queue)
        if not queues:
            del self._queues[meeting_id]
            self.broadcaster.unsubscribe(meeting_id, self._from_thread)

    def viewers(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def _from_thread(self, message: LiveMessage) -> None:
        self.loop.call_soon_threadsafe(self._dispatch, message)

    def _dispatch(self, message: LiveMessage) -> None:
        for queue in list(self._queues.get(message.meeting_id, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:  # a stalled viewer: end its stream, it reconnects
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)


async def event_stream(
    hub: AsyncHub,
    meeting_id: int,
    after: int,
    language: str,
    *,
    keepalive: float,
    max_seconds: float,
) -> AsyncIterator[bytes]:
    """The frames of one viewer's stream."""
    loop = asyncio.get_running_loop()
    queue = hub.open(meeting_id)
    try:
        yield RETRY
        sent = after
        backlog = await asyncio.to_thread(hub.broadcaster.backlog, meeting_id, after)
        for message in backlog:
            sent = max(sent, message.id)
            yield message.frame(language)
            if ends_stream(message):
                return
        deadline = loop.time() + max_seconds
        while (left := deadline - loop.time()) > 0:
            try:
                async with asyncio.timeout(min(keepalive, left)):
                    message = await queue.get()
            except TimeoutError:
                yield KEEPALIVE
                continue
            if message is None:
                return
            if message.id <= sent:
                continue
            sent = message.id
            yield message.frame(language)
            if ends_stream(message):
                return
    finally:
        hub.close(meeting_id, queue)


def create_stream_app(broadcaster: Broadcaster, config: dict[str, Any]):
    """The Starlette endpoint of the live stream (mounted by `protokol/asgi.py`)."""
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse

    hubs: dict[asyncio.AbstractEventLoop, AsyncHub] = {}
    keepalive = float(config.get("LIVE_KEEPALIVE_SECONDS", 15))
    max_seconds = float(config.get("LIVE_STREAM_SECONDS", 900))

    async def endpoint(request: Request) -> Response:
        meeting_id = request.path_params["meeting_id"]
        loop = asyncio.get_running_loop()
        hub = hubs.get(loop)
        if hub is None:
            await asyncio.to_thread(broadcaster.start)
            hub = hubs.setdefault(loop, AsyncHub(broadcaster, loop))
        state = await asyncio.to_thread(broadcaster.meeting_state, meeting_id)
        status = stream_status(state)
        if status != 200:
            return Response(status_code=status, headers={"Cache-Control": "no-store"})
        after = parse_after(request.headers.get("last-event-id"), request.query_params.get("after"))
        language = parse_language(request.query_params.get("lang"))
        return StreamingResponse(
            event_stream(
                hub, meeting_id, after, language, keepalive=keepalive, max_seconds=max_seconds
            ),
            media_type=MEDIA_TYPE,
            headers=HEADERS,
        )

    endpoint.hubs = hubs  # type: ignore[attr-defined]
    return endpoint
