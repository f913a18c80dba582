"""The minutes as pages and downloads: HTML, PDF and text, per meeting and per item."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template

from meetings.models import Meeting
from markupsafe import Markup

from minutes.context import build_minutes, split_blocks
from minutes.markup import to_html
from minutes.styles import StyleError
from minutes.pdf import render_minutes_pdf
from minutes.text import render_minutes_text
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
def minutes_page(meeting_id: int, item_number: int | None = None) -> str:
    """Roles: everyone. The minutes as a web page."""
    minutes = _load(meeting_id, item_number)
    return render_template("minutes/page.html", minutes=minutes, item_number=item_number)


@bp.get("/meetings/<int:meeting_id>/minutes.pdf")
@bp.get("/meetings/<int:meeting_id>/items/<int:item_number>/minutes.pdf")
def minutes_pdf(meeting_id: int, item_number: int | None = None) -> Response:
    """Roles: everyone. The minutes as a PDF download."""
    minutes = _load(meeting_id, item_number)
    response = Response(render_minutes_pdf(minutes), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_filename(minutes.meeting, item_number, "pdf")}"'
    )
    return response


@bp.get("/meetings/<int:meeting_id>/minutes.txt")
@bp.get("/meetings/<int:meeting_id>/items/<int:item_number>/minutes.txt")
def minutes_txt(meeting_id: int, item_number: int | None = None) -> Response:
    """Roles: everyone. The minutes as plain text."""
    minutes = _load(meeting_id, item_number)
    return Response(render_minutes_text(minutes), mimetype="text/plain")
