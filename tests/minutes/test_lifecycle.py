"""The minutes' lifecycle (`minutes.lifecycle`): the states move only forward, each step
refused in the wrong state and until what it requires is there; the members' approval
under the body's rule, with reservations; the lock on approved minutes against every
write path (services, console, preparation screens, the members' and the review pages,
the command line's import, a direct ORM change); corrections appended after the item
they correct and never changed; publication freezing the public PDF by its SHA-256, and
a correction after publication making a new version while the old stays available."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from meetings import services as preparation
from meetings.locking import RecordLocked
from meetings.models import (
    AgendaItem,
    ApprovalRule,
    Attachment,
    CaseSection,
    Meeting,
    MeetingState,
    RecommendationClause,
    SeatRole,
)
from meetings.storage import attachment_path
from minutes.context import build_minutes
from minutes.interchange import dumps, export_meeting
from minutes.lifecycle import (
    LifecycleError,
    add_correction,
    approval_status,
    approve_minutes,
    close_approval,
    close_meeting,
    corrections,
    publish,
    published_versions,
    start_meeting,
)
from minutes.models import (
    AppendOnlyError,
    ApprovalDecision,
    Correction,
    MinutesApproval,
    ProtocolRemark,
    PublishedItemMinutes,
    PublishedMinutes,
    RemarkKind,
    RemarkStatus,
)
from minutes.pdf import render_minutes_pdf
from minutes.services import (
    accept_remark,
    add_remark,
    delete_remark,
    file_remark,
    move_remark,
    return_remark,
    update_remark_text,
)
from minutes.text import render_minutes_text
from minutes.views import render_public_item_pdf, render_public_pdf
from motions.models import MotionKind
from motions.services import create_motion, delete_motion, update_motion
from protokol.audit import AuditAction, AuditEntry, set_actor
from protokol.extensions import db as _db
from votes.models import Position
from votes.services import (
    close_vote,
    open_vote,
    reopen_vote,
    set_decision,
    set_party_position,
)

ORDER = [
    MeetingState.PLANNED,
    MeetingState.IN_SESSION,
    MeetingState.CLOSED,
    MeetingState.APPROVED,
    MeetingState.PUBLISHED,
]
LOCKED = [MeetingState.APPROVED, MeetingState.PUBLISHED]
KNOWN_KEYS = ("approved", "approved_as_amended", "rejected", "noted")
ATTENDING = ("A 1", "A 2", "V 1")
LOCK_MESSAGE = "er godkendt og kan ikke ændres"


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    """A fast argon2 setting for the test users (the default takes half a second)."""
    from argon2 import PasswordHasher

    from protokol.accounts import services as account_services

    monkeypatch.setattr(
        account_services, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def normalise(text: str) -> str:
    return " ".join(text.split())


def pdf_text(data: bytes) -> str:
    return normalise(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def world(app, db, factories, make_user):
    """A planned meeting of a body with four members (A 1 chair, V 1 vice-chair, C 1
    absent): item 1 with a recommendation, a case section, an attachment, a motion and
    its closed vote, a second motion without a vote, a decision and an accepted remark;
    item 2 closed (lukket punkt); item 3 empty. And the body's secretary."""
    meeting = factories.meeting(
        {"A": 2, "V": 1, "C": 1}, order="A V C", absent=("C 1",), state=MeetingState.PLANNED
    )
    members = factories.members
    members["A 1"].seats[0].role = SeatRole.CHAIR
    members["V 1"].seats[0].role = SeatRole.VICE_CHAIR
    budget = factories.item(
        meeting, 1, title="Budget 2011", summary="Forvaltningen forelægger budgettet for 2011."
    )
    budget.clauses.append(RecommendationClause(position=0, text="at budgettet godkendes"))
    budget.sections.append(CaseSection(position=0, heading="Økonomi", body="Ingen udgifter."))
    budget.attachments.append(Attachment(number=1, title="Budgetnotat"))
    closed = factories.item(
        meeting, 2, title="Personalesag", is_closed=True, summary="Fortrolig oplysning om en ansat."
    )
    other = factories.item(meeting, 3, title="Eventuelt")
    motion = factories.motion(
        budget, MotionKind.AMENDMENT, party="V", text="Flere midler til skolerne."
    )
    vote = factories.vote(motion, {"A": "against", "V": "for"})
    spare = factories.motion(budget, MotionKind.AMENDMENT, party="A", text="Et andet forslag.")
    factories.decision(budget, "approved")
    remark = factories.remark(budget, "Venstre ønsker flere midler til skolerne.", party="V")
    db.session.commit()
    secretary = make_user("secretary", bodies=[meeting.body])
    set_actor(db.session, secretary)
    return SimpleNamespace(
        app=app,
        meeting=meeting,
        body=meeting.body,
        members=members,
        items=[budget, closed, other],
        motion=motion,
        vote=vote,
        spare=spare,
        remark=remark,
        secretary=secretary,
        party_a=factories.party("A"),
        party_v=factories.party("V"),
    )


