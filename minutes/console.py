"""The live console: one page per agenda item where the secretary files motions, records
each party's vote with a click or a key, sets the result, and sees the decision section
exactly as the minutes will print it.

Every control is an ordinary form that posts one change (one transaction) and redirects
back, so the page works without JavaScript; `static/console.js` submits the same forms in
the background, swaps in the fresh page, and adds keyboard shortcuts. Reloading the page
always shows the state as saved.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from meetings.locking import RecordLocked, is_locked
from meetings.models import AgendaItem, Meeting, Member, Party
from meetings.services import SeatedMember, body_size, parties_present, present_for_item
from minutes.context import build_decision
from minutes.forms import RemarkForm
from minutes.models import ProtocolRemark, RemarkKind
from minutes.services import (
    RemarkError,
    add_remark,
    delete_remark,
    move_remark,
    update_remark_text,
)
from minutes.styles import StyleError, load_style
from motions.forms import KIND_LABELS, MotionForm
from motions.models import Motion, MotionKind
from motions.services import (
    MotionError,
    create_motion,
    delete_motion,
    move_motion,
    update_motion,
)
from protokol import idempotency
from protokol.accounts.models import Role
from protokol.audit import AuditEntry
from protokol.auth import allow, require_body
from protokol.extensions import db
from protokol.resubmit import once
from votes.forms import (
    BulkPositionForm,
    DecisionForm,
    MemberPositionForm,
    PositionForm,
    ResultForm,
    VersionedForm,
    WithoutVoteForm,
)
from votes.models import MemberPosition, Outcome, Position, ResultMode, Vote
from votes.services import (
    VoteConflict,
    VoteError,
    close_vote,
    open_vote,
    reopen_vote,
    set_decision,
    set_member_position,
    set_party_position,
    set_result_sentence,
    set_unrecorded_parties,
    set_without_vote,
    tally,
)

bp = Blueprint("console", __name__, url_prefix="/console")

STAFF = (Role.ADMIN, Role.SECRETARY)


# --------------------------------------------------------------------------- loading


def _item_or_404(item_id: int) -> AgendaItem:
    item = db.get_or_404(AgendaItem, item_id)
    require_body(item.meeting.body_id)
    return item


def _motion_or_404(motion_id: int) -> Motion:
    motion = db.get_or_404(Motion, motion_id)
    require_body(motion.item.meeting.body_id)
    return motion


@functools.cache
def _vote_query(*parts: str) -> sa.Select:
    """The vote with what every write to it reads (its motion, item and meeting) and the
    collections named in `parts`, in one query instead of one lazy load each; built once
    for each `parts` (its loader options and cache key are not made again per request)."""
    return (
        sa.select(Vote)
        .where(Vote.id == sa.bindparam("vote_id"))
        .options(
            joinedload(Vote.motion).joinedload(Motion.item).joinedload(AgendaItem.meeting),
            *(joinedload(getattr(Vote, part)) for part in parts),
        )
    )


def _vote_or_404(vote_id: int, *parts: str) -> Vote:
    """The vote, with the collections named in `parts` that the write reads
    ("party_votes", say) loaded with it."""
    result = db.session.execute(_vote_query(*parts), {"vote_id": vote_id})
    vote = result.unique().scalar_one_or_none()
    if vote is None:
        abort(404)
    require_body(vote.motion.item.meeting.body_id)
    return vote


def _style_dirs() -> tuple[str, ...]:
    return tuple(current_app.config["PROTOKOL_STYLE_DIRS"])


def proposer_choices(
    item: AgendaItem, present: dict[int, SeatedMember] | None = None
) -> list[tuple[str, str]]:
    """Members and parties present for the item, in the body's order."""
    present = present_for_item(item) if present is None else present
    parties = parties_present(item.meeting.body, present)
    rank = {p.id: i for i, p in enumerate(parties)}
    members = sorted(
        present.values(),
        key=lambda s: (rank.get(s.party.id, len(rank)) if s.party else len(rank), s.member.name),
    )
    choices = [(f"m:{s.member.id}", s.label) for s in members]
    choices += [(f"p:{p.id}", f"{p.letter} – {p.name}") for p in parties]
    return choices


