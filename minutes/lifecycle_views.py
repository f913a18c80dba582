"""The minutes' lifecycle in the app: the secretary's page that moves a meeting forward
(planned → in session → closed → minutes approved → published) with what each step
requires and what is still missing, the corrections (addenda) to approved minutes and
the published versions; and the members' approval of the minutes (or a reservation).

Every write follows the console's pattern: load or 404 → authorise → validate → service
→ commit once → redirect. A step that cannot be taken now rolls back and shows the page
again with a Danish message and a 4xx status (409 when the meeting's state or the record
forbids it, 400 for bad input), never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from meetings.forms import clean_text
from meetings.locking import RecordLocked
from meetings.models import AgendaItem, ApprovalRule, Meeting, MeetingState, Member
from meetings.services import present_for_item, present_for_meeting
from minutes.context import ItemMinutes, MeetingMinutes, build_minutes
from minutes.lifecycle import (
    NEXT_STATE,
    STATE_LABELS,
    ApprovalStatus,
    LifecycleError,
    add_correction,
    approval_status,
    approve_minutes,
    attending_members,
    close_approval,
    close_meeting,
    corrections,
    open_votes,
    publish,
    published_versions,
    start_meeting,
    undecided_remarks,
)
from minutes.models import AppendOnlyError, MinutesApproval
from minutes.signing import SigningKeyError
from minutes.styles import StyleError
from minutes.views import render_frozen_item_pdf, render_frozen_pdf
from protokol.accounts.models import Role
from protokol.audit import AuditEntry
from protokol.auth import allow, require_body
from protokol.extensions import db
from protokol.forms import RadioField, SelectField, as_choices
from protokol.resubmit import once

bp = Blueprint("lifecycle", __name__, url_prefix="/manage")

STAFF = (Role.ADMIN, Role.SECRETARY)

RULE_LABELS = {
    ApprovalRule.ALL_ATTENDING: _l(
        "alle medlemmer, der deltog i mødet, godkender (eller tager forbehold)"
    ),
    ApprovalRule.CHAIR_AND_SECRETARY: _l(
        "formanden godkender (var formanden fraværende, næstformanden), og sekretæren lukker"
        " godkendelsen"
    ),
}
CONFLICT = _l(
    "Mødet blev ændret et andet sted samtidig. Siden viser nu den aktuelle status;"
    " kontrollér den, og prøv igen."
)


# --------------------------------------------------------------------------- forms


class StepForm(FlaskForm):
    """A step in the lifecycle is taken only when the secretary ticks the box."""

    confirm = BooleanField(
        _l("Jeg bekræfter"),
        validators=[DataRequired(_l("Sæt kryds for at bekræfte, at trinnet skal udføres."))],
    )


class CorrectionForm(FlaskForm):
    """A correction (addendum) to approved minutes."""

    item = SelectField(_l("Rettelsen gælder"), choices=[])
    what = TextAreaField(
        _l("Hvad rettes"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Beskriv rettelsen.")),
            Length(max=20_000, message=_l("Højst 20.000 tegn.")),
        ],
        render_kw={"rows": 5},
    )
    why = TextAreaField(
        _l("Begrundelse"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Begrund rettelsen.")),
            Length(max=5_000, message=_l("Højst 5.000 tegn.")),
        ],
        render_kw={"rows": 3},
    )
    confirm = BooleanField(
        _l("Jeg bekræfter, at rettelsen skal tilføjes; den kan ikke ændres eller slettes bagefter"),
        validators=[DataRequired(_l("Sæt kryds for at bekræfte, at rettelsen skal tilføjes."))],
    )

    def __init__(self, *args: Any, items: list[AgendaItem] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.item.choices = as_choices(
            [("", _l("Protokollen som helhed"))]
            + [
                (i.id, _shorten(_("Punkt %(number)s. %(title)s", number=i.number, title=i.title)))
                for i in items
            ]
        )


APPROVAL_CHOICES = [
    ("approved", _l("Jeg godkender protokollen")),
    ("reservation", _l("Jeg godkender protokollen med forbehold")),
]


class ApprovalForm(FlaskForm):
    """A member approves the minutes, or approves them with a reservation (forbehold)."""

    decision = RadioField(_l("Min godkendelse"), choices=APPROVAL_CHOICES, default="approved")
    reservation = TextAreaField(
        _l("Forbehold"),
        filters=[clean_text],
        validators=[Length(max=5_000, message=_l("Højst 5.000 tegn."))],
        render_kw={"rows": 4},
    )

    def validate_reservation(self, field) -> None:
        if self.decision.data == "reservation" and not field.data:
            raise ValidationError(_l("Skriv dit forbehold."))


def _shorten(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _form_errors(form: FlaskForm) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# --------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class Step:
    """The step that moves a meeting out of a state."""

    endpoint: str
    button: str
    confirm: str
    requires: tuple[str, ...]
    done: str


STEPS = {
    MeetingState.PLANNED: Step(
        "lifecycle.start",
        _l("Start mødet"),
        _l("Jeg bekræfter, at mødet er begyndt"),
        (),
        _l("Mødet er i gang."),
    ),
    MeetingState.IN_SESSION: Step(
        "lifecycle.close",
        _l("Afslut mødet"),
        _l("Jeg bekræfter, at mødet er slut"),
        (_l("Alle afstemninger er afsluttet."),),
        _l("Mødet er afsluttet. Medlemmerne, der deltog, kan nu godkende protokollen."),
    ),
    MeetingState.CLOSED: Step(
        "lifecycle.close_approval",
        _l("Luk godkendelsen"),
        _l("Jeg bekræfter, at godkendelsen skal lukkes; derefter er protokollen låst"),
        (
            _l("Alle afstemninger er afsluttet."),
            _l("Alle protokolbemærkninger er optaget eller sendt retur."),
            _l("Godkendelsesreglen er opfyldt."),
        ),
        _l("Protokollen er godkendt og låst. Rettelser kan herefter kun tilføjes som tillæg."),
    ),
    MeetingState.APPROVED: Step(
        "lifecycle.publish",
        _l("Offentliggør protokollen"),
        _l("Jeg bekræfter, at protokollen skal offentliggøres; PDF'en fryses og kan ikke ændres"),
        (_l("Protokollen er godkendt."),),
        _l("Protokollen er offentliggjort."),
    ),
}


@dataclass
class Blocker:
    """Something that keeps the next step from being taken, with where to fix it."""

    text: str
    link: str | None = None


def _review_url(meeting: Meeting) -> str | None:
    """Where the secretary decides the members' remarks, when that screen is installed."""
    if "review.remarks" not in current_app.view_functions:
        return None
    return url_for("review.remarks", meeting_id=meeting.id)


