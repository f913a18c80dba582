"""The minutes' lifecycle: a meeting moves only forward, planned → in session → closed →
minutes approved → published, each step a deliberate, audited action by a secretary with
the checks it requires; approval and signing by the members; corrections appended as
addenda; publication freezes the PDF.

Plain functions: they take the acting user, add and flush, and raise `LifecycleError`;
the view commits once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from meetings.models import AgendaItem, ApprovalRule, Meeting, MeetingState, Member, SeatRole
from meetings.services import present_for_meeting, seated_members
from meetings.storage import store_file
from minutes.models import (
    ApprovalDecision,
    Correction,
    MinutesApproval,
    ProtocolRemark,
    PublishedItemMinutes,
    PublishedMinutes,
    RemarkStatus,
)
from minutes.search import index_meeting
from motions.models import Motion
from protokol.extensions import db
from protokol.models import utcnow
from votes.models import Vote

STATE_LABELS = {
    MeetingState.PLANNED: _l("Planlagt"),
    MeetingState.IN_SESSION: _l("I gang"),
    MeetingState.CLOSED: _l("Afsluttet"),
    MeetingState.APPROVED: _l("Protokol godkendt"),
    MeetingState.PUBLISHED: _l("Offentliggjort"),
}
NEXT_STATE = {
    MeetingState.PLANNED: MeetingState.IN_SESSION,
    MeetingState.IN_SESSION: MeetingState.CLOSED,
    MeetingState.CLOSED: MeetingState.APPROVED,
    MeetingState.APPROVED: MeetingState.PUBLISHED,
}


class LifecycleError(ValueError):
    """A step in the minutes' lifecycle cannot be taken now; the message says why."""


def _require_state(meeting: Meeting, *states: MeetingState) -> None:
    if meeting.state not in states:
        wanted = _(" eller ").join(str(STATE_LABELS[s]).lower() for s in states)
        raise LifecycleError(
            _(
                "Mødet er %(state)s; det skal være %(wanted)s.",
                state=str(STATE_LABELS[meeting.state]).lower(),
                wanted=wanted,
            )
        )


def open_votes(meeting: Meeting) -> list[Vote]:
    """Votes still being recorded at the meeting."""
    return list(
        db.session.scalars(
            sa.select(Vote)
            .join(Motion)
            .join(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id, Vote.is_open.is_(True))
        )
    )


def undecided_remarks(meeting: Meeting) -> list[ProtocolRemark]:
    """Remarks filed by members that the secretary has not accepted or returned."""
    return list(
        db.session.scalars(
            sa.select(ProtocolRemark)
            .join(AgendaItem)
            .where(
                AgendaItem.meeting_id == meeting.id,
                ProtocolRemark.status == RemarkStatus.SUBMITTED,
            )
        )
    )


def start_meeting(meeting: Meeting, *, actor: Any) -> Meeting:
    """Planned → in session; the agenda is public from now on at the latest."""
    _require_state(meeting, MeetingState.PLANNED)
    meeting.state = MeetingState.IN_SESSION
    if meeting.agenda_published_at is None:
        meeting.agenda_published_at = utcnow()
    db.session.flush()
    return meeting


def close_meeting(meeting: Meeting, *, actor: Any) -> Meeting:
    """In session → closed: every vote must be closed."""
    _require_state(meeting, MeetingState.IN_SESSION)
    votes = open_votes(meeting)
    if votes:
        numbers = sorted({v.motion.item.number for v in votes})
        raise LifecycleError(
            _(
                "Der er stadig åbne afstemninger (punkt %(numbers)s). Afslut dem, før mødet"
                " lukkes.",
                numbers=", ".join(str(n) for n in numbers),
            )
        )
    meeting.state = MeetingState.CLOSED
    if meeting.ends_at is None:
        meeting.ends_at = max(meeting.starts_at, utcnow_local())
    db.session.flush()
    return meeting


