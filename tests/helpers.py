"""Small helpers shared by the tests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from pypdf import PdfReader


def normalise(text: str) -> str:
    """Collapse all whitespace, for comparing texts whitespace-normalised."""
    return " ".join(text.split())


def pdf_text(data: bytes) -> str:
    """The whitespace-normalised text of every page of a PDF (pypdf)."""
    return normalise(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def published_meeting(factories, starts_at, **meeting):
    """A published meeting of two items ("Punkt 1", "Punkt 2" and `starts_at`'s day),
    each with an amendment by A voted on (A for, B against), a decision and a remark by B;
    not committed."""
    from meetings.models import MeetingState
    from motions.models import MotionKind

    published = factories.meeting(starts_at=starts_at, state=MeetingState.PUBLISHED, **meeting)
    for number in (1, 2):
        item = factories.item(published, number, title=f"Punkt {number} den {starts_at.day}.")
        motion = factories.motion(item, MotionKind.AMENDMENT, party="A", text="Forslag.")
        factories.vote(motion, {"A": "for", "B": "against"})
        factories.decision(item, "approved")
        factories.remark(item, "Bemærkning.", party="B")
    return published


def publish_correction(app, db, meeting_id: int) -> None:
    """Add a correction to the published minutes of `meeting_id` and commit: a new frozen
    version of the meeting's PDF (and its items')."""
    from meetings.models import Meeting
    from minutes.lifecycle import add_correction
    from minutes.views import render_public_item_pdf, render_public_pdf

    add_correction(
        db.session.get(Meeting, meeting_id),
        "Stemmetallet rettes.",
        "Skrivefejl.",
        actor=None,
        minutes_dir=app.config["MINUTES_DIR"],
        render_pdf=render_public_pdf,
        render_item_pdf=render_public_item_pdf,
    )
    db.session.commit()


@contextmanager
def recorded_statements(db) -> Iterator[list[str]]:
    """The SQL statements run on `db`'s engine inside the block, as a list filled in."""
    import sqlalchemy as sa

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def statements_of(db, client, path: str, **kwargs):
    """GET `path` (asserting a 200): the SQL statements it ran, and the response."""
    with recorded_statements(db) as statements:
        response = client.get(path, **kwargs)
    assert response.status_code == 200
    return statements, response