def console_context(item: AgendaItem, **extra: Any) -> dict[str, Any]:
    """Everything the console page shows for `item`."""
    meeting: Meeting = item.meeting
    body = meeting.body
    present = present_for_item(item)
    size = body_size(body, meeting.date)
    parties = parties_present(body, present)
    by_party: dict[int, list] = {}
    independents = []
    for seated in sorted(present.values(), key=lambda s: s.member.name):
        if seated.party is None:
            independents.append(seated)
        else:
            by_party.setdefault(seated.party.id, []).append(seated)
    style_error = None
    try:
        style = load_style(body.minutes_style, _style_dirs())
        preview = build_decision(item, style)
        final_results = style.final_results
    except StyleError as exc:
        style, preview, final_results, style_error = None, None, {}, str(exc)
    motions = []
    for motion in item.motions:
        vote = getattr(motion, "vote", None)
        motions.append(
            {
                "motion": motion,
                "vote": vote,
                "tally": tally(vote, present=present, size=size) if vote is not None else None,
                "party_positions": {pv.party_id: pv.position.value for pv in vote.party_votes}
                if vote
                else {},
                "member_positions": {mv.member_id: mv.position.value for mv in vote.member_votes}
                if vote
                else {},
            }
        )
    decision = getattr(item, "decision", None)
    items = meeting.items
    index = items.index(item)
    context = {
        "item": item,
        "meeting": meeting,
        "body": body,
        "parties": parties,
        "by_party": by_party,
        "independents": independents,
        "present_count": len(present),
        "motions": motions,
        "preview": preview,
        "style": style,
        "style_error": style_error,
        "final_results": final_results,
        "decision": decision,
        "is_locked": is_locked(meeting),
        "previous_item": items[index - 1] if index > 0 else None,
        "next_item": items[index + 1] if index + 1 < len(items) else None,
        "motion_form": extra.pop("motion_form", None)
        or MotionForm(formdata=None, proposer_choices=proposer_choices(item, present)),
        "decision_form": extra.pop("decision_form", None)
        or DecisionForm(
            formdata=None,
            final_results=final_results,
            data={
                "result_key": decision.result_key if decision else "",
                "result_text": decision.result_text if decision else "",
            },
        ),
        "remark_form": extra.pop("remark_form", None)
        or RemarkForm(
            formdata=None,
            parties=parties,
            members=sorted(present.values(), key=lambda s: s.member.name),
        ),
        "remarks": sorted(item.remarks, key=lambda r: r.position),
        "error": None,
        "kind_labels": {k.value: v for k, v in KIND_LABELS.items()},
    }
    context.update(extra)
    return context


def _render(item: AgendaItem, status: int = 200, **extra: Any):
    return render_template("minutes/console.html", **console_context(item, **extra)), status


def _back(item_id: int, anchor: str | None = None):
    return redirect(url_for("console.item", item_id=item_id, _anchor=anchor), code=303)


def _refuse(item: AgendaItem, message: str, status: int, **extra: Any):
    """Roll back and show the console with `message` (the state as saved)."""
    db.session.rollback()
    db.session.expire_all()
    item = db.session.get(AgendaItem, item.id)
    return _render(item, status, error=message, **extra)


def _form_errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _write(item: AgendaItem, action, anchor: str | None = None, *, again: bool = True):
    """Run one write; commit once; refuse with a clear message and 4xx on any domain
    error (nothing is half-saved).

    A write that loses a race to insert the same row as another request (two secretaries
    opening one vote, or giving an item its first decision, at the same moment; a double
    click) breaks a unique constraint: it is rolled back and run once more on the state as
    saved, where it finds that row, as it would have a moment later.

    The form's submission key is stored first, in the same transaction
    (`idempotency.claim`): a form sent again after its write was saved (a retry after a
    lost answer, a double click) finds it and is shown the state as saved."""
    # Read before the commit, which expires the item: reading it after would load it again.
    item_id = item.id
    try:
        key = idempotency.checked_key(request.form.get(idempotency.FIELD))
    except idempotency.InvalidSubmissionKey:
        return _refuse(item, _l("Formularen er ugyldig. Genindlæs siden, og prøv igen."), 400)
    try:
        if key is not None and not idempotency.claim(key, current_user):
            # A retry of a saved write, or the same submission saved by a parallel
            # request meanwhile: show the state as saved.
            db.session.rollback()
            return _back(item_id, anchor)
        action()
        db.session.flush()
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        if not again:
            raise
        # Another request inserted the same row first: run it again on the saved state
        # (where the key, if that request was this one's twin, is found).
        return _write(item, action, anchor, again=False)
    except sa.exc.OperationalError:
        current_app.logger.exception("item %s: the write was not saved", item_id)
        return _refuse(
            item,
            _l(
                "Databasen kunne ikke gemme ændringen lige nu (forbindelsen blev afbrudt, eller"
                " den var optaget), og intet blev gemt. Prøv igen; det samme gemmes ikke to"
                " gange."
            ),
            503,
        )
    except VoteConflict as exc:
        return _refuse(item, str(exc), 409)
    except StaleDataError:
        return _refuse(
            item,
            _l(
                "Afstemningen blev ændret et andet sted samtidig. Siden viser nu den nyeste"
                " udgave; kontrollér den, og registrér igen."
            ),
            409,
        )
    except RecordLocked as exc:
        return _refuse(item, str(exc), 409)
    except (VoteError, MotionError, RemarkError) as exc:
        return _refuse(item, str(exc), 400)
    return _back(item_id, anchor)


