"""The minutes as pages and downloads: HTML, PDF and text, per meeting and per item, and
their votes as CSV (`minutes.votes_csv`).

The public sees a meeting's minutes once they are published (`meetings.visibility`), and
anything else gets 404, as if they did not exist; the people who work on the meeting
(`meetings.drafts.may_see_drafts`) see the draft, marked UDKAST, never cached.

Once published, the PDFs of the whole meeting and of each item are the frozen ones
(`minutes.lifecycle.publish`): their bytes are served from `MINUTES_DIR` as stored, never
rendered again, checked against their SHA-256, with `ETag`, `Last-Modified` and 304 on
`If-None-Match` / `If-Modified-Since`; every earlier version of the meeting's PDF stays
downloadable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import ORMOption

from meetings.drafts import may_see_drafts
from meetings.models import AgendaItem, Meeting
from meetings.visibility import are_minutes_public
from minutes.context import (
    build_minutes,
    load_minutes_record,
    motions_with_votes,
    split_blocks,
)
from minutes.frozen import is_access_check, send_frozen_pdf
from minutes.markup import to_html
from minutes.models import PublishedItemMinutes, PublishedMinutes
from minutes.oparl.queries import body_options
from minutes.pdf import render_minutes_pdf
from minutes.styles import StyleError, load_style
from minutes.text import render_minutes_text
from minutes.votes_csv import vote_rows, votes_csv
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


def viewer():
    """The logged-in user, or None for an anonymous visitor."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def minutes_access(meeting: Meeting) -> bool:
    """Whether this request sees the meeting's minutes as a draft (False: as published);
    404 when it may not see them at all."""
    if are_minutes_public(meeting):
        return False
    if may_see_drafts(viewer(), meeting):
        return True
    abort(404)


def _meeting(
    meeting_id: int, item_number: int | None = None, *, options: Sequence[ORMOption] = ()
) -> tuple[Meeting, bool]:
    """The meeting, loaded with `options` (404 if missing, or its item number is unknown),
    and whether the request sees a draft; 404 when it may not see the minutes."""
    meeting = db.session.scalar(
        sa.select(Meeting).where(Meeting.id == meeting_id).options(*options)
    )
    if meeting is None:
        abort(404)
    if item_number is not None and item_number not in {i.number for i in meeting.items}:
        abort(404)
    return meeting, minutes_access(meeting)


def _minutes(meeting: Meeting, item_number: int | None, *, is_draft: bool):
    load_minutes_record(meeting)
    minutes = build_minutes(
        meeting,
        item_numbers=[item_number] if item_number is not None else None,
        is_public=True,
        style_dirs=tuple(current_app.config["PROTOKOL_STYLE_DIRS"]),
    )
    minutes.is_draft = is_draft
    return minutes


def _filename(
    meeting: Meeting,
    item_number: int | None,
    ext: str,
    *,
    is_draft: bool = False,
    stem: str = "beslutningsprotokol",
):
    name = f"{stem}-{meeting.date:%Y-%m-%d}-{meeting.id}"
    if item_number is not None:
        name += f"-punkt-{item_number}"
    if is_draft:
        name += "-udkast"
    return f"{name}.{ext}"


@bp.get("/meetings/<int:meeting_id>/minutes")
@bp.get("/meetings/<int:meeting_id>/items/<int:item_number>/minutes")
@allow(PUBLIC)
def minutes_page(meeting_id: int, item_number: int | None = None):
    """Roles: everyone once published (the body's staff and members see the draft). The
    minutes as a web page."""
    meeting, is_draft = _meeting(meeting_id, item_number)
    minutes = _minutes(meeting, item_number, is_draft=is_draft)
    response = Response(
        render_template("minutes/page.html", minutes=minutes, item_number=item_number)
    )
    if is_draft:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def render_public_pdf(meeting: Meeting) -> bytes:
    """The public minutes of the whole meeting as PDF (closed items redacted): what the
    public downloads, and what publication freezes."""
    load_minutes_record(meeting)
    return render_minutes_pdf(
        build_minutes(
            meeting,
            is_public=True,
            style_dirs=tuple(current_app.config["PROTOKOL_STYLE_DIRS"]),
        )
    )