def go(world, state: MeetingState) -> None:
    """Drive the meeting forward through the services until it is in `state`."""
    meeting, secretary = world.meeting, world.secretary
    while ORDER.index(meeting.state) < ORDER.index(state):
        if meeting.state == MeetingState.PLANNED:
            start_meeting(meeting, actor=secretary)
        elif meeting.state == MeetingState.IN_SESSION:
            close_meeting(meeting, actor=secretary)
        elif meeting.state == MeetingState.CLOSED:
            for name in ATTENDING:
                approve_minutes(meeting, world.members[name], actor=secretary)
            close_approval(meeting, actor=secretary)
        else:
            publish(
                meeting,
                actor=secretary,
                minutes_dir=world.app.config["MINUTES_DIR"],
                render_pdf=render_public_pdf,
                render_item_pdf=render_public_item_pdf,
            )
        _db.session.commit()


def do_publish(world):
    return publish(
        world.meeting,
        actor=world.secretary,
        minutes_dir=world.app.config["MINUTES_DIR"],
        render_pdf=render_public_pdf,
    )


def correct(world, what: str, why: str, item=None):
    return add_correction(
        world.meeting,
        what,
        why,
        actor=world.secretary,
        item=item,
        minutes_dir=world.app.config["MINUTES_DIR"],
        render_pdf=render_public_pdf,
    )


def snapshot(db, world) -> tuple[str, int]:
    """The meeting's whole record (the interchange export) and the size of its audit
    trail."""
    db.session.expire_all()
    meeting = db.session.get(Meeting, world.meeting.id)
    data = export_meeting(meeting, include_files=False)
    trail = count(db, AuditEntry, AuditEntry.meeting_id == meeting.id)
    return json.dumps(data, sort_keys=True, default=str), trail


# --------------------------------------------------------------------------- transitions


def test_the_meeting_moves_forward_one_audited_step_at_a_time(db, world):
    meeting = world.meeting
    start_meeting(meeting, actor=world.secretary)
    db.session.commit()
    assert meeting.state == MeetingState.IN_SESSION
    close_meeting(meeting, actor=world.secretary)
    db.session.commit()
    assert meeting.state == MeetingState.CLOSED
    assert meeting.ends_at is not None and meeting.ends_at >= meeting.starts_at
    for name in ATTENDING:
        approve_minutes(meeting, world.members[name], actor=world.secretary)
    close_approval(meeting, actor=world.secretary)
    db.session.commit()
    assert meeting.state == MeetingState.APPROVED
    do_publish(world)
    db.session.commit()
    assert meeting.state == MeetingState.PUBLISHED

    moves = [
        e
        for e in db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.entity == "meetings", AuditEntry.entity_id == meeting.id)
            .order_by(AuditEntry.id)
        )
        if e.action == AuditAction.UPDATE and "state" in (e.after or {})
    ]
    assert [(e.before["state"], e.after["state"]) for e in moves] == [
        ("planned", "in_session"),
        ("in_session", "closed"),
        ("closed", "approved"),
        ("approved", "published"),
    ]
    assert {(e.actor_id, e.actor_label) for e in moves} == {
        (world.secretary.id, world.secretary.email)
    }


STEPS = {
    "start": (MeetingState.PLANNED, lambda w: start_meeting(w.meeting, actor=w.secretary)),
    "close": (MeetingState.IN_SESSION, lambda w: close_meeting(w.meeting, actor=w.secretary)),
    "close_approval": (MeetingState.CLOSED, lambda w: close_approval(w.meeting, actor=w.secretary)),
    "publish": (MeetingState.APPROVED, do_publish),
    "approve": (
        MeetingState.CLOSED,
        lambda w: approve_minutes(w.meeting, w.members["A 1"], actor=w.secretary),
    ),
}


@pytest.mark.parametrize(
    ("step", "state"),
    [(step, state) for step, (wanted, _) in STEPS.items() for state in ORDER if state != wanted],
)
def test_each_step_is_refused_in_every_other_state(db, world, step, state):
    """No step skips a state, and none goes back."""
    world.meeting.state = state
    db.session.commit()
    _, action = STEPS[step]
    with pytest.raises(LifecycleError, match=r"Mødet er .*; det skal være"):
        action(world)
    db.session.rollback()
    assert db.session.get(Meeting, world.meeting.id).state == state
    assert count(db, PublishedMinutes) == 0
    assert count(db, MinutesApproval) == 0


@pytest.mark.parametrize(
    ("locked", "back"),
    [
        (MeetingState.APPROVED, MeetingState.CLOSED),
        (MeetingState.APPROVED, MeetingState.PLANNED),
        (MeetingState.PUBLISHED, MeetingState.APPROVED),
        (MeetingState.PUBLISHED, MeetingState.IN_SESSION),
    ],
)
def test_a_locked_meeting_cannot_go_back_even_through_the_orm(db, world, locked, back):
    world.meeting.state = locked
    db.session.commit()
    world.meeting.state = back
    with pytest.raises(RecordLocked, match=LOCK_MESSAGE):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(Meeting, world.meeting.id).state == locked


def test_a_locked_meeting_cannot_be_deleted(db, world):
    go(world, MeetingState.APPROVED)
    db.session.delete(world.meeting)
    with pytest.raises(RecordLocked):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(Meeting, world.meeting.id) is not None


