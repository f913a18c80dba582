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
from urllib.parse import parse_qsl

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


#: Put in every queue of a hub every keep-alive interval: the stream sends a comment, or
#: ends once its time is up. One timer per hub, not one timeout per stream and message.
TICK = object()


class AsyncHub:
    """Fans the broadcaster's messages out to the streams of one event loop: one
    subscription per meeting, one `call_soon_threadsafe` per event, and one keep-alive
    timer for all its streams."""

    def __init__(
        self, broadcaster: Broadcaster, loop: asyncio.AbstractEventLoop, keepalive: float = 15
    ) -> None:
        self.broadcaster = broadcaster
        self.loop = loop
        self.keepalive = keepalive
        self._queues: dict[int, set[asyncio.Queue]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def open(self, meeting_id: int) -> asyncio.Queue:
        queues = self._queues.get(meeting_id)
        if queues is None:
            queues = self._queues[meeting_id] = set()
            self.broadcaster.subscribe(meeting_id, self._from_thread)
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        queues.add(queue)
        if self._timer is None:
            self._timer = self.loop.call_later(self.keepalive, self._tick)
        return queue

    def close(self, meeting_id: int, queue: asyncio.Queue) -> None:
        queues = self._queues.get(meeting_id)
        if queues is None:
            return
        queues.discard(queue)
        if not queues:
            del self._queues[meeting_id]
            self.broadcaster.unsubscribe(meeting_id, self._from_thread)
        if not self._queues and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def viewers(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def _tick(self) -> None:
        for queues in self._queues.values():
            for queue in queues:
                if queue.empty():  # a stream with messages waiting wakes up anyway
                    queue.put_nowait(TICK)
        self._timer = self.loop.call_later(self.keepalive, self._tick) if self._queues else None

    def _from_thread(self, message: LiveMessage) -> None:
        self.loop.call_soon_threadsafe(self._dispatch, message)

    def _dispatch(self, message: LiveMessage) -> None:
        for queue in list(self._queues.get(message.meeting_id, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:  # a stalled viewer: end its stream, it reconnects
                self.stop(queue)

    @staticmethod
    def stop(queue: asyncio.Queue) -> None:
        """End the stream reading `queue` (whatever it has waiting is dropped)."""
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)


async def event_stream(
    hub: AsyncHub,
    queue: asyncio.Queue,
    meeting_id: int,
    after: int,
    language: str,
    *,
    max_seconds: float,
) -> AsyncIterator[bytes]:
    """The chunks of one viewer's stream, fed by `queue` (`hub.open(meeting_id)`): the
    retry interval and the backlog, then each new event, a comment at each of the hub's
    ticks, until `max_seconds` have passed (to a tick's precision) or the queue says stop.
    What is waiting in the queue together (the events the broadcaster read in one go) goes
    out as one chunk: one write to the viewer's connection, not one per event. The caller
    closes the queue (`hub.close`)."""
    loop = asyncio.get_running_loop()
    sent = after
    backlog = await asyncio.to_thread(hub.broadcaster.backlog, meeting_id, after)
    frames: list[bytes] = [RETRY]
    for message in backlog:
        sent = max(sent, message.id)
        frames.append(message.frame(language))
        if ends_stream(message):
            yield b"".join(frames)
            return
    yield b"".join(frames)
    deadline = loop.time() + max_seconds
    while True:
        waiting = [await queue.get()]
        while not queue.empty():
            waiting.append(queue.get_nowait())
        frames = []
        ended = False
        for message in waiting:
            if message is None:  # stop: what was waiting is dropped
                return
            if message is TICK:
                ended = loop.time() >= deadline
                if not ended and not frames:
                    frames.append(KEEPALIVE)
            elif message.id > sent:
                sent = message.id
                frames.append(message.frame(language))
                ended = ends_stream(message) or loop.time() >= deadline
            if ended:
                break
        if frames:
            yield b"".join(frames)
        if ended:
            return


def _query(scope: dict[str, Any]) -> dict[str, str]:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return dict(pairs)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


RAW_HEADERS = [
    (b"content-type", MEDIA_TYPE.encode()),
    *((k.lower().encode(), v.encode()) for k, v in HEADERS.items()),
]


def create_stream_app(broadcaster: Broadcaster, config: dict[str, Any]):
    """The live stream as a plain ASGI endpoint, `endpoint(scope, receive, send,
    meeting_id)`, called by `protokol/asgi.py` for its path. Plain ASGI, without a
    framework's response and middleware layers around each frame: a frame goes from the
    viewer's queue to the server's `send` directly, which is most of what a delivery to
    hundreds of viewers costs (bench/README.md, Recording a vote)."""
    hubs: dict[asyncio.AbstractEventLoop, AsyncHub] = {}
    keepalive = float(config.get("LIVE_KEEPALIVE_SECONDS", 15))
    max_seconds = float(config.get("LIVE_STREAM_SECONDS", 900))

    async def endpoint(scope: dict[str, Any], receive: Any, send: Any, meeting_id: int) -> None:
        loop = asyncio.get_running_loop()
        hub = hubs.get(loop)
        if hub is None:
            await asyncio.to_thread(broadcaster.start)
            hub = hubs.setdefault(loop, AsyncHub(broadcaster, loop, keepalive))
        state = await asyncio.to_thread(broadcaster.meeting_state, meeting_id)
        status = stream_status(state)
        if status != 200 or scope["method"] == "HEAD":
            headers = RAW_HEADERS if status == 200 else [(b"cache-control", b"no-store")]
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [*headers, (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        query = _query(scope)
        after = parse_after(_header(scope, b"last-event-id"), query.get("after"))
        language = parse_language(query.get("lang"))
        queue = hub.open(meeting_id)
        frames = event_stream(hub, queue, meeting_id, after, language, max_seconds=max_seconds)
        gone = asyncio.Event()

        async def watch() -> None:
            """The viewer went away: end its stream (the server drops what is sent after)."""
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            hub.stop(queue)

        watcher = asyncio.ensure_future(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": RAW_HEADERS})
            async for frame in frames:
                if gone.is_set():
                    break
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            if not gone.is_set():
                await send({"type": "http.response.body", "body": b""})
        finally:
            await frames.aclose()
            watcher.cancel()
            hub.close(meeting_id, queue)

    endpoint.hubs = hubs  # type: ignore[attr-defined]
    return endpoint