def _blockers(meeting: Meeting, status: ApprovalStatus | None) -> list[Blocker]:
    """What is missing before the meeting can move to its next state."""
    if meeting.state not in (MeetingState.IN_SESSION, MeetingState.CLOSED):
        return []
    found: list[Blocker] = []
    review = _review_url(meeting)
    for vote in open_votes(meeting):
        item = vote.motion.item
        found.append(
            Blocker(
                _(
                    "Åben afstemning: punkt %(number)s, forslag %(motion)s.",
                    number=item.number,
                    motion=vote.motion.position + 1,
                ),
                url_for("console.item", item_id=item.id, _anchor=f"motion-{vote.motion_id}"),
            )
        )
    if meeting.state == MeetingState.CLOSED:
        for remark in undecided_remarks(meeting):
            who = (
                remark.party.letter
                if remark.party
                else (remark.member.name if remark.member else _("ukendt"))
            )
            found.append(
                Blocker(
                    _(
                        "Protokolbemærkning fra %(who)s til punkt %(number)s venter på"
                        " afgørelse (optag eller send retur).",
                        who=who,
                        number=remark.item.number,
                    ),
                    f"{review}#remark-{remark.id}" if review else None,
                )
            )
        if status is not None:
            if not status.required:
                found.append(
                    Blocker(
                        _(
                            "Ingen kan godkende: hverken formanden eller næstformanden er"
                            " registreret som deltager."
                        )
                        if status.rule == ApprovalRule.CHAIR_AND_SECRETARY
                        else _("Ingen kan godkende: der er ikke registreret nogen deltagere."),
                        url_for("meetings.attendance", meeting_id=meeting.id),
                    )
                )
            for member in status.missing:
                found.append(Blocker(_("Godkendelse mangler fra %(name)s.", name=member.name)))
    return found