def test_an_open_vote_blocks_closing_the_meeting(db, world, factories):
    go(world, MeetingState.IN_SESSION)
    motion = factories.motion(world.items[2], MotionKind.AMENDMENT, party="A", text="Forslag.")
    vote = open_vote(motion, actor=world.secretary)
    db.session.commit()
    with pytest.raises(LifecycleError, match=r"stadig åbne afstemninger \(punkt 3\)"):
        close_meeting(world.meeting, actor=world.secretary)
    db.session.rollback()
    assert world.meeting.state == MeetingState.IN_SESSION
    close_vote(vote, expected_version=vote.version, actor=world.secretary)
    close_meeting(world.meeting, actor=world.secretary)
    db.session.commit()
    assert world.meeting.state == MeetingState.CLOSED


def test_an_open_vote_blocks_the_approval(db, world):
    go(world, MeetingState.CLOSED)
    reopen_vote(world.vote, expected_version=world.vote.version, actor=world.secretary)
    for name in ATTENDING:
        approve_minutes(world.meeting, world.members[name], actor=world.secretary)
    db.session.commit()
    with pytest.raises(LifecycleError, match="åbne afstemninger"):
        close_approval(world.meeting, actor=world.secretary)
    db.session.rollback()
    assert world.meeting.state == MeetingState.CLOSED
    close_vote(world.vote, expected_version=world.vote.version, actor=world.secretary)
    close_approval(world.meeting, actor=world.secretary)
    db.session.commit()
    assert world.meeting.state == MeetingState.APPROVED


@pytest.mark.parametrize("decision", ["accept", "return"])
def test_an_undecided_remark_blocks_the_approval(db, world, decision):
    go(world, MeetingState.IN_SESSION)
    remark = file_remark(
        world.items[0],
        world.members["A 2"],
        RemarkKind.PERSONAL,
        "Jeg stemte imod af principielle grunde.",
        actor=None,
    )
    go(world, MeetingState.CLOSED)
    for name in ATTENDING:
        approve_minutes(world.meeting, world.members[name], actor=world.secretary)
    db.session.commit()
    assert remark.status == RemarkStatus.SUBMITTED
    with pytest.raises(LifecycleError, match="1 protokolbemærkning"):
        close_approval(world.meeting, actor=world.secretary)
    db.session.rollback()
    if decision == "accept":
        accept_remark(remark, actor=world.secretary, override=True)
    else:
        return_remark(remark, "Bemærkningen hører til et andet punkt.", actor=world.secretary)
    close_approval(world.meeting, actor=world.secretary)
    db.session.commit()
    assert world.meeting.state == MeetingState.APPROVED


# --------------------------------------------------------------------------- approval


def test_all_attending_needs_every_member_who_attended(db, world):
    go(world, MeetingState.CLOSED)
    status = approval_status(world.meeting)
    assert status.rule == ApprovalRule.ALL_ATTENDING
    assert [m.name for m in status.required] == ["A 1", "A 2", "V 1"]  # not C 1 (absent)
    approve_minutes(world.meeting, world.members["A 1"], actor=world.secretary)
    approve_minutes(world.meeting, world.members["V 1"], actor=world.secretary)
    db.session.commit()
    assert not approval_status(world.meeting).is_met
    with pytest.raises(LifecycleError, match=r"mangler godkendelse fra: A 2\.$"):
        close_approval(world.meeting, actor=world.secretary)
    db.session.rollback()
    approve_minutes(world.meeting, world.members["A 2"], actor=world.secretary)
    assert approval_status(world.meeting).is_met
    close_approval(world.meeting, actor=world.secretary)
    db.session.commit()
    assert world.meeting.state == MeetingState.APPROVED


def test_chair_and_secretary_needs_only_the_chair(db, world):
    world.body.approval_rule = ApprovalRule.CHAIR_AND_SECRETARY
    db.session.commit()
    go(world, MeetingState.CLOSED)
    assert [m.name for m in approval_status(world.meeting).required] == ["A 1"]
    approve_minutes(world.meeting, world.members["V 1"], actor=world.secretary)
    with pytest.raises(LifecycleError, match=r"mangler godkendelse fra: A 1\.$"):
        close_approval(world.meeting, actor=world.secretary)
    db.session.rollback()
    approve_minutes(world.meeting, world.members["A 1"], actor=world.secretary)
    close_approval(world.meeting, actor=world.secretary)
    db.session.commit()
    assert world.meeting.state == MeetingState.APPROVED


def test_chair_and_secretary_with_the_chair_absent_needs_the_vice_chair(db, world):
    world.body.approval_rule = ApprovalRule.CHAIR_AND_SECRETARY
    next(a for a in world.meeting.attendance if a.member.name == "A 1").is_present = False
    db.session.commit()
    go(world, MeetingState.CLOSED)
    assert [m.name for m in approval_status(world.meeting).required] == ["V 1"]
    approve_minutes(world.meeting, world.members["V 1"], actor=world.secretary)
    close_approval(world.meeting, actor=world.secretary)
    db.session.commit()
    assert world.meeting.state == MeetingState.APPROVED