# --------------------------------------------------------------------------- page


@bp.get("/items/<int:item_id>")
@allow(*STAFF)
def item(item_id: int):
    """Roles: admin, the body's secretaries. The live console for one agenda item."""
    return _render(_item_or_404(item_id))


# --------------------------------------------------------------------------- motions


def _proposer(form: MotionForm) -> dict[str, Any]:
    value = form.proposer.data or ""
    member = party = None
    name = ""
    if value.startswith("m:"):
        member = db.session.get(Member, int(value[2:]))
    elif value.startswith("p:"):
        party = db.session.get(Party, int(value[2:]))
    elif value == "o:":
        name = form.proposer_name.data or ""
    return {"proposer_member": member, "proposer_party": party, "proposer_name": name}


@bp.post("/items/<int:item_id>/motions")
@allow(*STAFF)
@once
def add_motion(item_id: int):
    """Roles: admin, the body's secretaries. File a motion (and open its vote)."""
    item = _item_or_404(item_id)
    form = MotionForm(proposer_choices=proposer_choices(item))
    if not form.validate():
        return _render(item, 400, motion_form=form, error=_form_errors(form))

    def action() -> None:
        motion = create_motion(
            item,
            MotionKind(form.kind.data),
            actor=current_user,
            text=form.text.data or "",
            **_proposer(form),
        )
        open_vote(motion, actor=current_user)

    return _write(item, action, "votes")


@bp.post("/motions/<int:motion_id>")
@allow(*STAFF)
def edit_motion(motion_id: int):
    """Roles: admin, the body's secretaries. Change a motion's kind, proposer or text."""
    motion = _motion_or_404(motion_id)
    item = motion.item
    form = MotionForm(proposer_choices=proposer_choices(item), prefix=f"m{motion.id}")
    if not form.validate():
        return _render(item, 400, error=_form_errors(form))
    return _write(
        item,
        lambda: update_motion(
            motion,
            actor=current_user,
            kind=MotionKind(form.kind.data),
            text=form.text.data or "",
            change_proposer=True,
            **_proposer(form),
        ),
        f"motion-{motion.id}",
    )


@bp.post("/motions/<int:motion_id>/move")
@allow(*STAFF)
def move(motion_id: int):
    """Roles: admin, the body's secretaries. Move a motion up or down."""
    motion = _motion_or_404(motion_id)
    offset = -1 if request.form.get("direction") == "up" else 1
    return _write(
        motion.item, lambda: move_motion(motion, offset, actor=current_user), f"motion-{motion.id}"
    )


@bp.post("/motions/<int:motion_id>/delete")
@allow(*STAFF)
def remove_motion(motion_id: int):
    """Roles: admin, the body's secretaries. Withdraw a motion and its vote."""
    motion = _motion_or_404(motion_id)
    if request.form.get("confirm") != "yes":
        return _render(motion.item, 400, error=_l("Bekræft, at forslaget skal slettes."))
    return _write(motion.item, lambda: delete_motion(motion, actor=current_user))


# --------------------------------------------------------------------------- votes


