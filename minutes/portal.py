"""The public portal (no login): the home page, a body's meetings by year with its
parties' record and calendar feed, a meeting with its agenda and decisions, and an item
with its case, attachments, decision and votes drawn as seat diagrams.

What shows follows `meetings.visibility`: a meeting's date, time and place always; its
agenda once published (or the meeting opened); decisions, votes and remarks once the
minutes are published; a closed item (lukket punkt) by number and title only. The people
who work on a meeting (`meetings.drafts.may_see_drafts`) also see what is not yet
published, marked UDKAST.

Every page loads its rows in a fixed number of queries (eager loading), whatever the
number of items, motions, votes or seats.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import joinedload, selectinload

from meetings.drafts import may_see_drafts
from meetings.models import AgendaItem, Body, Meeting, MeetingState
from meetings.services import SeatedMember, seated_members
from meetings.visibility import are_minutes_public, is_agenda_public, minutes_public_clause
from minutes.charts import Bar, bar_chart, seat_diagram
from minutes.context import (
    DecisionText,
    build_decision,
    item_tallies,
    motion_context,
    motions_with_votes,
)
from minutes.ical import LOCAL, meetings_calendar
from minutes.models import ProtocolRemark, PublishedMinutes, RemarkCoParty
from minutes.page_cache import init_page_cache, public_meeting_page
from minutes.statistics import load_seats, party_records
from minutes.styles import Style, load_style
from minutes.views import frozen_item_minutes, published_minutes, viewer
from motions.models import Motion
from protokol.auth import PUBLIC, allow
from protokol.extensions import db
from votes.models import Outcome, Vote
from votes.services import Tally

bp = Blueprint("portal", __name__)
bp.record_once(lambda state: init_page_cache(state.app))

#: How many meetings the home page lists under each heading.
HOME_LIMIT = 10
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadArgument(Exception):
    """A query argument that cannot be used; the message says why (400)."""


@bp.errorhandler(BadArgument)
def bad_argument(error: BadArgument):
    db.session.rollback()
    return render_template("error.html", code=400, message=str(error)), 400


def public_status(meeting: Meeting) -> str:
    """Where a meeting stands, as the public may know it."""
    if meeting.state == MeetingState.PLANNED:
        if meeting.agenda_published_at is not None:
            return _("Planlagt; dagsordenen er offentliggjort")
        return _("Planlagt")
    if meeting.state == MeetingState.IN_SESSION:
        return _("I gang")
    if meeting.state == MeetingState.PUBLISHED:
        return _("Protokollen er offentliggjort")
    return _("Afholdt; protokollen er ikke offentliggjort endnu")


@bp.app_template_global("public_status")
def public_status_global(meeting: Meeting) -> str:
    return public_status(meeting)


def _now_local() -> datetime:
    return datetime.now(LOCAL).replace(tzinfo=None)


def _style(body: Body) -> Style:
    return load_style(body.minutes_style, tuple(current_app.config["PROTOKOL_STYLE_DIRS"]))


# --------------------------------------------------------------------------- home


@bp.get("/")
@allow(PUBLIC)
def home() -> str:
    """Roles: everyone. The bodies, the upcoming meetings and the recently published
    minutes."""
    bodies = db.session.scalars(sa.select(Body).order_by(Body.name)).all()
    now = _now_local()
    upcoming = db.session.scalars(
        sa.select(Meeting)
        .where(Meeting.starts_at >= datetime.combine(now.date(), time.min))
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(HOME_LIMIT)
        .options(selectinload(Meeting.body))
    ).all()
    first = (
        sa.select(
            PublishedMinutes.meeting_id,
            sa.func.min(PublishedMinutes.created_at).label("published_at"),
        )
        .group_by(PublishedMinutes.meeting_id)
        .subquery()
    )
    recent = db.session.execute(
        sa.select(Meeting, first.c.published_at)
        .outerjoin(first, first.c.meeting_id == Meeting.id)
        .where(minutes_public_clause())
        .order_by(
            sa.func.coalesce(first.c.published_at, Meeting.starts_at).desc(), Meeting.id.desc()
        )
        .limit(HOME_LIMIT)
        .options(selectinload(Meeting.body))
    ).all()
    return render_template("portal/home.html", bodies=bodies, upcoming=upcoming, recent=recent)


# --------------------------------------------------------------------------- a body


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not _ISO_DATE.fullmatch(raw):
        raise BadArgument(_("Datoen »%(value)s« skal skrives ÅÅÅÅ-MM-DD.", value=raw[:40]))
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadArgument(_("Datoen »%(value)s« findes ikke.", value=raw)) from None


def _year_arg(years: list[int]) -> int | None:
    raw = request.args.get("year", "").strip()
    if not raw:
        today = _now_local().year
        return today if today in years or not years else years[0]
    if not raw.isdigit() or not 1900 <= int(raw) <= 2200:
        raise BadArgument(_("Året »%(value)s« skal være et årstal, fx 2010.", value=raw[:40]))
    return int(raw)


@dataclass
class PartyRow:
    """One party's line in the body page's table."""

    letter: str
    name: str
    votes: int
    with_majority: int
    share: float | None
    remarks: int


def _party_figures(body: Body, start: date | None, end: date | None) -> dict[str, Any]:
    rows = [
        PartyRow(r.party.letter, r.party.name, r.votes, r.with_majority, r.share, r.remarks)
        for r in party_records(body, start, end)
    ]
    table_note = _("Tallene står i tabellen under diagrammerne.")
    majority_chart = bar_chart(
        [
            Bar(
                r.letter,
                (r.share or 0) * 100,
                f"{round((r.share or 0) * 100)} %" if r.share is not None else "–",
            )
            for r in rows
        ],
        title=_("Andel af afstemningerne, hvor partiet stemte med flertallet"),
        description=table_note,
        maximum=100,
        element_id="chart-majority",
    )
    remarks_chart = bar_chart(
        [Bar(r.letter, r.remarks, str(r.remarks)) for r in rows],
        title=_("Protokolbemærkninger pr. parti"),
        description=table_note,
        colour="#7a5300",
        element_id="chart-remarks",
    )
    return {"rows": rows, "majority_chart": majority_chart, "remarks_chart": remarks_chart}


@bp.get("/bodies/<int:body_id>")
@allow(PUBLIC)
def body(body_id: int) -> str:
    """Roles: everyone. A body's meetings in a year (`?year=`), and per party over a period
    (`?from=ÅÅÅÅ-MM-DD&to=ÅÅÅÅ-MM-DD`; without them the year shown) how often it voted
    with the majority and how many protocol remarks it filed, in published minutes."""
    body = db.session.scalar(
        sa.select(Body).where(Body.id == body_id).options(selectinload(Body.party_order))
    )
    if body is None:
        abort(404)
    starts = db.session.scalars(sa.select(Meeting.starts_at).where(Meeting.body_id == body.id))
    years = sorted({s.year for s in starts}, reverse=True)
    year = _year_arg(years)
    start, end = _date_arg("from"), _date_arg("to")
    if start is not None and end is not None and start > end:
        raise BadArgument(_("Perioden skal begynde før den slutter."))
    meetings = []
    if year is not None:
        meetings = db.session.scalars(
            sa.select(Meeting)
            .where(
                Meeting.body_id == body.id,
                Meeting.starts_at >= datetime(year, 1, 1),
                Meeting.starts_at < datetime(year + 1, 1, 1),
            )
            .order_by(Meeting.starts_at, Meeting.id)
        ).all()
    # The parties' figures cover the period asked for, else the year shown (all years at
    # once would cost seconds on a body with thousands of votes).
    period_start, period_end = start, end
    if start is None and end is None and year is not None:
        period_start, period_end = date(year, 1, 1), date(year, 12, 31)
    return render_template(
        "portal/body.html",
        body=body,
        years=years,
        year=year,
        meetings=meetings,
        start=start,
        end=end,
        period_start=period_start,
        period_end=period_end,
        **_party_figures(body, period_start, period_end),
    )


@bp.get("/bodies/<int:body_id>/meetings.ics")
@allow(PUBLIC)
def calendar(body_id: int) -> Response:
    """Roles: everyone. The body's meetings as an iCalendar feed (Europe/Copenhagen)."""
    body = db.get_or_404(Body, body_id)
    meetings = db.session.scalars(
        sa.select(Meeting).where(Meeting.body_id == body.id).order_by(Meeting.starts_at)
    ).all()
    data = meetings_calendar(
        body,
        meetings,
        domain=request.host.split(":")[0] or "protokol",
        meeting_url=lambda m: url_for("portal.meeting", meeting_id=m.id, _external=True),
        calendar_url=url_for("portal.calendar", body_id=body.id, _external=True),
    )
    response = Response(data, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="moeder-{body.id}.ics"'
    response.headers["Cache-Control"] = "public, no-cache"
    response.set_etag(hashlib.sha256(data).hexdigest())
    return response.make_conditional(request)


# --------------------------------------------------------------------------- a meeting


@dataclass
class Access:
    """What this request may see of a meeting."""

    agenda: bool
    minutes: bool
    #: The viewer works on the meeting and sees what is not yet public (UDKAST).
    is_draft: bool


def _access(meeting: Meeting) -> Access:
    staff = may_see_drafts(viewer(), meeting)
    agenda_public, minutes_public = is_agenda_public(meeting), are_minutes_public(meeting)
    return Access(
        agenda=agenda_public or staff,
        minutes=minutes_public or staff,
        is_draft=staff and not minutes_public,
    )


def final_result(item: AgendaItem, style: Style) -> str | None:
    """The item's final result sentence, as the minutes print it."""
    decision = getattr(item, "decision", None)
    if decision is None:
        return None
    return decision.result_text.strip() or style.final_results.get(decision.result_key) or None


@bp.get("/meetings/<int:meeting_id>")
@allow(PUBLIC)
@public_meeting_page
def meeting(meeting_id: int) -> str:
    """Roles: everyone. A meeting: its time and place; its agenda once published (closed
    items by number and title only); once the minutes are published, each item's
    decision and the PDFs."""
    meeting = db.session.scalar(
        sa.select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(
            selectinload(Meeting.body),
            selectinload(Meeting.items).options(
                selectinload(AgendaItem.attachments), selectinload(AgendaItem.decision)
            ),
        )
    )
    if meeting is None:
        abort(404)
    access = _access(meeting)
    results: dict[int, str | None] = {}
    if access.minutes:
        style = _style(meeting.body)
        results = {i.id: final_result(i, style) for i in meeting.items if not i.is_closed}
    return render_template(
        "portal/meeting.html",
        meeting=meeting,
        body=meeting.body,
        access=access,
        results=results,
        versions=published_minutes(meeting) if are_minutes_public(meeting) else [],
    )


# --------------------------------------------------------------------------- an item


@dataclass
class VoteFigure:
    """A motion's vote as the item page shows it."""

    motion: Motion
    label: str
    outcome: str | None
    diagram: Markup | None


OUTCOME_LABELS = {Outcome.ADOPTED: _l("Vedtaget"), Outcome.REJECTED: _l("Forkastet")}


def _vote_figures(
    item: AgendaItem,
    style: Style,
    seated: dict[int, SeatedMember],
    tallies: dict[int, Tally],
) -> list[VoteFigure]:
    """Each vote of the item with its seat diagram; `seated` and `tallies` the item's
    (`minutes.context.item_tallies`)."""
    figures = []
    for number, motion in enumerate(item.motions, start=1):
        vote: Vote | None = getattr(motion, "vote", None)
        if vote is None:
            continue
        result = tallies[vote.id]
        context = motion_context(motion, seated, style, counted=result)
        label = _(
            "Forslag %(number)s: %(kind)s fra %(proposer)s",
            number=number,
            kind=context["kind_label"],
            proposer=context["proposer"]["label"],
        )
        outcome = str(OUTCOME_LABELS[result.outcome]) if result.outcome else None
        diagram = None
        if not vote.is_without_vote:
            diagram = seat_diagram(
                result,
                title=label,
                caption=f"{label}. {outcome}." if outcome else label,
                element_id=f"afstemning-{motion.id}",
            )
        figures.append(VoteFigure(motion, label, outcome, diagram))
    return figures


@bp.get("/meetings/<int:meeting_id>/items/<int:item_number>")
@allow(PUBLIC)
@public_meeting_page
def item(meeting_id: int, item_number: int) -> str:
    """Roles: everyone once the agenda is published. An item: its recommendation, case
    text and attachments; once the minutes are published, its decision with each vote
    drawn as a seat diagram. A closed item shows its number and title only."""
    item = db.session.scalar(
        sa.select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting_id, AgendaItem.number == item_number)
        .options(
            # Many-to-one and one-to-one joined, collections one statement each.
            joinedload(AgendaItem.meeting).options(
                joinedload(Meeting.body),
                selectinload(Meeting.attendance),
                selectinload(Meeting.items),
            ),
            selectinload(AgendaItem.clauses),
            selectinload(AgendaItem.sections),
            selectinload(AgendaItem.attachments),
            selectinload(AgendaItem.signatories),
            selectinload(AgendaItem.attendance),
            joinedload(AgendaItem.decision),
            motions_with_votes(),
            selectinload(AgendaItem.remarks).options(
                joinedload(ProtocolRemark.party),
                joinedload(ProtocolRemark.member),
                selectinload(ProtocolRemark.co_parties).joinedload(RemarkCoParty.party),
            ),
        )
    )
    if item is None:
        abort(404)
    meeting = item.meeting
    access = _access(meeting)
    if not access.agenda:
        abort(404)
    show_minutes = access.minutes and not item.is_closed
    decision: DecisionText | None = None
    votes: list[VoteFigure] = []
    if show_minutes:
        load_seats(meeting.body, meeting.date)  # the seats of the day: all the tallies need
        style = _style(meeting.body)
        seated = seated_members(meeting.body, meeting.date)
        tallies = item_tallies(item, seated)
        decision = build_decision(item, style, seated=seated, tallies=tallies)
        votes = _vote_figures(item, style, seated, tallies)
    items = sorted(meeting.items, key=lambda i: i.position)
    index = items.index(item)
    return render_template(
        "portal/item.html",
        item=item,
        meeting=meeting,
        body=meeting.body,
        access=access,
        show_minutes=show_minutes,
        decision=decision,
        votes=votes,
        files=[a for a in item.attachments if a.sha256],
        previous=items[index - 1] if index > 0 else None,
        next=items[index + 1] if index + 1 < len(items) else None,
        frozen=frozen_item_minutes(meeting, item.number)
        if are_minutes_public(meeting) and not item.is_closed
        else None,
    )
