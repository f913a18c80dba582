"""The public live page of a meeting in session (direkte), and its event stream for the
Flask development server.

The page is complete without JavaScript: it shows every item's current state, rendered on
the server (a `<noscript>` refresh reloads it every 15 seconds). `static/live.js` then opens
the event stream and swaps in each item's block as the secretary records a vote. In
production the ASGI app (`protokol/asgi.py`) serves the stream asynchronously; the Flask
view below serves the same URL under `make run`, a thread per viewer.
"""

from __future__ import annotations

import contextlib
import json
import queue
import time
from collections.abc import Iterator

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import get_locale
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from meetings.models import Meeting, MeetingState
from minutes.broadcast import RETRY_MS, Broadcaster, LiveMessage, broadcaster_for
from minutes.charts import live_seat_diagram
from minutes.live import (
    event_completer,
    item_payload,
    last_event_id_query,
    latest_events_query,
    latest_made_events_query,
    meeting_style,
)
from minutes.live_stream import (
    HEADERS,
    KEEPALIVE,
    MEDIA_TYPE,
    QUEUE_SIZE,
    ends_stream,
    parse_after,
    parse_language,
    stream_status,
)
from protokol.auth import PUBLIC, allow
from protokol.extensions import db
from protokol.i18n import DEFAULT_LANGUAGE

bp = Blueprint("live", __name__)
bp.add_app_template_global(live_seat_diagram, "live_seat_diagram")


def broadcaster() -> Broadcaster:
    """This process's broadcaster for the app's database."""
    config = current_app.config
    return broadcaster_for(
        config["SQLALCHEMY_DATABASE_URI"],
        poll_interval=float(config["LIVE_POLL_SECONDS"]),
        gather_interval=float(config["LIVE_GATHER_SECONDS"]),
        complete=event_completer(current_app._get_current_object()),
    )


def _language() -> str:
    return parse_language(str(get_locale() or DEFAULT_LANGUAGE))


def current_blocks(meeting: Meeting, language: str, after: int) -> tuple[list[str], int]:
    """Each item's block as the stream last sent it, and the id the page's stream should
    start after (at most `after`).

    The blocks are the events' stored snapshots; the page renders none itself. An item
    whose newest event has no snapshot yet (made right after the commit by whichever
    process gets there first) shows its newest snapshot made so far, and the stream then
    starts just before the pending event, so that its backlog brings it. An item with no
    snapshot at all (its events were written before any viewer's stream was open) has its
    newest one made and stored here, once, as the broadcaster would. Only an item without
    events (nothing recorded while in session) is rendered per view."""
    rows = db.session.execute(latest_events_query(meeting.id)).all()
    newest = {row.item_id: row for row in rows if row.item_id is not None}
    pending = {row.item_id: row for row in newest.values() if row.payload is None}
    payloads = {row.item_id: row.payload for row in newest.values() if row.payload is not None}
    if pending:
        made = db.session.execute(latest_made_events_query(meeting.id, list(pending))).all()
        payloads.update({row.item_id: row.payload for row in made})
        if made:  # shown as made so far: the stream's backlog brings the pending ones
            after = min(after, min(pending[row.item_id].id for row in made) - 1)
        unmade = [row for item_id, row in pending.items() if item_id not in payloads]
        if unmade:
            completed = _complete(unmade)
            payloads.update({r.item_id: completed[r.id] for r in unmade if r.id in completed})
    style = None
    blocks = []
    for item in meeting.items:
        payload = payloads.get(item.id)
        if payload is not None:
            html = json.loads(payload).get("html", {})
            blocks.append(html.get(language) or html.get(DEFAULT_LANGUAGE, ""))
            continue
        if style is None:
            style = meeting_style(meeting)
        blocks.append(item_payload(item, style)["html"].get(language, ""))
    return blocks, after


def _complete(rows) -> dict[int, str]:
    """The snapshots of these event rows, made and stored (`minutes.live.event_completer`:
    its own session, one process at a time); {} when that fails (the page then renders
    the items itself)."""
    try:
        return event_completer(current_app._get_current_object())(rows)
    except Exception:
        current_app.logger.exception("live: the snapshots of %s events were not made", len(rows))
        return {}


@bp.get("/meetings/<int:meeting_id>/live")
@allow(PUBLIC)
def page(meeting_id: int):
    """Roles: everyone. The meeting's votes as they are recorded, while it is in session;
    before, when it starts; after, a link to the meeting."""
    meeting = db.session.scalar(
        sa.select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(selectinload(Meeting.items), selectinload(Meeting.body))
    )
    if meeting is None:
        abort(404)
    language = _language()
    blocks: list[str] = []
    # Read the newest id before the state, so that the stream resends, never skips.
    after = db.session.scalar(last_event_id_query(meeting.id)) or 0
    if meeting.state is MeetingState.IN_SESSION:
        blocks, after = current_blocks(meeting, language, after)
    response = current_app.make_response(
        render_template(
            "live/page.html",
            meeting=meeting,
            blocks=blocks,
            after=after,
            language=language,
            is_live=meeting.state is MeetingState.IN_SESSION,
            is_planned=meeting.state is MeetingState.PLANNED,
        )
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/meetings/<int:meeting_id>/live/events")
@allow(PUBLIC)
def events(meeting_id: int):
    """Roles: everyone. The live page's event stream (Server-Sent Events); under the
    ASGI app an async route of the same URL answers instead."""
    state = db.session.scalar(sa.select(Meeting.state).where(Meeting.id == meeting_id))
    status = stream_status(state.value if state is not None else None)
    if status == 404:
        abort(404)
    if status != 200:
        return Response(status=status, headers={"Cache-Control": "no-store"})
    after = parse_after(request.headers.get("Last-Event-ID"), request.args.get("after"))
    language = parse_language(request.args.get("lang"))
    config = current_app.config
    stream = _sync_stream(
        broadcaster(),
        meeting_id,
        after,
        language,
        keepalive=float(config["LIVE_KEEPALIVE_SECONDS"]),
        max_seconds=float(config["LIVE_STREAM_SECONDS"]),
    )
    return Response(stream, mimetype=MEDIA_TYPE, headers=HEADERS, direct_passthrough=True)


def _sync_stream(
    source: Broadcaster,
    meeting_id: int,
    after: int,
    language: str,
    *,
    keepalive: float,
    max_seconds: float,
) -> Iterator[bytes]:
    """One viewer's stream on a thread of its own (the development server)."""
    waiting: queue.Queue[LiveMessage | None] = queue.Queue(maxsize=QUEUE_SIZE)

    def deliver(message: LiveMessage) -> None:
        try:
            waiting.put_nowait(message)
        except queue.Full:  # a stalled viewer: end its stream, it reconnects and catches up
            with contextlib.suppress(queue.Empty):
                while True:
                    waiting.get_nowait()
            waiting.put_nowait(None)

    source.subscribe(meeting_id, deliver)
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        sent = after
        for message in source.backlog(meeting_id, after):
            sent = max(sent, message.id)
            yield message.frame(language)
            if ends_stream(message):
                return
        deadline = time.monotonic() + max_seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = waiting.get(timeout=min(keepalive, left))
            except queue.Empty:
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
        source.unsubscribe(meeting_id, deliver)