@bp.post("/motions/<int:motion_id>/vote")
@allow(*STAFF)
def start_vote(motion_id: int):
    """Roles: admin, the body's secretaries. Open the vote on a motion."""
    motion = _motion_or_404(motion_id)
    return _write(motion.item, lambda: open_vote(motion, actor=current_user), f"motion-{motion.id}")


def _versioned(vote: Vote, form_class, action):
    item = vote.motion.item
    form = form_class()
    if not form.validate():
        return _refuse(item, _form_errors(form), 400)
    return _write(item, lambda: action(form), f"motion-{vote.motion_id}")


@bp.post("/votes/<int:vote_id>/parties/<int:party_id>")
@allow(*STAFF)
def party_position(vote_id: int, party_id: int):
    """Roles: admin, the body's secretaries. Record how a party voted."""
    vote = _vote_or_404(vote_id, "party_votes")
    party = db.get_or_404(Party, party_id)
    return _versioned(
        vote,
        PositionForm,
        lambda form: set_party_position(
            vote,
            party,
            Position(form.position.data) if form.position.data else None,
            expected_version=form.version.data,
            actor=current_user,
        ),
    )


@bp.post("/votes/<int:vote_id>/members/<int:member_id>")
@allow(*STAFF)
def member_position(vote_id: int, member_id: int):
    """Roles: admin, the body's secretaries. Record a member's own vote (split, løsgænger)."""
    vote = _vote_or_404(vote_id, "member_votes")
    member = db.get_or_404(Member, member_id)
    return _versioned(
        vote,
        MemberPositionForm,
        lambda form: set_member_position(
            vote,
            member,
            MemberPosition(form.position.data) if form.position.data else None,
            expected_version=form.version.data,
            actor=current_user,
        ),
    )


@bp.post("/votes/<int:vote_id>/rest")
@allow(*STAFF)
def rest_position(vote_id: int):
    """Roles: admin, the body's secretaries. Give every party not yet recorded a position."""
    vote = _vote_or_404(vote_id, "party_votes")
    return _versioned(
        vote,
        BulkPositionForm,
        lambda form: set_unrecorded_parties(
            vote,
            Position(form.position.data),
            expected_version=form.version.data,
            actor=current_user,
        ),
    )


@bp.post("/votes/<int:vote_id>/close")
@allow(*STAFF)
def close(vote_id: int):
    """Roles: admin, the body's secretaries. Close the vote (the result is final)."""
    vote = _vote_or_404(vote_id)
    return _versioned(
        vote,
        VersionedForm,
        lambda form: close_vote(vote, expected_version=form.version.data, actor=current_user),
    )


@bp.post("/votes/<int:vote_id>/reopen")
@allow(*STAFF)
def reopen(vote_id: int):
    """Roles: admin, the body's secretaries. Reopen a closed vote to correct it."""
    vote = _vote_or_404(vote_id)
    return _versioned(
        vote,
        VersionedForm,
        lambda form: reopen_vote(vote, expected_version=form.version.data, actor=current_user),
    )


@bp.post("/votes/<int:vote_id>/without-vote")
@allow(*STAFF)
def without_vote(vote_id: int):
    """Roles: admin, the body's secretaries. Decided without a vote (uden afstemning)."""
    vote = _vote_or_404(vote_id)
    return _versioned(
        vote,
        WithoutVoteForm,
        lambda form: set_without_vote(
            vote,
            Outcome(form.outcome.data) if form.outcome.data else None,
            expected_version=form.version.data,
            actor=current_user,
        ),
    )


@bp.post("/votes/<int:vote_id>/result")
@allow(*STAFF)
def result(vote_id: int):
    """Roles: admin, the body's secretaries. The sentence printed after the vote."""
    vote = _vote_or_404(vote_id)
    return _versioned(
        vote,
        ResultForm,
        lambda form: set_result_sentence(
            vote,
            ResultMode(form.mode.data),
            form.text.data or "",
            expected_version=form.version.data,
            actor=current_user,
        ),
    )


# --------------------------------------------------------------------------- decision