def _stale_approvals(meeting: Meeting, approvals: list[MinutesApproval]) -> set[int]:
    """The approvals given before the record last changed (member ids): the member
    approved an earlier wording and may want to look again."""
    if meeting.state != MeetingState.CLOSED or not approvals:
        return set()
    earliest = min(a.created_at for a in approvals)
    changes = [
        e.created_at
        for e in db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.meeting_id == meeting.id, AuditEntry.created_at > earliest)
            .order_by(AuditEntry.id)
            .limit(5000)
        )
        # The meeting's own state moving forward changes no wording.
        if not (e.entity == "meetings" and set(e.after or {}) <= {"state", "ends_at"})
    ]
    if not changes:
        return set()
    last = max(changes)
    return {a.member_id for a in approvals if a.created_at < last}


def _history(meeting: Meeting) -> list[dict[str, Any]]:
    """The meeting's moves from state to state: who, when, from and to."""
    entries = db.session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.entity == "meetings", AuditEntry.entity_id == meeting.id)
        .order_by(AuditEntry.id)
        .limit(1000)
    )
    rows = []
    for entry in entries:
        after = entry.after or {}
        if "state" not in after:
            continue
        before = (entry.before or {}).get("state")
        rows.append(
            {
                "at": entry.created_at,
                "who": entry.actor_label,
                "from": STATE_LABELS.get(MeetingState(before)) if before else _("(oprettet)"),
                "to": STATE_LABELS.get(MeetingState(after["state"]), after["state"]),
            }
        )
    return rows


def _approval_rows(meeting: Meeting, status: ApprovalStatus) -> list[dict[str, Any]]:
    """Each member who attended (and anyone else who approved), with their approval."""
    by_member = {a.member_id: a for a in status.approvals}
    required = {m.id for m in status.required}
    present = present_for_meeting(meeting)
    members: list[Member] = attending_members(meeting)
    members += [a.member for a in status.approvals if a.member_id not in present]
    return [
        {
            "member": m,
            "label": present[m.id].label if m.id in present else m.name,
            "required": m.id in required,
            "approval": by_member.get(m.id),
        }
        for m in members
    ]


# --------------------------------------------------------------------------- the page


def _meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.get_or_404(Meeting, meeting_id)
    require_body(meeting.body_id)
    return meeting


def _lock_row(meeting: Meeting) -> None:
    """Take the meeting's row for this transaction (PostgreSQL), so that two secretaries
    taking the same step at once are served one after the other; the second then sees
    the new state and is refused with a message."""
    db.session.execute(
        sa.select(Meeting.id).where(Meeting.id == meeting.id).with_for_update(key_share=True)
    )
    db.session.refresh(meeting)  # what the transaction that held the row saved


