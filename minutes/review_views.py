"""The secretary's review of the members' protocol remarks: every remark of a meeting by
item, with what kommunestyrelsesloven § 13, stk. 2 says about it; accept ("optag
alligevel" over the warnings, which is recorded), return with a comment, correct the
typography (audited; the member is told), reorder; and the meeting's deadline for filing.

Each write follows the console's pattern: load or 404 → authorise → validate → service →
commit once → redirect; a domain error rolls back and shows the page again with a Danish
message and a 4xx status.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField
from wtforms.validators import Optional

from meetings.locking import RecordLocked, ensure_editable, is_locked
from meetings.models import Meeting
from minutes.context import build_decision
from minutes.lifecycle import STATE_LABELS
from minutes.models import Notification, ProtocolRemark, RemarkKind, RemarkStatus
from minutes.services import (
    RemarkError,
    accept_remark,
    edit_remark_typography,
    move_remark,
    remark_warnings,
    return_remark,
)
from minutes.styles import load_style
from protokol.accounts.models import Role, User
from protokol.auth import allow, require_body
from protokol.extensions import db

bp = Blueprint("review", __name__, url_prefix="/manage")

STAFF = (Role.ADMIN, Role.SECRETARY)

KIND_LABELS = {
    "party": _l("Partiets bemærkning"),
    "joint": _l("Fælles bemærkning"),
    "personal": _l("Personlig bemærkning"),
}
STATUS_LABELS = {
    "submitted": _l("Indsendt"),
    "accepted": _l("Optaget"),
    "returned": _l("Sendt retur"),
}


# --------------------------------------------------------------------------- forms


class LocalDateTimeField(DateTimeLocalField):
    """A datetime-local input (local wall-clock time) with a Danish error message."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_("Ugyldigt tidspunkt; brug formatet åååå-mm-dd tt:mm.")) from exc


class DeadlineForm(FlaskForm):
    deadline = LocalDateTimeField(_l("Frist for protokolbemærkninger"), validators=[Optional()])


# --------------------------------------------------------------------------- loading


def _meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.get_or_404(Meeting, meeting_id)
    require_body(meeting.body_id)
    return meeting


def _remark_or_404(remark_id: int) -> ProtocolRemark:
    remark = db.get_or_404(ProtocolRemark, remark_id)
    require_body(remark.item.meeting.body_id)
    return remark


# --------------------------------------------------------------------------- rendering


def _who(remark: ProtocolRemark) -> str:
    if remark.kind == RemarkKind.PERSONAL:
        return remark.member.name if remark.member else "—"
    letters = [remark.party.letter] if remark.party else []
    letters += [
        (
            cp.party.letter
            if cp.is_confirmed
            else _("%(party)s (ikke bekræftet)", party=cp.party.letter)
        )
        for cp in remark.co_parties
    ]
    return ", ".join(letters)