@bp.post("/items/<int:item_id>/decision")
@allow(*STAFF)
def decision(item_id: int):
    """Roles: admin, the body's secretaries. The item's final result sentence."""
    item = _item_or_404(item_id)
    try:
        final_results = load_style(item.meeting.body.minutes_style, _style_dirs()).final_results
    except StyleError as exc:
        return _refuse(item, str(exc), 409)
    form = DecisionForm(final_results=final_results)
    if not form.validate():
        return _render(item, 400, decision_form=form, error=_form_errors(form))
    return _write(
        item,
        lambda: set_decision(
            item,
            form.result_key.data or "",
            form.result_text.data or "",
            actor=current_user,
            known_keys=final_results,
        ),
        "decision",
    )


# --------------------------------------------------------------------------- remarks


def _remark_or_404(remark_id: int) -> ProtocolRemark:
    remark = db.get_or_404(ProtocolRemark, remark_id)
    require_body(remark.item.meeting.body_id)
    return remark


@bp.post("/items/<int:item_id>/remarks")
@allow(*STAFF)
@once
def add_protocol_remark(item_id: int):
    """Roles: admin, the body's secretaries. Record a protocol remark requested at the
    meeting (accepted into the minutes)."""
    item = _item_or_404(item_id)
    present = present_for_item(item)
    parties = parties_present(item.meeting.body, present)
    form = RemarkForm(parties=parties, members=list(present.values()))
    if not form.validate():
        return _render(item, 400, remark_form=form, error=_form_errors(form))
    by_id = {str(p.id): p for p in parties}
    party = by_id.get(form.party.data or "")
    member = present[int(form.member.data)].member if form.member.data else None
    return _write(
        item,
        lambda: add_remark(
            item,
            RemarkKind(form.kind.data),
            form.text.data or "",
            actor=current_user,
            party=party,
            member=member,
            co_parties=[by_id[v] for v in form.co_parties.data or [] if v in by_id],
        ),
        "remarks",
    )


@bp.post("/remarks/<int:remark_id>")
@allow(*STAFF)
def edit_remark(remark_id: int):
    """Roles: admin, the body's secretaries. Correct a remark's text (audited)."""
    remark = _remark_or_404(remark_id)
    text = request.form.get("text", "")
    return _write(
        remark.item, lambda: update_remark_text(remark, text, actor=current_user), "remarks"
    )


@bp.post("/remarks/<int:remark_id>/move")
@allow(*STAFF)
def move_protocol_remark(remark_id: int):
    """Roles: admin, the body's secretaries. Move a remark up or down in the minutes."""
    remark = _remark_or_404(remark_id)
    offset = -1 if request.form.get("direction") == "up" else 1
    return _write(remark.item, lambda: move_remark(remark, offset, actor=current_user), "remarks")


@bp.post("/remarks/<int:remark_id>/delete")
@allow(*STAFF)
def remove_remark(remark_id: int):
    """Roles: admin, the body's secretaries. Remove a remark."""
    remark = _remark_or_404(remark_id)
    if request.form.get("confirm") != "yes":
        return _render(remark.item, 400, error=_l("Bekræft, at bemærkningen skal slettes."))
    return _write(remark.item, lambda: delete_remark(remark, actor=current_user), "remarks")


# --------------------------------------------------------------------------- history

ENTITY_LABELS = {
    "agenda_items": _l("Punkt"),
    "recommendation_clauses": _l("Indstilling"),
    "case_sections": _l("Sagsfremstilling"),
    "attachments": _l("Bilag"),
    "item_signatories": _l("Underskriver"),
    "item_attendance": _l("Fremmøde (punkt)"),
    "motions": _l("Forslag"),
    "votes": _l("Afstemning"),
    "party_votes": _l("Partistemme"),
    "member_votes": _l("Medlemsstemme"),
    "decisions": _l("Beslutning"),
    "protocol_remarks": _l("Protokolbemærkning"),
    "remark_co_parties": _l("Medunderskriver"),
}
ACTION_LABELS = {"create": _l("Oprettet"), "update": _l("Ændret"), "delete": _l("Slettet")}


@bp.get("/items/<int:item_id>/history")
@allow(*STAFF)
def history(item_id: int):
    """Roles: admin, the body's secretaries. Every change to the item's record: who,
    when, what before and what after."""
    item = _item_or_404(item_id)
    entries = db.session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.item_id == item.id)
        .order_by(AuditEntry.id.desc())
        .limit(2000)
    ).all()
    return render_template(
        "minutes/history.html",
        item=item,
        entries=entries,
        entity_labels=ENTITY_LABELS,
        action_labels=ACTION_LABELS,
    )