@pytest.mark.parametrize("rule", list(ApprovalRule))
def test_nobody_to_approve_is_explained(db, world, rule):
    world.body.approval_rule = rule
    for attendance in world.meeting.attendance:
        if rule == ApprovalRule.ALL_ATTENDING or attendance.member.name in ("A 1", "V 1"):
            attendance.is_present = False
    db.session.commit()
    go(world, MeetingState.CLOSED)
    expected = (
        "hverken formanden eller næstformanden"
        if rule == ApprovalRule.CHAIR_AND_SECRETARY
        else "ikke registreret nogen deltagere"
    )
    with pytest.raises(LifecycleError, match=expected):
        close_approval(world.meeting, actor=world.secretary)


def test_only_members_who_attended_approve(db, world, factories):
    go(world, MeetingState.CLOSED)
    stranger = factories.member(factories.body("Andetudvalget", order="A"), "Fremmed", "A")
    for member in (world.members["C 1"], stranger):
        with pytest.raises(LifecycleError, match="Kun medlemmer, der deltog i mødet"):
            approve_minutes(world.meeting, member, actor=world.secretary)
        db.session.rollback()
    assert count(db, MinutesApproval) == 0


def test_a_reservation_is_recorded_and_printed_on_the_signature_page(db, world):
    go(world, MeetingState.CLOSED)
    reservation = "Jeg tager forbehold for gengivelsen af afstemningen under punkt 1."
    approval = approve_minutes(
        world.meeting, world.members["A 2"], actor=world.secretary, reservation=f"  {reservation}  "
    )
    db.session.commit()
    assert approval.decision == ApprovalDecision.RESERVATION
    assert approval.reservation == reservation
    # Approving again replaces the earlier answer (one row per member).
    approve_minutes(world.meeting, world.members["A 2"], actor=world.secretary)
    db.session.commit()
    assert count(db, MinutesApproval) == 1
    assert approval.decision == ApprovalDecision.APPROVED and approval.reservation == ""
    approve_minutes(
        world.meeting, world.members["A 2"], actor=world.secretary, reservation=reservation
    )
    for name in ("A 1", "V 1"):
        approve_minutes(world.meeting, world.members[name], actor=world.secretary)
    close_approval(world.meeting, actor=world.secretary)
    db.session.commit()

    minutes = build_minutes(world.meeting, is_public=True)
    text = render_minutes_text(minutes)
    signature = text[text.index("Protokollen er godkendt af:") :]
    assert (
        f"A 2, {approval.created_at:%d.%m.%Y kl. %H.%M} (UTC), med forbehold: {reservation}"
        in signature
    )
    assert "A 1, " in signature and "V 1, " in signature and "C 1" not in signature
    pdf = pdf_text(render_minutes_pdf(minutes))
    assert "Godkendelse Protokollen er godkendt af:" in pdf
    assert normalise(reservation) in pdf


def test_a_reservation_that_is_too_long_is_refused(db, world):
    go(world, MeetingState.CLOSED)
    with pytest.raises(LifecycleError, match="for langt"):
        approve_minutes(world.meeting, world.members["A 2"], actor=None, reservation="x" * 5001)


# --------------------------------------------------------------------------- the lock: services


def _file(w):
    return file_remark(w.items[0], w.members["A 2"], RemarkKind.PERSONAL, "Sent.", actor=None)


LOCKED_SERVICES = {
    "motion: file": lambda w: create_motion(
        w.items[0], MotionKind.AMENDMENT, actor=None, proposer_party=w.party_a, text="Nyt forslag."
    ),
    "motion: change": lambda w: update_motion(w.motion, actor=None, text="Ændret forslag."),
    "motion: withdraw": lambda w: delete_motion(w.motion, actor=None),
    "vote: open": lambda w: open_vote(w.spare, actor=None),
    "vote: party": lambda w: set_party_position(
        w.vote, w.party_a, Position.FOR, expected_version=w.vote.version, actor=None
    ),
    "vote: reopen": lambda w: reopen_vote(w.vote, expected_version=w.vote.version, actor=None),
    "decision": lambda w: set_decision(
        w.items[0], "rejected", "", actor=None, known_keys=KNOWN_KEYS
    ),
    "remark: add": lambda w: add_remark(
        w.items[0], RemarkKind.PARTY, "Ny.", actor=None, party=w.party_a
    ),
    "remark: text": lambda w: update_remark_text(w.remark, "Ændret.", actor=None),
    "remark: delete": lambda w: delete_remark(w.remark, actor=None),
    "remark: move": lambda w: move_remark(w.remark, 1, actor=None),
    "remark: file (member)": _file,
    "remark: accept": lambda w: accept_remark(w.remark, actor=None, override=True),
    "remark: return": lambda w: return_remark(w.remark, "Nej.", actor=None),
    "meeting: time and place": lambda w: preparation.update_meeting(
        w.meeting, w.meeting.starts_at + timedelta(hours=1), "Andetsteds", actor=w.secretary
    ),
    "item: add": lambda w: preparation.add_item(w.meeting, title="Nyt punkt", actor=w.secretary),
    "item: closed": lambda w: preparation.set_item_closed(w.items[0], True, actor=w.secretary),
    "item: move": lambda w: preparation.move_item(w.items[0], "down", actor=w.secretary),
    "clause: add": lambda w: preparation.add_clause(w.items[0], "", "at x", actor=w.secretary),
    "section: add": lambda w: preparation.add_section(
        w.items[0], "Videre proces", "Tekst.", actor=w.secretary
    ),
    "attendance": lambda w: preparation.set_attendance(
        w.meeting, {w.members["C 1"].id: (True, "ankom sent")}, actor=w.secretary
    ),
}


