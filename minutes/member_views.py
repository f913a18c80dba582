"""The members' pages: the meetings of the bodies where they hold a seat, the draft
decisions, and their protocol remarks (protokolbemærkninger).

A member files a remark on an item they attended, for their party, jointly with other
parties (each co-party's own member confirms before it counts) or personally, until the
meeting's deadline. The secretary then accepts or returns it (`minutes.review_views`).

Each write follows the console's pattern: load or 404 → authorise → validate → service →
commit once → redirect; a domain error rolls back and shows the page again with a Danish
message and a 4xx status.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from meetings.locking import LOCKED_STATES, RecordLocked, is_locked
from meetings.models import AgendaItem, Meeting, MeetingState, Member, Party, Seat
from meetings.services import present_for_item, seated_members, sort_parties
from minutes.context import build_decision
from minutes.forms import RemarkForm
from minutes.lifecycle import STATE_LABELS, utcnow_local
from minutes.models import (
    Notification,
    ProtocolRemark,
    RemarkCoParty,
    RemarkKind,
    RemarkStatus,
)
from minutes.services import (
    LAW_NOTE,
    RemarkError,
    confirm_co_party,
    file_remark,
    member_parties,
)
from minutes.styles import load_style
from protokol.accounts.models import Role, User
from protokol.auth import allow
from protokol.extensions import db
from protokol.forms import as_choices
from protokol.resubmit import once

bp = Blueprint("member", __name__, url_prefix="/member")

#: The kinds of remark as a member chooses them.
MEMBER_KIND_CHOICES = [
    ("party", _l("For mit parti")),
    ("joint", _l("Fælles med andre partier")),
    ("personal", _l("Personlig")),
]
KIND_LABELS = {
    "party": _l("Partiets bemærkning"),
    "joint": _l("Fælles bemærkning"),
    "personal": _l("Personlig bemærkning"),
}
STATUS_LABELS = {
    "submitted": _l("Indsendt – venter på sekretæren"),
    "accepted": _l("Optaget i protokollen"),
    "returned": _l("Sendt retur"),
}
#: States in which a meeting has been held, so that remarks can be filed.
HELD_STATES = (MeetingState.IN_SESSION, MeetingState.CLOSED)


# --------------------------------------------------------------------------- access


def _member() -> Member:
    """The logged-in member's Member record (every member user has one)."""
    member = current_user.member
    if member is None:
        abort(403)
    return member


def _today() -> date:
    return utcnow_local().date()


def _seated(member: Member, body_id: int, day: date) -> bool:
    return any(s.body_id == body_id and s.is_active_on(day) for s in member.seats)


def holds_seat(member: Member, meeting: Meeting) -> bool:
    """Whether the member holds a seat in the meeting's body: on the meeting's day (so a
    member who has since left can still follow up on it) or today."""
    return _seated(member, meeting.body_id, meeting.date) or _seated(
        member, meeting.body_id, _today()
    )


def may_see_item(member: Member, item: AgendaItem) -> bool:
    """Open items to every member who may see the meeting; closed items (lukkede punkter)
    only to those who hold a seat in the body."""
    return not item.is_closed or holds_seat(member, item.meeting)


def _meeting_or_403(meeting_id: int) -> tuple[Meeting, Member]:
    meeting = db.get_or_404(Meeting, meeting_id)
    member = _member()
    if not holds_seat(member, meeting):
        abort(403)
    return meeting, member


def _item_or_403(item_id: int) -> tuple[AgendaItem, Member]:
    item = db.get_or_404(AgendaItem, item_id)
    member = _member()
    if not holds_seat(member, item.meeting) or not may_see_item(member, item):
        abort(403)
    return item, member


# --------------------------------------------------------------------------- queries


def my_meetings(member: Member) -> list[Meeting]:
    """The meetings of the bodies where the member holds a seat, newest first."""
    body_ids = {s.body_id for s in member.seats}
    if not body_ids:
        return []
    meetings = db.session.scalars(
        sa.select(Meeting)
        .where(Meeting.body_id.in_(body_ids))
        .order_by(Meeting.starts_at.desc())
        .limit(200)
    ).all()
    return [m for m in meetings if holds_seat(member, m)]