def overview_context(meeting: Meeting, **extra: Any) -> dict[str, Any]:
    """Everything the lifecycle page shows."""
    state = meeting.state
    status = approval_status(meeting) if state != MeetingState.PLANNED else None
    blockers = _blockers(meeting, status)
    step = STEPS.get(state)
    locked = state in (MeetingState.APPROVED, MeetingState.PUBLISHED)
    items = sorted(meeting.items, key=lambda i: i.position)
    step_form = extra.pop("step_form", None) or StepForm(formdata=None, prefix="step")
    if step is not None:
        step_form.confirm.label.text = step.confirm
    context = {
        "meeting": meeting,
        "body": meeting.body,
        "state": state,
        "states": [(s, label, s == state) for s, label in STATE_LABELS.items()],
        "state_label": STATE_LABELS[state],
        "next_label": STATE_LABELS.get(NEXT_STATE.get(state)) if state in NEXT_STATE else None,
        "step": step,
        "blockers": blockers,
        "ready": step is not None and not blockers,
        "rule_label": RULE_LABELS.get(meeting.body.approval_rule, ""),
        "status": status,
        "approval_rows": _approval_rows(meeting, status)
        if status is not None and state != MeetingState.IN_SESSION
        else [],
        "stale": _stale_approvals(meeting, status.approvals) if status else set(),
        "locked": locked,
        "corrections": corrections(meeting),
        "versions": published_versions(meeting),
        "history": _history(meeting),
        "items_by_id": {i.id: i for i in items},
        "step_form": step_form,
        "review_url": _review_url(meeting),
        "correction_form": extra.pop("correction_form", None)
        or CorrectionForm(formdata=None, prefix="correction", items=items),
        "error": None,
    }
    context.update(extra)
    return context


def _render(meeting: Meeting, status: int = 200, **extra: Any):
    return render_template("lifecycle/overview.html", **overview_context(meeting, **extra)), status


def _refuse(meeting_id: int, message: str, status: int, **extra: Any):
    """Roll back and show the page with `message` and the state as saved."""
    db.session.rollback()
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    return _render(meeting, status, error=message, **extra)


def _write(meeting_id: int, action, done: str, anchor: str | None = None, **extra: Any):
    """Run one step; commit once; refuse with a clear message and a 4xx on any domain
    error (nothing is half-saved)."""
    try:
        action()
        db.session.flush()
        db.session.commit()
    except (LifecycleError, RecordLocked, AppendOnlyError) as exc:
        return _refuse(meeting_id, str(exc), 409, **extra)
    except sa.exc.IntegrityError:
        return _refuse(meeting_id, CONFLICT, 409, **extra)
    except StyleError as exc:
        return _refuse(
            meeting_id,
            _(
                "Protokollen kan ikke dannes, fordi protokolstilen ikke kan bruges: %(error)s",
                error=exc,
            ),
            503,
            **extra,
        )
    except SigningKeyError as exc:
        current_app.logger.error(
            "meeting %s: the minutes PDF cannot be signed: %s", meeting_id, exc
        )
        return _refuse(
            meeting_id,
            _(
                "Protokollens PDF kunne ikke signeres, fordi signeringsnøglen ikke kan bruges."
                " Intet er ændret; kontakt driften."
            ),
            503,
            **extra,
        )
    except OSError as exc:
        current_app.logger.error(
            "meeting %s: the minutes PDF cannot be stored: %s", meeting_id, exc
        )
        return _refuse(
            meeting_id,
            _(
                "Protokollens PDF kunne ikke gemmes. Intet er ændret;"
                " prøv igen, eller kontakt driften."
            ),
            503,
            **extra,
        )
    flash(str(done), "info")
    return redirect(url_for(".overview", meeting_id=meeting_id, _anchor=anchor), code=303)


@bp.get("/meetings/<int:meeting_id>/lifecycle")
@allow(*STAFF)
def overview(meeting_id: int):
    """Roles: admin, the body's secretaries. The meeting's state, the next step with what
    it requires and what is missing, the approvals, corrections and published versions."""
    return _render(_meeting_or_404(meeting_id))


def _step(meeting_id: int, state: MeetingState, service) -> Any:
    meeting = _meeting_or_404(meeting_id)
    form = StepForm(prefix="step")
    if not form.validate():
        return _render(meeting, 400, step_form=form, error=_form_errors(form))
    _lock_row(meeting)
    return _write(meeting.id, lambda: service(meeting), STEPS[state].done)


@bp.post("/meetings/<int:meeting_id>/lifecycle/start")
@allow(*STAFF)
def start(meeting_id: int):
    """Roles: admin, the body's secretaries. Planned → in session."""
    return _step(meeting_id, MeetingState.PLANNED, lambda m: start_meeting(m, actor=current_user))