@pytest.mark.parametrize("locked", LOCKED)
@pytest.mark.parametrize("name", list(LOCKED_SERVICES))
def test_every_service_refuses_a_locked_record(db, world, locked, name):
    go(world, locked)
    before = snapshot(db, world)
    with pytest.raises(RecordLocked, match=LOCK_MESSAGE):
        LOCKED_SERVICES[name](world)
    db.session.rollback()
    assert snapshot(db, world) == before


# --------------------------------------------------------------------------- the lock: ORM


ORM_CHANGES = {
    "meeting: place": lambda w, db: setattr(w.meeting, "location", "Et andet sted"),
    "meeting: time": lambda w, db: setattr(
        w.meeting, "starts_at", w.meeting.starts_at + timedelta(hours=1)
    ),
    "attendance": lambda w, db: setattr(
        w.meeting.attendance[0], "is_present", not w.meeting.attendance[0].is_present
    ),
    "item: title": lambda w, db: setattr(w.items[0], "title", "Ny titel"),
    "item: new": lambda w, db: w.meeting.items.append(
        AgendaItem(number=9, position=9, title="Indsmuglet punkt")
    ),
    "item: deleted": lambda w, db: db.session.delete(w.items[2]),
    "clause: new": lambda w, db: w.items[0].clauses.append(
        RecommendationClause(position=5, text="at noget andet besluttes")
    ),
    "section: text": lambda w, db: setattr(w.items[0].sections[0], "body", "Nye udgifter."),
    "motion: text": lambda w, db: setattr(w.motion, "text", "Omskrevet."),
    "vote: party": lambda w, db: setattr(w.vote.party_votes[0], "position", Position.ABSTAIN),
    "vote: reopened": lambda w, db: setattr(w.vote, "is_open", True),
    "decision": lambda w, db: setattr(w.items[0].decision, "result_key", "rejected"),
    "remark: text": lambda w, db: setattr(w.remark, "text", "Omskrevet."),
    "remark: new": lambda w, db: w.items[0].remarks.append(
        ProtocolRemark(
            position=9,
            kind=RemarkKind.PARTY,
            party=w.party_a,
            text="Ny.",
            status=RemarkStatus.ACCEPTED,
        )
    ),
    "remark: deleted": lambda w, db: db.session.delete(w.remark),
}


@pytest.mark.parametrize("locked", LOCKED)
@pytest.mark.parametrize("name", list(ORM_CHANGES))
def test_a_direct_orm_change_is_refused_at_flush(db, world, locked, name):
    go(world, locked)
    before = snapshot(db, world)
    ORM_CHANGES[name](world, db)
    with pytest.raises(RecordLocked, match=LOCK_MESSAGE):
        db.session.flush()
    db.session.rollback()
    assert snapshot(db, world) == before


def test_an_import_of_the_same_meeting_changes_nothing(db, world, runner, tmp_path):
    go(world, MeetingState.APPROVED)
    before = snapshot(db, world)
    data = export_meeting(world.meeting, include_files=False)
    data["meeting"]["items"][0]["title"] = "Forfalsket titel"
    data["meeting"]["state"] = "closed"
    path = tmp_path / "same-meeting.json"
    path.write_text(dumps(data), encoding="utf-8")
    result = runner.invoke(args=["meeting", "import", str(path)])
    assert result.exit_code != 0
    assert "nothing was imported" in result.output
    assert f"(id {world.meeting.id})" in result.output
    assert snapshot(db, world) == before


# --------------------------------------------------------------------------- the lock: HTTP


def _fill(world) -> dict[str, int]:
    """Ids of the locked meeting's rows for every kind of route argument."""
    item = world.items[0]
    return {
        "meeting_id": world.meeting.id,
        "item_id": item.id,
        "item_number": item.number,
        "motion_id": world.motion.id,
        "vote_id": world.vote.id,
        "remark_id": world.remark.id,
        "attachment_id": item.attachments[0].id,
        "clause_id": item.clauses[0].id,
        "section_id": item.sections[0].id,
        "party_id": world.party_a.id,
        "member_id": world.members["A 2"].id,
    }


def _payload(world, token: str) -> dict[str, str]:
    """Form fields that make most of the record's forms valid."""
    return {
        "csrf_token": token,
        "title": "Ændret",
        "text": "Ændret tekst.",
        "kind": "party",
        "proposer": f"p:{world.party_a.id}",
        "party": str(world.party_a.id),
        "member": str(world.members["A 2"].id),
        "position": "for",
        "version": str(world.vote.version),
        "result_key": "rejected",
        "result_text": "",
        "mode": "omitted",
        "outcome": "adopted",
        "direction": "down",
        "confirm": "yes",
        "closed": "1",
        "number": "9",
        "date": "2010-12-07",
        "time": "16:00",
        "location": "Andetsteds",
        "heading": "Ny",
        "body": "Ny tekst.",
        "lead_in": "",
        "names": "Ny Underskriver",
        "comment": "Nej tak.",
        "override": "y",
        "deadline": "2011-01-01T12:00",
        "new-clause-text": "at noget andet besluttes",
        "new-section-heading": "Videre proces",
    }