def pending_confirmations(member: Member, meeting: Meeting | None = None) -> list[RemarkCoParty]:
    """Joint remarks that name the member's party and wait for its confirmation."""
    party_ids = {s.party_id for s in member.seats if s.party_id is not None}
    if not party_ids:
        return []
    query = (
        sa.select(RemarkCoParty)
        .join(ProtocolRemark, RemarkCoParty.remark_id == ProtocolRemark.id)
        .join(AgendaItem, ProtocolRemark.item_id == AgendaItem.id)
        .join(Meeting, AgendaItem.meeting_id == Meeting.id)
        .where(
            RemarkCoParty.is_confirmed.is_(False),
            RemarkCoParty.party_id.in_(party_ids),
            ProtocolRemark.status != RemarkStatus.RETURNED,
            Meeting.state.not_in(list(LOCKED_STATES)),
        )
        .order_by(Meeting.starts_at.desc(), AgendaItem.position, ProtocolRemark.position)
    )
    if meeting is not None:
        query = query.where(Meeting.id == meeting.id)
    result = []
    for entry in db.session.scalars(query):
        item = entry.remark.item
        mine = {p.id for p in member_parties(member, item.meeting.body_id, item.meeting.date)}
        if entry.party_id in mine and may_see_item(member, item):
            result.append(entry)
    return result


def unread_notifications(user: User) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id, Notification.is_read.is_(False))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(100)
        )
    )


def co_party_candidates(meeting: Meeting, member: Member) -> list[Party]:
    """The parties seated in the body on the meeting's day, other than the member's own,
    in the body's order."""
    own = {p.id for p in member_parties(member, meeting.body_id, meeting.date)}
    parties = {
        s.party.id: s.party
        for s in seated_members(meeting.body, meeting.date).values()
        if s.party is not None and s.party.id not in own
    }
    return sort_parties(meeting.body, list(parties.values()))


def deadline_passed(meeting: Meeting) -> bool:
    deadline = meeting.remarks_deadline_at
    return deadline is not None and utcnow_local() > deadline


def filing_closed_reason(meeting: Meeting) -> str | None:
    """Why no remark can be filed at the meeting now (None: they can)."""
    if is_locked(meeting):
        return _("Protokollen er godkendt; der kan ikke længere indgives bemærkninger.")
    if meeting.state not in HELD_STATES:
        return _("Der kan indgives bemærkninger, når mødet er holdt.")
    if deadline_passed(meeting):
        return _(
            "Fristen for protokolbemærkninger udløb %(when)s.",
            when=f"{meeting.remarks_deadline_at:%d.%m.%Y} {_('kl.')} "
            f"{meeting.remarks_deadline_at:%H.%M}",
        )
    return None


# --------------------------------------------------------------------------- forms


def remark_form(candidates: list[Party], independent: bool, **kwargs: Any) -> RemarkForm:
    """The filing form: the kind of remark, the co-parties of a joint remark, the text."""
    if "formdata" in kwargs and kwargs["formdata"] is None:
        kwargs.setdefault("data", {"kind": "personal" if independent else "party"})
    form = RemarkForm(parties=candidates, **kwargs)
    form.kind.choices = as_choices(MEMBER_KIND_CHOICES)
    return form


# --------------------------------------------------------------------------- rendering


def _display_remarks(remarks: list[ProtocolRemark]) -> list[dict[str, Any]]:
    return [
        {
            "remark": r,
            "kind_label": KIND_LABELS.get(r.kind.value, r.kind.value),
            "status_label": STATUS_LABELS.get(r.status.value, r.status.value),
        }
        for r in sorted(remarks, key=lambda r: r.position)
    ]