def utcnow_local():
    """The current local wall-clock time (Europe/Copenhagen), without tzinfo."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/Copenhagen")).replace(tzinfo=None, microsecond=0)


# --------------------------------------------------------------------------- approval


@dataclass
class ApprovalStatus:
    """Where the approval of a meeting's minutes stands under its body's rule."""

    rule: ApprovalRule
    #: Members whose approval the rule requires.
    required: list[Member]
    approvals: list[MinutesApproval] = field(default_factory=list)

    @property
    def approved_ids(self) -> set[int]:
        return {a.member_id for a in self.approvals}

    @property
    def missing(self) -> list[Member]:
        return [m for m in self.required if m.id not in self.approved_ids]

    @property
    def is_met(self) -> bool:
        return bool(self.required) and not self.missing


def attending_members(meeting: Meeting) -> list[Member]:
    """The members who attended the meeting (and so may approve its minutes)."""
    return sorted((s.member for s in present_for_meeting(meeting).values()), key=lambda m: m.name)


def approval_status(meeting: Meeting) -> ApprovalStatus:
    rule = meeting.body.approval_rule
    attending = attending_members(meeting)
    if rule == ApprovalRule.CHAIR_AND_SECRETARY:
        # The chair approves; when the chair did not attend, the vice-chair who led the
        # meeting in their place does (otherwise the approval could never be closed).
        seated = seated_members(meeting.body, meeting.date)
        required = [m for m in attending if seated[m.id].role == SeatRole.CHAIR] or [
            m for m in attending if seated[m.id].role == SeatRole.VICE_CHAIR
        ]
    else:
        required = attending
    approvals = list(
        db.session.scalars(
            sa.select(MinutesApproval)
            .where(MinutesApproval.meeting_id == meeting.id)
            .order_by(MinutesApproval.created_at, MinutesApproval.id)
        )
    )
    return ApprovalStatus(rule, required, approvals)


def approve_minutes(
    meeting: Meeting, member: Member, *, actor: Any, reservation: str = ""
) -> MinutesApproval:
    """A member who attended approves the minutes, or records a reservation (forbehold)."""
    _require_state(meeting, MeetingState.CLOSED)
    if member.id not in {m.id for m in attending_members(meeting)}:
        raise LifecycleError(_("Kun medlemmer, der deltog i mødet, kan godkende protokollen."))
    reservation = reservation.strip()
    if len(reservation) > 5000:
        raise LifecycleError(_("Forbeholdet er for langt (højst 5000 tegn)."))
    # Everything is read before the row joins the session: reading an expired actor's id
    # would autoflush a half-filled approval.
    values = {
        "user_id": getattr(actor, "id", None),
        "decision": ApprovalDecision.RESERVATION if reservation else ApprovalDecision.APPROVED,
        "reservation": reservation,
        "created_at": utcnow(),
    }
    approval = db.session.scalar(
        sa.select(MinutesApproval).where(
            MinutesApproval.meeting_id == meeting.id, MinutesApproval.member_id == member.id
        )
    )
    if approval is None:
        approval = MinutesApproval(meeting_id=meeting.id, member=member, **values)
        db.session.add(approval)
    else:
        for key, value in values.items():
            setattr(approval, key, value)
    db.session.flush()
    return approval


def close_approval(meeting: Meeting, *, actor: Any) -> Meeting:
    """Closed → minutes approved: no open vote, every remark decided, and the body's
    approval rule met. From now on the record is locked."""
    _require_state(meeting, MeetingState.CLOSED)
    if open_votes(meeting):
        raise LifecycleError(_("Der er åbne afstemninger; afslut dem først."))
    pending = undecided_remarks(meeting)
    if pending:
        raise LifecycleError(
            _(
                "%(count)s protokolbemærkning(er) venter på afgørelse; optag eller returnér dem.",
                count=len(pending),
            )
        )
    status = approval_status(meeting)
    if not status.required:
        raise LifecycleError(
            _(
                "Ingen kan godkende protokollen: hverken formanden eller næstformanden er"
                " registreret som deltager."
            )
            if status.rule == ApprovalRule.CHAIR_AND_SECRETARY
            else _("Ingen kan godkende protokollen: der er ikke registreret nogen deltagere.")
        )
    if not status.is_met:
        names = ", ".join(m.name for m in status.missing)
        raise LifecycleError(_("Protokollen mangler godkendelse fra: %(names)s.", names=names))
    meeting.state = MeetingState.APPROVED
    db.session.flush()
    return meeting


# --------------------------------------------------------------------------- publication


#: Frozen PDFs are public once published and are read by nginx when it sends them
#: (X-Accel-Redirect, docs/deploy.md): readable by the owner's group too.
FROZEN_FILE_MODE = 0o640

#: Renders the public minutes of one item of a meeting (by the item's number) as PDF.
ItemRenderer = Callable[[Meeting, int], bytes]


def publish(
    meeting: Meeting,
    *,
    actor: Any,
    minutes_dir: str,
    render_pdf: Callable[[Meeting], bytes],
    render_item_pdf: ItemRenderer | None = None,
    style_dirs: Sequence[str] = (),
) -> PublishedMinutes:
    """Minutes approved → published: the minutes PDF is rendered once and frozen, and so
    is each item's PDF when `render_item_pdf` is given; the minutes become searchable (in
    the same transaction)."""
    _require_state(meeting, MeetingState.APPROVED)
    published = _freeze(
        meeting,
        actor=actor,
        minutes_dir=minutes_dir,
        render_pdf=render_pdf,
        render_item_pdf=render_item_pdf,
        reason="Offentliggjort",
    )
    meeting.state = MeetingState.PUBLISHED
    db.session.flush()
    index_meeting(meeting, style_dirs=style_dirs)
    return published


def _freeze(
    meeting: Meeting,
    *,
    actor: Any,
    minutes_dir: str,
    render_pdf: Callable[[Meeting], bytes],
    render_item_pdf: ItemRenderer | None = None,
    reason: str,
) -> PublishedMinutes:
    data = render_pdf(meeting)
    item_files = []
    if render_item_pdf is not None:
        # Rendered and stored before any row is added: a failure leaves nothing half-made.
        item_files = [
            (
                item,
                *store_file(
                    minutes_dir, render_item_pdf(meeting, item.number), mode=FROZEN_FILE_MODE
                ),
            )
            for item in sorted(meeting.items, key=lambda i: i.position)
        ]
    sha256, size = store_file(minutes_dir, data, mode=FROZEN_FILE_MODE)
    version = (
        db.session.scalar(
            sa.select(sa.func.max(PublishedMinutes.version)).where(
                PublishedMinutes.meeting_id == meeting.id
            )
        )
        or 0
    ) + 1
    published = PublishedMinutes(
        meeting_id=meeting.id,
        version=version,
        sha256=sha256,
        size=size,
        reason=reason[:500],
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(published)
    for item, item_sha256, item_size in item_files:
        db.session.add(
            PublishedItemMinutes(
                published_minutes=published, item_id=item.id, sha256=item_sha256, size=item_size
            )
        )
    db.session.flush()
    return published


def published_versions(meeting: Meeting) -> list[PublishedMinutes]:
    """The frozen PDFs of a meeting, newest first."""
    return list(
        db.session.scalars(
            sa.select(PublishedMinutes)
            .where(PublishedMinutes.meeting_id == meeting.id)
            .order_by(PublishedMinutes.version.desc())
        )
    )


def add_correction(
    meeting: Meeting,
    what: str,
    why: str,
    *,
    actor: Any,
    item: AgendaItem | None = None,
    minutes_dir: str,
    render_pdf: Callable[[Meeting], bytes],
    render_item_pdf: ItemRenderer | None = None,
    style_dirs: Sequence[str] = (),
) -> Correction:
    """Append a correction (addendum) to approved minutes; the record itself stays as it
    was. Published minutes get a new frozen version, the old ones stay available, and
    the search index is rebuilt for the meeting (a correction is searched with its item's
    decision)."""
    # In the states' order (LOCKED_STATES is a set: its order varies between runs).
    _require_state(meeting, MeetingState.APPROVED, MeetingState.PUBLISHED)
    what, why = what.strip(), why.strip()
    if not what:
        raise LifecycleError(_("Beskriv rettelsen."))
    if not why:
        raise LifecycleError(_("Begrund rettelsen."))
    if len(what) > 20_000 or len(why) > 5_000:
        raise LifecycleError(_("Rettelsen er for lang."))
    if item is not None and item.meeting_id != meeting.id:
        raise LifecycleError(_("Punktet hører ikke til mødet."))
    correction = Correction(
        meeting_id=meeting.id,
        item=item,
        what=what,
        why=why,
        created_by_id=getattr(actor, "id", None),
        created_by_label=getattr(actor, "email", None) or "kommandolinje",
    )
    db.session.add(correction)
    db.session.flush()
    if meeting.state == MeetingState.PUBLISHED:
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Correction)
            .where(Correction.meeting_id == meeting.id)
        )
        _freeze(
            meeting,
            actor=actor,
            minutes_dir=minutes_dir,
            render_pdf=render_pdf,
            render_item_pdf=render_item_pdf,
            reason=f"Rettelse {count}: {what[:200]}",
        )
        index_meeting(meeting, style_dirs=style_dirs)
    return correction


def corrections(meeting: Meeting) -> list[Correction]:
    return list(
        db.session.scalars(
            sa.select(Correction)
            .where(Correction.meeting_id == meeting.id)
            .order_by(Correction.created_at, Correction.id)
        )
    )