#: Forms that change nothing when there is nothing to do (closing a closed vote, giving
#: the parties without a position one when none is missing): they answer as done.
NO_OPS = {"console.close", "console.rest_position"}


def _record_routes(app, roles: set[str]):
    """POST routes of the record (not the lifecycle's own, not accounts or admin) that a
    user with one of `roles` may call, and that name a row of a meeting."""
    scoped = {
        "meeting_id",
        "item_id",
        "motion_id",
        "vote_id",
        "remark_id",
        "attachment_id",
        "clause_id",
        "section_id",
    }
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0]
        if "POST" not in rule.methods or blueprint in {"lifecycle", "accounts", "admin"}:
            continue
        if not set(rule.arguments) & scoped:
            continue
        allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", set())
        if allowed & roles:
            yield rule


@pytest.mark.parametrize("locked", LOCKED)
def test_every_post_route_of_the_record_refuses_a_locked_meeting(
    app, client, db, world, login, csrf_token, make_user, locked
):
    """Admin sends every form of the console, the preparation screens and the review of
    remarks; a member who attended sends every form of the members' pages. Nothing
    changes, and no answer is a success or a server error."""
    go(world, locked)
    before = snapshot(db, world)
    values = _fill(world)
    member = make_user("member", member=world.members["A 2"])
    answers: dict[str, int] = {}
    for user, roles in ((make_user("admin"), {"admin"}), (member, {"member"})):
        login(user)
        payload = _payload(world, csrf_token("/login"))
        for rule in _record_routes(app, roles):
            missing = [a for a in rule.arguments if a not in values]
            assert not missing, f"{rule.endpoint}: no id for {missing}"
            url = rule.build(values, append_unknown=False)[1]
            status = client.post(url, data=payload).status_code
            answers[f"{rule.endpoint} as {user.role}"] = status
            assert snapshot(db, world) == before, f"{rule.endpoint} changed the record"
        client.post("/logout", data={"csrf_token": payload["csrf_token"]})
    bad = {
        k: v for k, v in answers.items() if v >= 500 or (v < 400 and k.split(" ")[0] not in NO_OPS)
    }
    assert bad == {}
    assert sum(1 for v in answers.values() if v == 409) >= 20, answers


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/console/items/{item}/motions",
            {"kind": "amendment", "proposer": "p:{party}", "text": "Nyt forslag."},
        ),
        ("/console/votes/{vote}/parties/{party}", {"position": "for", "version": "{version}"}),
        ("/console/items/{item}/decision", {"result_key": "rejected"}),
        ("/console/items/{item}/remarks", {"kind": "party", "party": "{party}", "text": "Ny."}),
        ("/console/remarks/{remark}", {"text": "Ændret."}),
        ("/manage/meetings/{meeting}", {"date": "2010-12-07", "time": "16:00", "location": "X"}),
        ("/manage/meetings/{meeting}/items", {"title": "Nyt punkt"}),
        ("/manage/items/{item}", {"number": "1", "title": "Ny titel"}),
        ("/manage/items/{item}/clauses", {"new-clause-text": "at noget andet besluttes"}),
    ],
)
def test_valid_forms_are_refused_with_409(client, db, world, login, post, path, data):
    go(world, MeetingState.APPROVED)
    before = snapshot(db, world)
    login(world.secretary)
    ids = {
        "item": world.items[0].id,
        "party": world.party_a.id,
        "vote": world.vote.id,
        "remark": world.remark.id,
        "meeting": world.meeting.id,
        "version": world.vote.version,
    }
    response = post(path.format(**ids), {k: v.format(**ids) for k, v in data.items()})
    assert response.status_code == 409, response.text[:1000]
    assert LOCK_MESSAGE in response.text
    assert snapshot(db, world) == before


# --------------------------------------------------------------------------- corrections


def test_corrections_are_appended_after_their_item_in_text_and_pdf(db, world):
    go(world, MeetingState.APPROVED)
    on_item = correct(
        world,
        "Under punkt 1 stemte A imod, ikke for.",
        "Fejl i gengivelsen af afstemningen.",
        item=world.items[0],
    )
    on_whole = correct(world, "Mødet sluttede kl. 17.05.", "Sluttidspunktet manglede.")
    db.session.commit()
    assert corrections(world.meeting) == [on_item, on_whole]
    assert on_item.created_by_label == world.secretary.email

    minutes = build_minutes(world.meeting, is_public=True)
    assert minutes.items[0].corrections == [on_item]
    assert minutes.corrections == [on_whole]
    for text in (normalise(render_minutes_text(minutes)), pdf_text(render_minutes_pdf(minutes))):
        item1, item2 = text.index("1. Budget 2011"), text.index("2. Personalesag")
        original = text.index("Venstre ønsker flere midler til skolerne.")
        addendum = text.index("Under punkt 1 stemte A imod, ikke for.")
        assert item1 < original < addendum < item2, "the correction follows its item"
        assert text.index("Begrundelse: Fejl i gengivelsen af afstemningen.") > addendum
        assert "Rettelse tilføjet" in text[original:item2]
        whole = text.index("Mødet sluttede kl. 17.05.")
        assert text.index("Rettelser til protokollen") < whole
        assert whole > text.index("3. Eventuelt")