def meeting_context(
    meeting: Meeting,
    member: Member,
    *,
    forms: dict[int, RemarkForm] | None = None,
    error: str | None = None,
    error_item_id: int | None = None,
) -> dict[str, Any]:
    """Everything the member's meeting page shows."""
    forms = forms or {}
    style = load_style(meeting.body.minutes_style, tuple(current_app.config["PROTOKOL_STYLE_DIRS"]))
    parties = member_parties(member, meeting.body_id, meeting.date)
    independent = not parties
    candidates = co_party_candidates(meeting, member)
    closed_reason = filing_closed_reason(meeting)
    waiting = {entry.remark_id: entry for entry in pending_confirmations(member, meeting)}
    items = []
    for item in meeting.items:
        visible = may_see_item(member, item)
        attended = member.id in present_for_item(item)
        mine = [
            r
            for r in item.remarks
            if r.filed_by_id == current_user.id or (r.member_id == member.id)
        ]
        can_file = visible and attended and closed_reason is None
        items.append(
            {
                "item": item,
                "visible": visible,
                "decision": build_decision(item, style) if visible else None,
                "attended": attended,
                "remarks": _display_remarks(mine) if visible else [],
                "to_confirm": [waiting[r.id] for r in item.remarks if r.id in waiting]
                if visible
                else [],
                "form": (forms.get(item.id) or remark_form(candidates, independent, formdata=None))
                if can_file
                else None,
            }
        )
    return {
        "meeting": meeting,
        "member": member,
        "party": parties[0] if parties else None,
        "independent": independent,
        "items": items,
        "state_label": STATE_LABELS.get(meeting.state, str(meeting.state)),
        "closed_reason": closed_reason,
        "law_note": _(LAW_NOTE),
        "error": error,
        "error_item_id": error_item_id,
        #: The error is shown in the item's form rather than at the top.
        "error_in_form": any(e["item"].id == error_item_id and e["form"] for e in items),
    }


def _render_meeting(meeting: Meeting, member: Member, status: int = 200, **extra: Any):
    context = meeting_context(meeting, member, **extra)
    return render_template("member/meeting.html", **context), status


def _render_index(member: Member, status: int = 200, error: str | None = None):
    meetings = my_meetings(member)
    return render_template(
        "member/index.html",
        member=member,
        meetings=meetings,
        state_labels={m.id: STATE_LABELS.get(m.state, str(m.state)) for m in meetings},
        notifications=unread_notifications(current_user),
        confirmations=pending_confirmations(member),
        error=error,
    ), status


def _form_errors(form: RemarkForm) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _write(action: Callable[[], Any], refuse: Callable[[str, int], Any], done: Callable[[], Any]):
    """Run one write and commit once; on a domain error roll back and refuse (4xx)."""
    try:
        action()
        db.session.flush()
        db.session.commit()
    except RecordLocked as exc:
        db.session.rollback()
        return refuse(str(exc), 409)
    except RemarkError as exc:
        db.session.rollback()
        return refuse(str(exc), 400)
    return done()


# --------------------------------------------------------------------------- pages


@bp.get("/")
@allow(Role.MEMBER)
def index():
    """Roles: member. My meetings, unread messages, and joint remarks that wait for my
    party's confirmation."""
    return _render_index(_member())


@bp.get("/meetings/<int:meeting_id>")
@allow(Role.MEMBER)
def meeting(meeting_id: int):
    """Roles: member with a seat in the meeting's body. The items with their draft
    decisions, my remarks and their status, and a filing form per attended item."""
    meeting, member = _meeting_or_403(meeting_id)
    return _render_meeting(meeting, member)


# --------------------------------------------------------------------------- writes


def _ask_co_parties(remark: ProtocolRemark) -> None:
    """Tell the members of each co-party that their confirmation is asked."""
    meeting = remark.item.meeting
    if not remark.co_parties:
        return
    users = db.session.scalars(
        sa.select(User)
        .join(Seat, Seat.member_id == User.member_id)
        .where(
            User.is_active.is_(True),
            User.role == Role.MEMBER,
            Seat.body_id == meeting.body_id,
            Seat.party_id.in_([cp.party_id for cp in remark.co_parties]),
            Seat.starts_on <= meeting.date,
            sa.or_(Seat.ends_on.is_(None), Seat.ends_on >= meeting.date),
        )
        .distinct()
    ).all()
    sender = remark.party.letter if remark.party else (remark.member.name if remark.member else "")
    link = url_for("member.meeting", meeting_id=meeting.id, _anchor=f"item-{remark.item_id}")
    for user in users:
        if user.id == remark.filed_by_id:
            continue
        db.session.add(
            Notification(
                user_id=user.id,
                link=link,
                text=(
                    f"{sender} beder dit parti bekræfte en fælles protokolbemærkning til punkt"
                    f" {remark.item.number} ({meeting.body.name}, {meeting.date:%d.%m.%Y})."
                ),
            )
        )


