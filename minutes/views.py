"""The minutes as pages and downloads: HTML, PDF and text, per meeting and per item.

Once a meeting's minutes are published, the PDF of the whole meeting is the frozen one
(`minutes.lifecycle.publish`): its bytes are served from `MINUTES_DIR` as stored, never
rendered again, with their SHA-256; every earlier version stays downloadable.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup

from meetings.models import Meeting
from meetings.storage import attachment_path
from minutes.context import build_minutes, split_blocks
from minutes.markup import to_html
from minutes.models import PublishedMinutes
from minutes.pdf import render_minutes_pdf
from minutes.styles import StyleError
from minutes.text import render_minutes_text
from protokol.auth import PUBLIC, allow
from protokol.extensions import db

bp = Blueprint("minutes", __name__)


@bp.app_errorhandler(StyleError)
def style_error(error: StyleError):
    """A body whose minutes style cannot be used: say so instead of failing."""
    db.session.rollback()
    message = f"Protokollen kan ikke vises, fordi protokolstilen ikke kan bruges: {error}"
    return render_template("error.html", code=503, message=message), 503


@bp.app_template_filter("case_markup")
def case_markup(text: str) -> Markup:
    """Case text (CommonMark with tables) as HTML; typed HTML is escaped."""
    return to_html(text)


@bp.app_template_filter("text_blocks")
def text_blocks(text: str) -> list[str]:
    """Split text into paragraphs at blank lines."""
    return split_blocks(text)


def _load(meeting_id: int, item_number: int | None):
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    if item_number is not None and item_number not in {i.number for i in meeting.items}:
        abort(404)
    return build_minutes(
        meeting,
        item_numbers=[item_number] if item_number is not None else None,
        is_public=True,
        style_dirs=tuple(current_app.config["PROTOKOL_STYLE_DIRS"]),
    )


def _filename(meeting: Meeting, item_number: int | None, ext: str) -> str:
    name = f"beslutningsprotokol-{meeting.date:%Y-%m-%d}-{meeting.id}"
    if item_number is not None:
        name += f"-punkt-{item_number}"
    return f"{name}.{ext}"


@bp.get("/meetings/<int:meeting_id>/minutes")
@bp.get("/meetings/<int:meeting_id>/items/<int:item_number>/minutes")
@allow(PUBLIC)
def minutes_page(meeting_id: int, item_number: int | None = None) -> str:
    """Roles: everyone. The minutes as a web page."""
    minutes = _load(meeting_id, item_number)
    return render_template("minutes/page.html", minutes=minutes, item_number=item_number)


def render_public_pdf(meeting: Meeting) -> bytes:
    """The public minutes of the whole meeting as PDF (closed items redacted): what the
    public downloads, and what publication freezes."""
    return render_minutes_pdf(
        build_minutes(
            meeting,
            is_public=True,
            style_dirs=tuple(current_app.config["PROTOKOL_STYLE_DIRS"]),
        )
    )


@bp.app_template_global("published_minutes")
def published_minutes(meeting: Meeting) -> list[PublishedMinutes]:
    """The frozen minutes PDFs of a meeting, newest first (empty until published)."""
    return list(
        db.session.scalars(
            sa.select(PublishedMinutes)
            .where(PublishedMinutes.meeting_id == meeting.id)
            .order_by(PublishedMinutes.version.desc())
        )
    )


def _unavailable(published: PublishedMinutes, problem: str):
    current_app.logger.error(
        "published minutes %s v%s (%s): %s",
        published.meeting_id,
        published.version,
        published.sha256,
        problem,
    )
    message = "Den offentliggjorte protokol kan ikke hentes lige nu. Prøv igen senere."
    return render_template("error.html", code=503, message=message), 503


def _frozen(meeting: Meeting, published: PublishedMinutes, *, is_latest: bool):
    """The stored bytes of a published version, exactly as frozen, checked against their
    SHA-256 before they are sent."""
    try:
        data = attachment_path(current_app.config["MINUTES_DIR"], published.sha256).read_bytes()
    except (ValueError, OSError) as exc:
        return _unavailable(published, f"cannot read the stored file: {exc}")
    if hashlib.sha256(data).hexdigest() != published.sha256:
        return _unavailable(published, "the stored file does not match its checksum")
    response = Response(data, mimetype="application/pdf")
    name = _filename(meeting, None, "pdf").removesuffix(".pdf") + f"-v{published.version}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-SHA256"] = published.sha256
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(published.sha256)
    # A version never changes; the newest may be followed by a corrected one.
    response.headers["Cache-Control"] = (
        "public, no-cache" if is_latest else "public, max-age=31536000, immutable"
    )
    return response.make_conditional(request)


@bp.get("/meetings/<int:meeting_id>/minutes/v<int:version>.pdf")
@allow(PUBLIC)
def minutes_pdf_version(meeting_id: int, version: int):
    """Roles: everyone. One published version of the minutes PDF, as frozen."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    versions = published_minutes(meeting)
    published = next((p for p in versions if p.version == version), None)
    if published is None:
        abort(404)
    return _frozen(meeting, published, is_latest=published is versions[0])


@bp.get("/meetings/<int:meeting_id>/minutes.pdf")
@bp.get("/meetings/<int:meeting_id>/items/<int:item_number>/minutes.pdf")
@allow(PUBLIC)
def minutes_pdf(meeting_id: int, item_number: int | None = None):
    """Roles: everyone. The minutes as a PDF download; once published, the newest frozen
    version of the whole meeting's minutes (never rendered again)."""
    if item_number is None:
        meeting = db.session.get(Meeting, meeting_id)
        if meeting is None:
            abort(404)
        versions = published_minutes(meeting)
        if versions:
            return _frozen(meeting, versions[0], is_latest=True)
    minutes = _load(meeting_id, item_number)
    response = Response(render_minutes_pdf(minutes), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_filename(minutes.meeting, item_number, "pdf")}"'
    )
    return response


@bp.get("/meetings/<int:meeting_id>/minutes.txt")
@bp.get("/meetings/<int:meeting_id>/items/<int:item_number>/minutes.txt")
@allow(PUBLIC)
def minutes_txt(meeting_id: int, item_number: int | None = None) -> Response:
    """Roles: everyone. The minutes as plain text."""
    minutes = _load(meeting_id, item_number)
    return Response(render_minutes_text(minutes), mimetype="text/plain")