def test_corrections_only_to_approved_minutes_and_never_empty(db, world, factories):
    go(world, MeetingState.CLOSED)
    with pytest.raises(LifecycleError, match="det skal være protokol godkendt"):
        correct(world, "Noget.", "Derfor.")
    db.session.rollback()
    go(world, MeetingState.APPROVED)
    with pytest.raises(LifecycleError, match="Beskriv rettelsen"):
        correct(world, "   ", "Derfor.")
    with pytest.raises(LifecycleError, match="Begrund rettelsen"):
        correct(world, "Noget.", " ")
    elsewhere = factories.item(
        factories.meeting(
            {"A": 1}, starts_at=world.meeting.starts_at + timedelta(days=7), body=world.body
        ),
        1,
    )
    with pytest.raises(LifecycleError, match="hører ikke til mødet"):
        correct(world, "Noget.", "Derfor.", item=elsewhere)
    db.session.rollback()
    assert count(db, Correction) == 0


def test_corrections_and_frozen_pdfs_cannot_be_changed_or_deleted(db, world):
    go(world, MeetingState.PUBLISHED)
    correct(world, "Rettet.", "Fordi.", item=world.items[0])
    db.session.commit()
    correction = corrections(world.meeting)[0]
    versions = published_versions(world.meeting)
    assert [v.version for v in versions] == [2, 1]
    changes = [
        lambda: setattr(correction, "what", "Omskrevet."),
        lambda: setattr(correction, "why", "Anden grund."),
        lambda: setattr(correction, "created_by_label", "en anden"),
        lambda: db.session.delete(correction),
        lambda: setattr(versions[1], "sha256", "0" * 64),
        lambda: setattr(versions[1], "reason", "Noget andet"),
        lambda: db.session.delete(versions[0]),
    ]
    for change in changes:
        change()
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
    db.session.expire_all()
    assert [(c.what, c.why) for c in corrections(world.meeting)] == [("Rettet.", "Fordi.")]
    assert [(v.version, v.sha256) for v in published_versions(world.meeting)] == [
        (v.version, v.sha256) for v in versions
    ]


# --------------------------------------------------------------------------- publication


def _stored(world, published: PublishedMinutes) -> bytes:
    return attachment_path(world.app.config["MINUTES_DIR"], published.sha256).read_bytes()


def test_publishing_freezes_the_public_pdf_and_the_download_never_changes(
    client, db, world, monkeypatch
):
    go(world, MeetingState.PUBLISHED)
    [frozen] = published_versions(world.meeting)
    data = _stored(world, frozen)
    assert (frozen.version, frozen.reason, frozen.size) == (1, "Offentliggjort", len(data))
    assert hashlib.sha256(data).hexdigest() == frozen.sha256
    assert frozen.created_by_id == world.secretary.id
    text = pdf_text(data)
    assert "Venstre ønsker flere midler til skolerne." in text
    assert "Fortrolig oplysning" not in text  # the closed item stays closed
    assert "Protokollen er godkendt af:" in text

    url = f"/meetings/{world.meeting.id}/minutes.pdf"
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-SHA256"] == frozen.sha256
    assert response.headers["ETag"] == f'"{frozen.sha256}"'
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="beslutningsprotokol-2010-12-06-{world.meeting.id}-v1.pdf"'
    )

    # The rendering of the record changes (the body is renamed); the download does not.
    world.body.name = "Det omdøbte udvalg"
    db.session.commit()
    assert render_public_pdf(world.meeting) != data
    assert "Det omdøbte udvalg" in pdf_text(render_public_pdf(world.meeting))
    assert client.get(url).data == data

    # And it is never rendered again.
    def no_rendering(*_args, **_kwargs):
        raise AssertionError("the published PDF was rendered again")

    monkeypatch.setattr("minutes.views.render_minutes_pdf", no_rendering)
    assert client.get(url).data == data
    assert client.get(f"/meetings/{world.meeting.id}/minutes/v1.pdf").data == data


def test_the_frozen_download_answers_a_conditional_request(client, world):
    go(world, MeetingState.PUBLISHED)
    [frozen] = published_versions(world.meeting)
    response = client.get(
        f"/meetings/{world.meeting.id}/minutes.pdf", headers={"If-None-Match": f'"{frozen.sha256}"'}
    )
    assert response.status_code == 304
    assert response.data == b""