def render_public_item_pdf(meeting: Meeting, item_number: int) -> bytes:
    """The public minutes of one item as PDF (a closed item: number and title only): what
    publication freezes per item (after `render_public_pdf`, which loaded the record)."""
    return render_minutes_pdf(
        build_minutes(
            meeting,
            item_numbers=[item_number],
            is_public=True,
            style_dirs=tuple(current_app.config["PROTOKOL_STYLE_DIRS"]),
        )
    )


def _signed(data: bytes) -> bytes:
    """`data` signed with the configured key (minutes/signing.py), or as it is."""
    path = current_app.config.get("SIGNING_PKCS12")
    if not path:
        return data
    from minutes.signing import load_signer, sign_pdf

    signer = load_signer(path, current_app.config.get("SIGNING_PASSPHRASE") or "")
    return sign_pdf(data, signer, location=current_app.config["PROTOKOL_MUNICIPALITY"])


def render_frozen_pdf(meeting: Meeting) -> bytes:
    """What publication freezes for the whole meeting: the public minutes PDF, signed
    when a signing key is configured."""
    return _signed(render_public_pdf(meeting))


def render_frozen_item_pdf(meeting: Meeting, item_number: int) -> bytes:
    """What publication freezes for one item (as `render_frozen_pdf`)."""
    return _signed(render_public_item_pdf(meeting, item_number))


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