def review_context(meeting: Meeting, **extra: Any) -> dict[str, Any]:
    """Every remark of the meeting, grouped by item, with its warnings."""
    style = load_style(meeting.body.minutes_style, tuple(current_app.config["PROTOKOL_STYLE_DIRS"]))
    remarks = [r for item in meeting.items for r in item.remarks]
    user_ids = {r.filed_by_id for r in remarks} | {r.decided_by_id for r in remarks}
    user_ids.discard(None)
    users = (
        {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    items = []
    for item in meeting.items:
        rows = []
        for remark in sorted(item.remarks, key=lambda r: r.position):
            unconfirmed = [cp.party.letter for cp in remark.co_parties if not cp.is_confirmed]
            if remark.kind != RemarkKind.JOINT:
                unconfirmed = []
            warnings = remark_warnings(remark)
            filer = users.get(remark.filed_by_id)
            decider = users.get(remark.decided_by_id)
            rows.append(
                {
                    "remark": remark,
                    "who": _who(remark),
                    "kind_label": KIND_LABELS.get(remark.kind.value, remark.kind.value),
                    "status_label": STATUS_LABELS.get(remark.status.value, remark.status.value),
                    "filer": filer.label if filer else _("Sekretæren (på mødet)"),
                    "decider": decider.label if decider else None,
                    "warnings": warnings,
                    "unconfirmed": unconfirmed,
                    "needs_override": bool(warnings or unconfirmed),
                }
            )
        if rows:
            items.append({"item": item, "rows": rows, "preview": build_decision(item, style)})
    deadline_form = extra.pop("deadline_form", None) or DeadlineForm(
        formdata=None, data={"deadline": meeting.remarks_deadline_at}
    )
    context = {
        "meeting": meeting,
        "items": items,
        "submitted": sum(1 for r in remarks if r.status == RemarkStatus.SUBMITTED),
        "state_label": STATE_LABELS.get(meeting.state, str(meeting.state)),
        "is_locked": is_locked(meeting),
        "deadline_form": deadline_form,
        "error": None,
        "draft": {},
    }
    context.update(extra)
    return context


def _render(meeting: Meeting, status: int = 200, **extra: Any):
    return render_template("review/remarks.html", **review_context(meeting, **extra)), status


def _refuse(meeting_id: int, message: str, status: int, **extra: Any):
    """Roll back and show the page with `message` (the state as saved)."""
    db.session.rollback()
    db.session.expire_all()
    return _render(db.session.get(Meeting, meeting_id), status, error=message, **extra)


def _link_notifications(remark: ProtocolRemark) -> None:
    """Point the messages this change sends the member at their meeting page."""
    link = url_for(
        "member.meeting", meeting_id=remark.item.meeting_id, _anchor=f"remark-{remark.id}"
    )
    for obj in db.session.new:
        if isinstance(obj, Notification) and not obj.link:
            obj.link = link


def _write(remark: ProtocolRemark, action: Callable[[], Any], done: str, **draft: Any):
    """Run one write on `remark`; commit once; on a domain error roll back and refuse."""
    meeting_id = remark.item.meeting_id
    remark_id = remark.id
    try:
        action()
        _link_notifications(remark)
        db.session.flush()
        db.session.commit()
    except RecordLocked as exc:
        return _refuse(meeting_id, str(exc), 409)
    except RemarkError as exc:
        return _refuse(meeting_id, str(exc), 400, draft={"remark_id": remark_id, **draft})
    flash(done, "info")
    return redirect(
        url_for(".remarks", meeting_id=meeting_id, _anchor=f"remark-{remark_id}"), code=303
    )


# --------------------------------------------------------------------------- page


@bp.get("/meetings/<int:meeting_id>/remarks")
@allow(*STAFF)
def remarks(meeting_id: int):
    """Roles: admin, the body's secretaries. Every remark of the meeting by item, with
    status, filer and § 13 warnings, and the controls to decide on them."""
    return _render(_meeting_or_404(meeting_id))


@bp.post("/meetings/<int:meeting_id>/remarks/deadline")
@allow(*STAFF)
def set_deadline(meeting_id: int):
    """Roles: admin, the body's secretaries. Set (or clear) the deadline after which
    members can no longer file remarks."""
    meeting = _meeting_or_404(meeting_id)
    form = DeadlineForm()
    if not form.validate():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return _render(meeting, 400, deadline_form=form, error=message)
    deadline: datetime | None = form.deadline.data
    if deadline is not None and deadline < meeting.starts_at:
        form.deadline.errors = [_("Fristen kan ikke ligge før mødets start.")]
        return _render(meeting, 400, deadline_form=form, error=form.deadline.errors[0])
    try:
        ensure_editable(meeting)
        meeting.remarks_deadline_at = deadline
        db.session.flush()
        db.session.commit()
    except RecordLocked as exc:
        return _refuse(meeting_id, str(exc), 409)
    flash(_("Fristen er gemt.") if deadline else _("Fristen er fjernet."), "info")
    return redirect(url_for(".remarks", meeting_id=meeting_id), code=303)


# --------------------------------------------------------------------------- decisions


@bp.post("/remarks/<int:remark_id>/accept")
@allow(*STAFF)
def accept(remark_id: int):
    """Roles: admin, the body's secretaries. Accept a remark into the minutes; with
    warnings only when "optag alligevel" is ticked (recorded with the remark)."""
    remark = _remark_or_404(remark_id)
    override = request.form.get("override") == "yes"
    return _write(
        remark,
        lambda: accept_remark(remark, actor=current_user, override=override),
        _("Bemærkningen er optaget i protokollen."),
    )


@bp.post("/remarks/<int:remark_id>/return")
@allow(*STAFF)
def send_back(remark_id: int):
    """Roles: admin, the body's secretaries. Return a remark to the member with a comment."""
    remark = _remark_or_404(remark_id)
    comment = request.form.get("comment", "")
    return _write(
        remark,
        lambda: return_remark(remark, comment, actor=current_user),
        _("Bemærkningen er sendt retur til medlemmet."),
        comment=comment,
    )


@bp.post("/remarks/<int:remark_id>/typography")
@allow(*STAFF)
def typography(remark_id: int):
    """Roles: admin, the body's secretaries. Correct a remark's typography only (the change
    is audited, and the member who filed it is told)."""
    remark = _remark_or_404(remark_id)
    text = request.form.get("text", "")
    return _write(
        remark,
        lambda: edit_remark_typography(remark, text, actor=current_user),
        _("Rettelsen er gemt, og medlemmet har fået besked."),
        text=text,
    )


@bp.post("/remarks/<int:remark_id>/move")
@allow(*STAFF)
def move(remark_id: int):
    """Roles: admin, the body's secretaries. Move a remark up or down in the minutes."""
    remark = _remark_or_404(remark_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        return _refuse(remark.item.meeting_id, _("Vælg at flytte bemærkningen op eller ned."), 400)
    offset = -1 if direction == "up" else 1
    return _write(
        remark, lambda: move_remark(remark, offset, actor=current_user), _("Rækkefølgen er gemt.")
    )