@bp.post("/items/<int:item_id>/remarks")
@allow(Role.MEMBER)
@once
def file(item_id: int):
    """Roles: member who attended the item. File a protocol remark for the secretary."""
    item, member = _item_or_403(item_id)
    meeting = item.meeting
    candidates = co_party_candidates(meeting, member)
    independent = not member_parties(member, meeting.body_id, meeting.date)
    form = remark_form(candidates, independent)
    if not form.validate():
        return _render_meeting(
            meeting,
            member,
            400,
            forms={item.id: form},
            error=_form_errors(form),
            error_item_id=item.id,
        )
    by_id = {str(p.id): p for p in candidates}
    co_parties = [by_id[v] for v in form.co_parties.data or [] if v in by_id]

    def action() -> None:
        remark = file_remark(
            item,
            member,
            RemarkKind(form.kind.data),
            form.text.data or "",
            actor=current_user,
            co_parties=co_parties,
        )
        _ask_co_parties(remark)

    def refuse(message: str, status: int):
        fresh = db.session.get(AgendaItem, item_id)
        return _render_meeting(
            fresh.meeting,
            member,
            status,
            forms={item_id: form},
            error=message,
            error_item_id=item_id,
        )

    def done():
        flash(_("Din protokolbemærkning er sendt til sekretæren."), "info")
        return redirect(
            url_for(".meeting", meeting_id=meeting.id, _anchor=f"item-{item_id}"), code=303
        )

    return _write(action, refuse, done)


@bp.post("/remarks/<int:remark_id>/confirm")
@allow(Role.MEMBER)
def confirm(remark_id: int):
    """Roles: member of a co-party. Confirm that my party joins a joint remark."""
    remark = db.get_or_404(ProtocolRemark, remark_id)
    item = remark.item
    member = _member()
    if not holds_seat(member, item.meeting) or not may_see_item(member, item):
        abort(403)
    meeting_id = item.meeting_id
    back_to_meeting = request.form.get("back") == "meeting"

    def action() -> None:
        confirm_co_party(remark, member, actor=current_user)
        if remark.filed_by_id is not None and remark.filed_by_id != current_user.id:
            parties = ", ".join(
                p.letter for p in member_parties(member, item.meeting.body_id, item.meeting.date)
            )
            db.session.add(
                Notification(
                    user_id=remark.filed_by_id,
                    link=url_for(".meeting", meeting_id=meeting_id, _anchor=f"item-{item.id}"),
                    text=f"{parties} har bekræftet den fælles protokolbemærkning til punkt"
                    f" {item.number}.",
                )
            )

    def refuse(message: str, status: int):
        if back_to_meeting:
            return _render_meeting(
                db.session.get(Meeting, meeting_id), member, status, error=message
            )
        return _render_index(member, status, error=message)

    def done():
        flash(_("Dit partis tilslutning til bemærkningen er registreret."), "info")
        if back_to_meeting:
            return redirect(url_for(".meeting", meeting_id=meeting_id), code=303)
        return redirect(url_for(".index"), code=303)

    return _write(action, refuse, done)


@bp.post("/notifications/read")
@allow(Role.MEMBER)
def read_notifications():
    """Roles: member. Mark one of my messages (`notification_id`), or all, as read."""
    query = sa.update(Notification).where(
        Notification.user_id == current_user.id, Notification.is_read.is_(False)
    )
    raw = request.form.get("notification_id", "")
    if raw:
        if not raw.isdigit():
            abort(404)
        notification = db.get_or_404(Notification, int(raw))
        if notification.user_id != current_user.id:
            abort(404)
        query = query.where(Notification.id == notification.id)
    db.session.execute(query.values(is_read=True))
    db.session.commit()
    return redirect(url_for(".index"), code=303)