def frozen_item_minutes(meeting: Meeting, item_number: int) -> PublishedItemMinutes | None:
    """The frozen PDF of an item's minutes in the newest published version, if one was
    made (meetings published before item PDFs were frozen have none)."""
    item = next((i for i in meeting.items if i.number == item_number), None)
    if item is None:
        return None
    return db.session.scalar(
        sa.select(PublishedItemMinutes)
        .join(PublishedMinutes)
        .where(PublishedItemMinutes.item_id == item.id)
        .order_by(PublishedMinutes.version.desc())
        .limit(1)
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _send_pdf(
    data: bytes,
    filename: str,
    *,
    etag: str,
    last_modified: datetime | None,
    cache_control: str,
) -> Response:
    """A PDF download that answers conditional requests (304)."""
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = cache_control
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = _utc(last_modified).replace(microsecond=0)
    return response.make_conditional(request)


def _frozen(meeting: Meeting, published: PublishedMinutes, *, is_latest: bool):
    """A published version exactly as frozen (minutes.frozen: from the stored file, checked
    against its SHA-256, or handed to nginx)."""
    name = _filename(meeting, None, "pdf").removesuffix(".pdf") + f"-v{published.version}.pdf"
    return send_frozen_pdf(
        published.sha256,
        published.size,
        name,
        last_modified=published.created_at,
        # A version never changes; the newest may be followed by a corrected one.
        cache_control="public, no-cache" if is_latest else "public, max-age=31536000, immutable",
        what=f"published minutes {published.meeting_id} v{published.version}",
    )


@bp.get("/meetings/<int:meeting_id>/minutes/v<int:version>.pdf")
@allow(PUBLIC)
def minutes_pdf_version(meeting_id: int, version: int):
    """Roles: everyone. One published version of the minutes PDF, as frozen."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not are_minutes_public(meeting):
        abort(404)
    versions = published_minutes(meeting)
    published = next((p for p in versions if p.version == version), None)
    if published is None:
        abort(404)
    return _frozen(meeting, published, is_latest=published is versions[0])


def _rendered(meeting: Meeting, item_number: int | None, *, is_draft: bool) -> Response:
    """Minutes rendered now: a draft (never cached), or published minutes that have no
    frozen PDF (published before item PDFs were frozen). Not for nginx's access check:
    no frozen PDF answers, so nginx asks for the download itself."""
    if is_access_check():
        abort(404)
    data = render_minutes_pdf(_minutes(meeting, item_number, is_draft=is_draft))
    return _send_pdf(
        data,
        _filename(meeting, item_number, "pdf", is_draft=is_draft),
        etag=hashlib.sha256(data).hexdigest(),
        last_modified=None if is_draft else meeting.modified_at,
        cache_control="private, no-store" if is_draft else "public, no-cache",
    )


@bp.get("/meetings/<int:meeting_id>/minutes.pdf")
@bp.get("/meetings/<int:meeting_id>/items/<int:item_number>/minutes.pdf")
@allow(PUBLIC)
def minutes_pdf(meeting_id: int, item_number: int | None = None):
    """Roles: everyone once published (the body's staff and members get the draft). The
    minutes as a PDF download; once published, the newest frozen version (never rendered
    again), of the whole meeting or of the item."""
    meeting, is_draft = _meeting(meeting_id, item_number)
    if is_draft:
        return _rendered(meeting, item_number, is_draft=True)
    if item_number is None:
        versions = published_minutes(meeting)
        if versions:
            return _frozen(meeting, versions[0], is_latest=True)
        return _rendered(meeting, None, is_draft=False)
    frozen = frozen_item_minutes(meeting, item_number)
    if frozen is None:
        return _rendered(meeting, item_number, is_draft=False)
    return send_frozen_pdf(
        frozen.sha256,
        frozen.size,
        _filename(meeting, item_number, "pdf"),
        last_modified=frozen.created_at,
        cache_control="public, no-cache",
        what=f"published minutes {meeting.id}, item {item_number}",
    )


@bp.get("/meetings/<int:meeting_id>/minutes.txt")
@bp.get("/meetings/<int:meeting_id>/items/<int:item_number>/minutes.txt")
@allow(PUBLIC)
def minutes_txt(meeting_id: int, item_number: int | None = None) -> Response:
    """Roles: everyone once published (the body's staff and members get the draft). The
    minutes as plain text."""
    meeting, is_draft = _meeting(meeting_id, item_number)
    text = render_minutes_text(_minutes(meeting, item_number, is_draft=is_draft))
    response = Response(text, mimetype="text/plain")
    if is_draft:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _votes_loaded() -> list[ORMOption]:
    """What the votes' rows read: one statement a collection. The body's seats are
    loaded with it (as for the API's meetings), not afterwards with
    `minutes.statistics.load_seats`: that crashed the process now and then (a
    segmentation fault with SQLAlchemy 2.1.9's compiled extensions, none with its
    pure-Python build; on the benchmark record)."""
    return [
        body_options(),
        selectinload(Meeting.attendance),
        selectinload(Meeting.items).options(
            selectinload(AgendaItem.attendance), motions_with_votes()
        ),
    ]


@bp.get("/meetings/<int:meeting_id>/votes.csv")
@bp.get("/meetings/<int:meeting_id>/items/<int:item_number>/votes.csv")
@allow(PUBLIC)
def votes_csv_download(meeting_id: int, item_number: int | None = None) -> Response:
    """Roles: everyone once published (the body's staff and members get the draft). The
    votes of the meeting, or of the item, as CSV: a row per vote and party, and per member
    with a position of their own; closed items have none."""
    meeting, is_draft = _meeting(meeting_id, item_number, options=_votes_loaded())
    style = load_style(meeting.body.minutes_style, tuple(current_app.config["PROTOKOL_STYLE_DIRS"]))
    data = votes_csv(vote_rows(meeting, style, item_number=item_number, is_draft=is_draft))
    name = _filename(meeting, item_number, "csv", is_draft=is_draft, stem="afstemninger")
    response = Response(data, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store" if is_draft else "public, no-cache"
    if is_draft:
        return response
    response.set_etag(hashlib.sha256(data).hexdigest())
    return response.make_conditional(request)
