"""The public search page: `/search?q=...&body=...&year=...&party=...&page=...`.

Any input gives a page: results, or a 400 with a message saying what is wrong with the
query or a filter (never the engine's own syntax errors). See `minutes.search`.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from meetings.models import Body, Party
from minutes.search import (
    MAX_PAGE,
    MAX_QUERY_LENGTH,
    DocumentKind,
    SearchQueryError,
    search,
    years,
)
from protokol.auth import PUBLIC, allow
from protokol.extensions import db

bp = Blueprint("search", __name__)

#: What each kind of hit is called on the page.
KIND_LABELS = {
    DocumentKind.DECISION: "Beslutning",
    DocumentKind.RECOMMENDATION: "Indstilling",
    DocumentKind.REMARK: "Protokolbemærkning",
    DocumentKind.AMENDMENT: "Forslag",
}


class BadFilter(ValueError):
    """A filter value that cannot be used; the message is shown."""


def _int_arg(name: str, message: str, *, low: int = 1, high: int = 2**31 - 1) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise BadFilter(message)
    return int(raw)


def item_path(meeting_id: int, number: int) -> str:
    """The public page of an item."""
    return url_for("portal.item", meeting_id=meeting_id, item_number=number)


@bp.get("/search")
@allow(PUBLIC)
def index():
    """Roles: everyone. Search the published minutes, with filters and pages."""
    query = request.args.get("q", "")
    bodies = db.session.scalars(sa.select(Body).order_by(Body.name)).all()
    parties = db.session.scalars(sa.select(Party).order_by(Party.letter)).all()
    error = None
    results = None
    chosen = {"body": None, "year": None, "party": None}
    try:
        chosen["body"] = _int_arg("body", _("Vælg et udvalg fra listen."))
        chosen["year"] = _int_arg("year", _("Året skal være et årstal, fx 2010."), high=9999)
        chosen["party"] = _int_arg("party", _("Vælg et parti fra listen."))
        page = _int_arg("page", _("Siden skal være et tal fra 1 til %(max)s.", max=MAX_PAGE))
        if chosen["body"] is not None and chosen["body"] not in {b.id for b in bodies}:
            raise BadFilter(_("Udvalget findes ikke."))
        if chosen["party"] is not None and chosen["party"] not in {p.id for p in parties}:
            raise BadFilter(_("Partiet findes ikke."))
        if len(query) > MAX_QUERY_LENGTH:
            raise BadFilter(_("Søgningen er for lang (højst %(max)s tegn).", max=MAX_QUERY_LENGTH))
        if query.strip():
            results = search(
                query,
                body_id=chosen["body"],
                year=chosen["year"],
                party_id=chosen["party"],
                page=page or 1,
            )
    except (BadFilter, SearchQueryError) as exc:
        error = str(exc)
    status = 400 if error else 200
    return (
        render_template(
            "search/index.html",
            query=query[:MAX_QUERY_LENGTH],
            bodies=bodies,
            parties=parties,
            years=years(),
            chosen=chosen,
            results=results,
            error=error,
            kind_labels=KIND_LABELS,
            item_path=item_path,
        ),
        status,
    )