@bp.post("/meetings/<int:meeting_id>/lifecycle/close")
@allow(*STAFF)
def close(meeting_id: int):
    """Roles: admin, the body's secretaries. In session → closed (no open vote)."""
    return _step(
        meeting_id, MeetingState.IN_SESSION, lambda m: close_meeting(m, actor=current_user)
    )


@bp.post("/meetings/<int:meeting_id>/lifecycle/close-approval", endpoint="close_approval")
@allow(*STAFF)
def close_approval_step(meeting_id: int):
    """Roles: admin, the body's secretaries. Closed → minutes approved (no open vote,
    every remark decided, the body's approval rule met); the record is then locked."""
    return _step(meeting_id, MeetingState.CLOSED, lambda m: close_approval(m, actor=current_user))


def _publish(meeting: Meeting) -> None:
    publish(
        meeting,
        actor=current_user,
        minutes_dir=current_app.config["MINUTES_DIR"],
        render_pdf=render_frozen_pdf,
        render_item_pdf=render_frozen_item_pdf,
        style_dirs=tuple(current_app.config["PROTOKOL_STYLE_DIRS"]),
    )


@bp.post("/meetings/<int:meeting_id>/lifecycle/publish", endpoint="publish")
@allow(*STAFF)
def publish_step(meeting_id: int):
    """Roles: admin, the body's secretaries. Minutes approved → published: the public
    minutes PDF, and each item's, is rendered once and frozen (stored by its SHA-256)."""
    return _step(meeting_id, MeetingState.APPROVED, _publish)


# --------------------------------------------------------------------------- corrections


@bp.post("/meetings/<int:meeting_id>/corrections")
@allow(*STAFF)
@once
def add_correction_view(meeting_id: int):
    """Roles: admin, the body's secretaries. Append a correction (addendum) to approved
    minutes: to one item or to the minutes as a whole; published minutes get a new
    frozen version, and the earlier ones stay available."""
    meeting = _meeting_or_404(meeting_id)
    items = sorted(meeting.items, key=lambda i: i.position)
    form = CorrectionForm(prefix="correction", items=items)
    if not form.validate():
        return _render(meeting, 400, correction_form=form, error=_form_errors(form))
    item = next((i for i in items if str(i.id) == form.item.data), None)
    _lock_row(meeting)
    was_published = meeting.state == MeetingState.PUBLISHED

    def action() -> None:
        add_correction(
            meeting,
            form.what.data,
            form.why.data,
            actor=current_user,
            item=item,
            minutes_dir=current_app.config["MINUTES_DIR"],
            render_pdf=render_frozen_pdf,
            render_item_pdf=render_frozen_item_pdf,
            style_dirs=tuple(current_app.config["PROTOKOL_STYLE_DIRS"]),
        )

    if was_published:
        done = _(
            "Rettelsen er tilføjet. En ny udgave af den offentliggjorte protokol er gemt; de"
            " tidligere kan stadig hentes."
        )
    else:
        done = _("Rettelsen er tilføjet.")
    return _write(meeting.id, action, done, "rettelser", correction_form=form)


# --------------------------------------------------------------------------- members


def _member() -> Member:
    member = current_user.member
    if member is None:
        abort(403)
    return member


def _attending_or_403(meeting_id: int) -> tuple[Meeting, Member]:
    """The meeting and the logged-in member, who must have attended it."""
    meeting = db.get_or_404(Meeting, meeting_id)
    member = _member()
    if member.id not in present_for_meeting(meeting):
        abort(403)
    return meeting, member


def _minutes_for(meeting: Meeting, member: Member) -> MeetingMinutes:
    """The minutes as the member approves them: closed items (lukkede punkter) in full
    where the member took part, by number and title only where they did not."""
    minutes = build_minutes(
        meeting, is_public=False, style_dirs=tuple(current_app.config["PROTOKOL_STYLE_DIRS"])
    )
    minutes.items = [
        entry
        if not entry.item.is_closed or member.id in present_for_item(entry.item)
        else ItemMinutes(entry.item, True, None, [])
        for entry in minutes.items
    ]
    return minutes