def test_a_damaged_stored_pdf_is_never_sent(client, world):
    go(world, MeetingState.PUBLISHED)
    [frozen] = published_versions(world.meeting)
    path = attachment_path(world.app.config["MINUTES_DIR"], frozen.sha256)
    path.write_bytes(b"%PDF-1.4 something else")
    for url in (
        f"/meetings/{world.meeting.id}/minutes.pdf",
        f"/meetings/{world.meeting.id}/minutes/v1.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 503
        assert "Den offentliggjorte protokol kan ikke hentes" in response.text
    path.unlink()
    assert client.get(f"/meetings/{world.meeting.id}/minutes.pdf").status_code == 503


def test_a_correction_after_publication_makes_version_2_and_version_1_stays(client, db, world):
    go(world, MeetingState.PUBLISHED)
    [first] = published_versions(world.meeting)
    first_sha, first_bytes = first.sha256, _stored(world, first)
    correct(
        world, "Under punkt 1 stemte A imod, ikke for.", "Fejl i gengivelsen.", item=world.items[0]
    )
    db.session.commit()
    second, again = published_versions(world.meeting)
    assert (again.version, again.sha256) == (1, first_sha)
    assert second.version == 2
    assert second.reason == "Rettelse 1: Under punkt 1 stemte A imod, ikke for."
    assert second.sha256 != first_sha
    assert world.meeting.state == MeetingState.PUBLISHED

    base = f"/meetings/{world.meeting.id}"
    latest = client.get(f"{base}/minutes.pdf")
    assert latest.headers["X-Content-SHA256"] == second.sha256
    assert hashlib.sha256(latest.data).hexdigest() == second.sha256
    assert "Under punkt 1 stemte A imod, ikke for." in pdf_text(latest.data)
    assert "Cache-Control" in latest.headers and "immutable" not in latest.headers["Cache-Control"]

    old = client.get(f"{base}/minutes/v1.pdf")
    assert old.status_code == 200
    assert old.data == first_bytes
    assert old.headers["X-Content-SHA256"] == first_sha
    assert "immutable" in old.headers["Cache-Control"]
    assert "-v1.pdf" in old.headers["Content-Disposition"]
    assert "Under punkt 1 stemte A imod" not in pdf_text(old.data)
    assert client.get(f"{base}/minutes/v2.pdf").data == latest.data
    for missing in ("v3", "v0"):
        assert client.get(f"{base}/minutes/{missing}.pdf").status_code == 404
    assert client.get("/meetings/999999/minutes/v1.pdf").status_code == 404

    page = client.get(base).text
    assert second.sha256 in page and first_sha in page
    assert f"{base}/minutes/v1.pdf" in page


def test_an_unpublished_meeting_is_rendered_live_without_a_checksum(client, db, world, login):
    go(world, MeetingState.APPROVED)
    assert client.get(f"/meetings/{world.meeting.id}/minutes.pdf").status_code == 404
    login(world.secretary)  # the draft, for the people who work on the meeting
    response = client.get(f"/meetings/{world.meeting.id}/minutes.pdf")
    assert response.status_code == 200
    assert "X-Content-SHA256" not in response.headers
    assert client.get(f"/meetings/{world.meeting.id}/minutes/v1.pdf").status_code == 404
    assert "SHA-256" not in client.get(f"/meetings/{world.meeting.id}").text


def test_the_public_page_shows_the_checksum(client, db, world):
    go(world, MeetingState.PUBLISHED)
    [frozen] = published_versions(world.meeting)
    page = client.get(f"/meetings/{world.meeting.id}").text
    assert "Offentliggjort beslutningsprotokol" in page
    assert f'<code class="checksum" id="sha256">{frozen.sha256}</code>' in page
    assert "Protokollens forløb" not in page  # the secretary's link is not for the public


def test_the_item_pdf_of_a_published_meeting_is_the_frozen_one(client, world, monkeypatch):
    go(world, MeetingState.PUBLISHED)
    [frozen] = [
        f
        for f in _db.session.scalars(sa.select(PublishedItemMinutes))
        if f.item_id == world.items[0].id
    ]
    monkeypatch.setattr("minutes.views.render_minutes_pdf", None)  # never rendered again
    response = client.get(f"/meetings/{world.meeting.id}/items/1/minutes.pdf")
    assert response.status_code == 200
    assert response.headers["X-Content-SHA256"] == frozen.sha256
    assert hashlib.sha256(response.data).hexdigest() == frozen.sha256
    assert "Budget 2011" in pdf_text(response.data)


def test_the_item_pdf_of_minutes_published_without_item_pdfs_is_rendered(client, db, world):
    go(world, MeetingState.APPROVED)
    do_publish(world)  # as before item PDFs were frozen
    db.session.commit()
    response = client.get(f"/meetings/{world.meeting.id}/items/1/minutes.pdf")
    assert response.status_code == 200
    assert "X-Content-SHA256" not in response.headers
    assert "Budget 2011" in pdf_text(response.data)


def test_publication_that_cannot_store_the_pdf_changes_nothing(db, world, tmp_path):
    go(world, MeetingState.APPROVED)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("x")
    with pytest.raises(OSError):
        publish(
            world.meeting,
            actor=world.secretary,
            minutes_dir=str(blocked),
            render_pdf=render_public_pdf,
        )
    db.session.rollback()
    assert db.session.get(Meeting, world.meeting.id).state == MeetingState.APPROVED
    assert count(db, PublishedMinutes) == 0