def _render_approve(meeting: Meeting, member: Member, status: int = 200, **extra: Any):
    approvals = approval_status(meeting)
    mine = next((a for a in approvals.approvals if a.member_id == member.id), None)
    form = extra.pop("form", None)
    if form is None:
        form = ApprovalForm(
            formdata=None,
            data={
                "decision": "reservation" if mine is not None and mine.reservation else "approved",
                "reservation": mine.reservation if mine is not None else "",
            },
        )
    context = {
        "meeting": meeting,
        "member": member,
        "state_label": STATE_LABELS[meeting.state],
        "is_open": meeting.state == MeetingState.CLOSED,
        "mine": mine,
        "status": approvals,
        "is_required": any(m.id == member.id for m in approvals.required),
        "minutes": _minutes_for(meeting, member),
        "form": form,
        "error": None,
    }
    context.update(extra)
    return render_template("lifecycle/approve.html", **context), status


@bp.get("/approvals")
@allow(Role.MEMBER)
def my_approvals():
    """Roles: member. The meetings I attended whose minutes wait for approval, and the
    ones I have approved lately."""
    member = _member()
    meetings = db.session.scalars(
        sa.select(Meeting)
        .where(
            Meeting.attendance.any(member_id=member.id, is_present=True),
            Meeting.state.in_([MeetingState.CLOSED, MeetingState.APPROVED, MeetingState.PUBLISHED]),
        )
        .order_by(Meeting.starts_at.desc())
        .limit(100)
    ).all()
    mine = {
        a.meeting_id: a
        for a in db.session.scalars(
            sa.select(MinutesApproval).where(
                MinutesApproval.member_id == member.id,
                MinutesApproval.meeting_id.in_([m.id for m in meetings]),
            )
        )
    }
    rows = [
        {"meeting": m, "approval": mine.get(m.id), "state_label": STATE_LABELS[m.state]}
        for m in meetings
        if member.id in present_for_meeting(m)
    ]
    return render_template(
        "lifecycle/approvals.html",
        member=member,
        waiting=[r for r in rows if r["meeting"].state == MeetingState.CLOSED],
        done=[r for r in rows if r["meeting"].state != MeetingState.CLOSED][:20],
    )


@bp.get("/meetings/<int:meeting_id>/approve")
@allow(Role.MEMBER)
def approve(meeting_id: int):
    """Roles: member who attended the meeting. Read the minutes and approve them, or
    approve them with a reservation (forbehold)."""
    meeting, member = _attending_or_403(meeting_id)
    return _render_approve(meeting, member)


@bp.post("/meetings/<int:meeting_id>/approve")
@allow(Role.MEMBER)
def submit_approval(meeting_id: int):
    """Roles: member who attended the meeting. Record my approval or reservation."""
    meeting, member = _attending_or_403(meeting_id)
    form = ApprovalForm()
    if not form.validate():
        return _render_approve(meeting, member, 400, form=form, error=_form_errors(form))
    reservation = form.reservation.data if form.decision.data == "reservation" else ""
    _lock_row(meeting)
    try:
        approve_minutes(meeting, member, actor=current_user, reservation=reservation)
        db.session.commit()
    except (LifecycleError, RecordLocked) as exc:
        db.session.rollback()
        db.session.expire_all()
        return _render_approve(
            db.session.get(Meeting, meeting_id), member, 409, form=form, error=str(exc)
        )
    except sa.exc.IntegrityError:
        db.session.rollback()
        db.session.expire_all()
        return _render_approve(
            db.session.get(Meeting, meeting_id), member, 409, form=form, error=CONFLICT
        )
    flash(
        _("Din godkendelse med forbehold er registreret.")
        if reservation
        else _("Din godkendelse er registreret."),
        "info",
    )
    return redirect(url_for(".approve", meeting_id=meeting_id), code=303)
