"""Members' protocol remarks and the secretary's review, as services: who may file what
and when, joint remarks that count only once confirmed, the § 13, stk. 2 warnings,
accepting (with "optag alligevel"), returning, typography edits, order, and the lock on
approved minutes."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from meetings.locking import RecordLocked
from meetings.models import MeetingState
from minutes.context import build_decision
from minutes.models import Notification, ProtocolRemark, RemarkKind, RemarkStatus
from minutes.services import (
    LAW_NOTE,
    RemarkError,
    accept_remark,
    add_remark,
    confirm_co_party,
    delete_remark,
    edit_remark_typography,
    file_remark,
    member_parties,
    move_remark,
    remark_warnings,
    return_remark,
    update_remark_text,
)
from minutes.styles import load_style
from protokol.audit import AuditAction, AuditEntry

#: A vote on item 1 in which V, O and C (3) lose to A, B, F and Ø (6).
MAJORITY_FOR = {"A": "for", "B": "for", "F": "for", "Ø": "for",
                "V": "against", "O": "against", "C": "against"}  # fmt: skip


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def meeting(factories, db):
    """A held meeting of the seed's committee (A 3 seats; B F Ø V O C one each) with a
    løsgænger; "Ø 1" was absent."""
    meeting = factories.meeting(
        {"A": 3, "B": 1, "F": 1, "Ø": 1, "V": 1, "O": 1, "C": 1, None: 1},
        absent=("Ø 1",),
        state=MeetingState.CLOSED,
    )
    db.session.commit()
    return meeting


@pytest.fixture
def item(factories, meeting, db):
    item = factories.item(meeting, 1, title="Integrationspolitik")
    db.session.commit()
    return item


@pytest.fixture
def members(factories, meeting):
    return factories.members


@pytest.fixture
def users(make_user, members):
    """Member users for A 1, B 1, F 1, V 1 and the løsgænger."""
    return {
        name: make_user("member", member=members[name])
        for name in ("A 1", "B 1", "F 1", "V 1", "Løsgænger 1")
    }


@pytest.fixture
def secretary(make_user, meeting):
    return make_user("secretary", bodies=[meeting.body])


@pytest.fixture
def style():
    return load_style("kbh-udvalg-2010")


def vote(factories, item, parties, kind=None):
    from motions.models import MotionKind

    motion = factories.motion(item, kind or MotionKind.AMENDMENT, party="V")
    with factories.session.no_autoflush:
        return factories.vote(motion, parties=parties)


def minutes_text(item, style) -> str:
    from protokol.extensions import db

    db.session.expire_all()
    decision = build_decision(item, style)
    return decision.as_text() if decision else ""


def notifications(db, user) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Notification.text)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
    )


def party(factories, letter):
    return factories.party(letter)


# --------------------------------------------------------------------------- filing


def test_member_files_a_party_remark_for_the_secretary(db, item, members, users, style):
    remark = file_remark(
        item, members["A 1"], RemarkKind.PARTY, "  A er imod.\r\n\r\nPunktum. ", actor=users["A 1"]
    )
    db.session.commit()
    assert remark.status == RemarkStatus.SUBMITTED
    assert remark.party.letter == "A"
    assert remark.member == members["A 1"]
    assert remark.filed_by_id == users["A 1"].id
    assert remark.text == "A er imod.\n\nPunktum."
    # Not in the minutes before the secretary accepts it.
    assert "protokolbemærkning" not in minutes_text(item, style)


def test_member_parties_is_the_seat_party_and_empty_for_a_lsgaenger(meeting, members):
    assert [p.letter for p in member_parties(members["A 2"], meeting.body_id, meeting.date)] == [
        "A"
    ]
    assert member_parties(members["Løsgænger 1"], meeting.body_id, meeting.date) == []


def test_the_law_note_cites_section_13(db):
    assert "§ 13, stk. 2" in LAW_NOTE


def test_filing_after_the_deadline_is_refused(db, item, members, users):
    item.meeting.remarks_deadline_at = datetime(2010, 12, 8, 12, 0)
    db.session.commit()
    before = file_remark(
        item,
        members["A 1"],
        RemarkKind.PARTY,
        "I tide.",
        actor=users["A 1"],
        now=datetime(2010, 12, 8, 12, 0),
    )
    assert before.status == RemarkStatus.SUBMITTED
    with pytest.raises(RemarkError, match=r"Fristen for protokolbemærkninger udløb 08\.12\.2010"):
        file_remark(
            item,
            members["A 1"],
            RemarkKind.PARTY,
            "For sent.",
            actor=users["A 1"],
            now=datetime(2010, 12, 8, 12, 1),
        )


def test_only_a_member_who_attended_the_item_can_file(
    db, factories, item, members, users, make_user
):
    absent = make_user("member", member=members["Ø 1"])
    with pytest.raises(RemarkError, match="punkter, du deltog i"):
        file_remark(item, members["Ø 1"], RemarkKind.PARTY, "Tekst.", actor=absent)
    factories.absent_for_item(item, "B 1")
    with pytest.raises(RemarkError, match="punkter, du deltog i"):
        file_remark(item, members["B 1"], RemarkKind.PARTY, "Tekst.", actor=users["B 1"])


def test_remarks_can_only_be_filed_on_a_held_meeting(db, factories, members, users):
    planned = factories.meeting(
        body=members["A 1"].seats[0].body,
        starts_at=datetime(2011, 1, 10, 15, 30),
        state=MeetingState.PLANNED,
    )
    item = factories.item(planned)
    with pytest.raises(RemarkError, match="møde, der er holdt"):
        file_remark(item, members["A 1"], RemarkKind.PARTY, "Tekst.", actor=users["A 1"])


def test_a_loesgaenger_can_only_file_a_personal_remark(db, item, members, users, factories):
    independent = members["Løsgænger 1"]
    for kind in (RemarkKind.PARTY, RemarkKind.JOINT):
        with pytest.raises(RemarkError, match="løsgænger kan du kun indgive en personlig"):
            file_remark(
                item,
                independent,
                kind,
                "Tekst.",
                actor=users["Løsgænger 1"],
                co_parties=[party(factories, "B")],
            )
    remark = file_remark(
        item, independent, RemarkKind.PERSONAL, "Jeg er imod.", actor=users["Løsgænger 1"]
    )
    assert remark.party is None and remark.member == independent


def test_empty_and_overlong_texts_are_refused(db, item, members, users):
    with pytest.raises(RemarkError, match="Skriv bemærkningens tekst"):
        file_remark(item, members["A 1"], RemarkKind.PARTY, " \r\n ", actor=users["A 1"])
    with pytest.raises(RemarkError, match="for lang"):
        file_remark(item, members["A 1"], RemarkKind.PARTY, "x" * 20_001, actor=users["A 1"])


def test_a_joint_remark_needs_another_party(db, item, members, users, factories):
    with pytest.raises(RemarkError, match="mindst ét parti mere"):
        file_remark(
            item,
            members["A 1"],
            RemarkKind.JOINT,
            "Tekst.",
            actor=users["A 1"],
            co_parties=[party(factories, "A")],
        )


# --------------------------------------------------------------------------- joint remarks


def test_a_joint_remark_lists_only_the_co_parties_that_confirmed(
    db, item, members, users, secretary, factories, style
):
    remark = file_remark(
        item,
        members["A 1"],
        RemarkKind.JOINT,
        "Vi er imod.",
        actor=users["A 1"],
        co_parties=[party(factories, "F"), party(factories, "B")],
    )
    db.session.commit()
    assert [(cp.party.letter, cp.is_confirmed) for cp in remark.co_parties] == [
        ("F", False),
        ("B", False),
    ]
    with pytest.raises(RemarkError, match="ikke bekræftet den fælles bemærkning: F, B"):
        accept_remark(remark, actor=secretary)
    db.session.rollback()

    confirm_co_party(remark, members["B 1"], actor=users["B 1"])
    db.session.commit()
    entry = next(cp for cp in remark.co_parties if cp.party.letter == "B")
    assert entry.is_confirmed and entry.confirmed_by_id == users["B 1"].id
    assert entry.confirmed_at is not None

    accept_remark(remark, actor=secretary, override=True)
    db.session.commit()
    assert "Ikke bekræftet af: F." in remark.overridden_warnings
    text = minutes_text(item, style)
    assert "Der var følgende fælles protokolbemærkning fra A og B:\n\nVi er imod." in text

    confirm_co_party(remark, members["F 1"], actor=users["F 1"])
    db.session.commit()
    assert "fælles protokolbemærkning fra A, B og F:" in minutes_text(item, style)


def test_only_a_member_of_a_co_party_can_confirm(db, item, members, users, factories):
    remark = file_remark(
        item,
        members["A 1"],
        RemarkKind.JOINT,
        "Tekst.",
        actor=users["A 1"],
        co_parties=[party(factories, "B")],
    )
    for name in ("V 1", "A 2", "Løsgænger 1"):
        with pytest.raises(RemarkError, match="Dit parti er ikke med"):
            confirm_co_party(remark, members[name], actor=None)
    confirm_co_party(remark, members["B 1"], actor=users["B 1"])
    confirm_co_party(remark, members["B 1"], actor=users["B 1"])  # twice is harmless
    assert remark.co_parties[0].is_confirmed


def test_a_co_party_named_twice_is_recorded_once(db, item, members, users, factories):
    b = party(factories, "B")
    remark = file_remark(
        item,
        members["A 1"],
        RemarkKind.JOINT,
        "Tekst.",
        actor=users["A 1"],
        co_parties=[b, b, party(factories, "A")],
    )
    db.session.commit()
    assert [cp.party.letter for cp in remark.co_parties] == ["B"]


# --------------------------------------------------------------------------- warnings


def test_no_warning_for_a_party_in_the_minority(db, factories, item, members, users):
    vote(factories, item, MAJORITY_FOR)
    remark = file_remark(item, members["V 1"], RemarkKind.PARTY, "V er imod.", actor=users["V 1"])
    assert remark_warnings(remark) == []


def test_warning_when_the_party_voted_with_the_majority(db, factories, item, members, users):
    vote(factories, item, MAJORITY_FOR)
    remark = file_remark(item, members["A 1"], RemarkKind.PARTY, "A er for.", actor=users["A 1"])
    assert remark_warnings(remark) == ["A stemte med flertallet ved afstemningen om forslag 1."]


def test_warning_when_the_party_abstained(db, factories, item, members, users):
    vote(factories, item, {**MAJORITY_FOR, "B": "abstain"})
    remark = file_remark(item, members["B 1"], RemarkKind.PARTY, "B undlod.", actor=users["B 1"])
    (warning,) = remark_warnings(remark)
    assert warning.startswith("B undlod at stemme ved afstemningen om forslag 1")


def test_warning_when_a_party_did_not_attend(db, factories, item, members, users):
    """Ø's only member was absent; the secretary recorded Ø's remark anyway."""
    remark = add_remark(
        item,
        RemarkKind.PARTY,
        "Ø er imod.",
        actor=None,
        party=party(factories, "Ø"),
        status=RemarkStatus.SUBMITTED,
    )
    assert remark_warnings(remark) == ["Ø var ikke til stede ved punktet."]


def test_warnings_for_a_confirmed_co_party_count(db, factories, item, members, users):
    vote(factories, item, MAJORITY_FOR)
    remark = file_remark(
        item,
        members["V 1"],
        RemarkKind.JOINT,
        "Vi er imod.",
        actor=users["V 1"],
        co_parties=[party(factories, "A")],
    )
    assert remark_warnings(remark) == []  # A has not confirmed: it does not count yet
    confirm_co_party(remark, members["A 1"], actor=users["A 1"])
    assert remark_warnings(remark) == ["A stemte med flertallet ved afstemningen om forslag 1."]


def test_personal_remark_warnings_follow_the_members_own_vote(db, factories, item, members, users):
    vote(factories, item, MAJORITY_FOR)
    remark = file_remark(
        item, members["A 1"], RemarkKind.PERSONAL, "Jeg er for.", actor=users["A 1"]
    )
    assert remark_warnings(remark) == ["A 1 stemte med flertallet ved afstemningen om forslag 1."]
    minority = file_remark(
        item, members["V 1"], RemarkKind.PERSONAL, "Jeg er imod.", actor=users["V 1"]
    )
    assert remark_warnings(minority) == []


def test_personal_remark_of_an_absent_member_is_warned_about(db, factories, item, members):
    remark = add_remark(
        item,
        RemarkKind.PERSONAL,
        "Tekst.",
        actor=None,
        member=members["Ø 1"],
        status=RemarkStatus.SUBMITTED,
    )
    assert remark_warnings(remark) == ["Ø 1 var ikke til stede ved punktet."]


# --------------------------------------------------------------------------- decisions


def test_accept_refuses_without_override_when_there_are_warnings(
    db, factories, item, members, users, secretary, style
):
    vote(factories, item, MAJORITY_FOR)
    remark = file_remark(item, members["A 1"], RemarkKind.PARTY, "A er for.", actor=users["A 1"])
    db.session.commit()
    with pytest.raises(RemarkError, match="optag alligevel"):
        accept_remark(remark, actor=secretary)
    db.session.rollback()
    assert remark.status == RemarkStatus.SUBMITTED

    accept_remark(remark, actor=secretary, override=True)
    db.session.commit()
    assert remark.status == RemarkStatus.ACCEPTED
    assert remark.overridden_warnings == "A stemte med flertallet ved afstemningen om forslag 1."
    assert remark.decided_by_id == secretary.id and remark.decided_at is not None
    assert notifications(db, users["A 1"]) == ["Din protokolbemærkning til punkt 1 er optaget."]
    assert "Der var følgende protokolbemærkning fra A:\n\nA er for." in minutes_text(item, style)


def test_accept_without_warnings_records_no_override(
    db, factories, item, members, users, secretary
):
    vote(factories, item, MAJORITY_FOR)
    remark = file_remark(item, members["V 1"], RemarkKind.PARTY, "V er imod.", actor=users["V 1"])
    accept_remark(remark, actor=secretary, override=True)
    assert remark.status == RemarkStatus.ACCEPTED
    assert remark.overridden_warnings == ""


def test_return_needs_a_comment_and_tells_the_member(db, item, members, users, secretary, style):
    remark = file_remark(item, members["A 1"], RemarkKind.PARTY, "A er imod.", actor=users["A 1"])
    db.session.commit()
    with pytest.raises(RemarkError, match="Skriv en kommentar"):
        return_remark(remark, "  ", actor=secretary)
    return_remark(remark, "Gør den kortere.", actor=secretary)
    db.session.commit()
    assert remark.status == RemarkStatus.RETURNED
    assert remark.return_comment == "Gør den kortere."
    assert notifications(db, users["A 1"]) == [
        "Din protokolbemærkning til punkt 1 er sendt retur: Gør den kortere."
    ]
    assert "A er imod." not in minutes_text(item, style)


def test_typography_edit_is_audited_and_tells_the_filer(db, item, members, users, secretary):
    remark = file_remark(
        item, members["A 1"], RemarkKind.PARTY, "A er imod , fordi", actor=users["A 1"]
    )
    db.session.commit()
    edit_remark_typography(remark, "A er imod, fordi", actor=secretary)
    db.session.commit()
    assert remark.text == "A er imod, fordi"
    assert notifications(db, users["A 1"]) == [
        "Sekretæren har rettet typografien i din protokolbemærkning til punkt 1."
    ]
    entry = db.session.scalars(
        sa.select(AuditEntry).where(
            AuditEntry.entity == "protocol_remarks",
            AuditEntry.entity_id == remark.id,
            AuditEntry.action == AuditAction.UPDATE,
        )
    ).one()
    assert entry.before == {"text": "A er imod , fordi"}
    assert entry.after == {"text": "A er imod, fordi"}
    assert entry.item_id == item.id

    edit_remark_typography(remark, "A er imod, fordi", actor=secretary)  # unchanged
    db.session.commit()
    assert len(notifications(db, users["A 1"])) == 1


def test_accepted_remarks_appear_in_their_order(
    db, factories, item, members, users, secretary, style
):
    first = file_remark(item, members["V 1"], RemarkKind.PARTY, "Første.", actor=users["V 1"])
    second = file_remark(item, members["B 1"], RemarkKind.PARTY, "Anden.", actor=users["B 1"])
    for remark in (first, second):
        accept_remark(remark, actor=secretary)
    db.session.commit()
    text = minutes_text(item, style)
    assert text.index("Første.") < text.index("Anden.")
    move_remark(second, -1, actor=secretary)
    db.session.commit()
    text = minutes_text(item, style)
    assert text.index("Anden.") < text.index("Første.")
    move_remark(second, -1, actor=secretary)  # already first: nothing happens
    assert (second.position, first.position) == (0, 1)


# --------------------------------------------------------------------------- the lock


def test_an_approved_meeting_refuses_every_remark_change(
    db, factories, item, members, users, secretary
):
    joint = file_remark(
        item,
        members["A 1"],
        RemarkKind.JOINT,
        "Tekst.",
        actor=users["A 1"],
        co_parties=[party(factories, "B")],
    )
    other = file_remark(item, members["V 1"], RemarkKind.PARTY, "Tekst.", actor=users["V 1"])
    item.meeting.state = MeetingState.APPROVED
    db.session.commit()

    attempts = {
        "file": lambda: file_remark(
            item, members["A 1"], RemarkKind.PARTY, "Ny.", actor=users["A 1"]
        ),
        "add": lambda: add_remark(
            item, RemarkKind.PARTY, "Ny.", actor=secretary, party=party(factories, "A")
        ),
        "confirm": lambda: confirm_co_party(joint, members["B 1"], actor=users["B 1"]),
        "accept": lambda: accept_remark(other, actor=secretary, override=True),
        "return": lambda: return_remark(other, "Nej.", actor=secretary),
        "typography": lambda: edit_remark_typography(other, "Rettet.", actor=secretary),
        "text": lambda: update_remark_text(other, "Rettet.", actor=secretary),
        "move": lambda: move_remark(other, -1, actor=secretary),
        "delete": lambda: delete_remark(other, actor=secretary),
    }
    for name, attempt in attempts.items():
        with pytest.raises(RecordLocked):
            attempt()
        db.session.rollback()
        assert other.status == RemarkStatus.SUBMITTED, name
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProtocolRemark)) == 2
    assert not joint.co_parties[0].is_confirmed


def test_overridden_warnings_are_recorded_in_danish_whatever_the_readers_language(
    app, db, factories, item, members, users, secretary
):
    from flask_babel import force_locale

    vote(factories, item, MAJORITY_FOR)
    remark = file_remark(item, members["A 1"], RemarkKind.PARTY, "A er for.", actor=users["A 1"])
    db.session.commit()
    with app.test_request_context("/?lang=en"), force_locale("en"):
        with pytest.raises(RemarkError, match="anyway") as refused:
            accept_remark(remark, actor=secretary)
        assert "voted with the majority" in str(refused.value)
        db.session.rollback()
        accept_remark(remark, actor=secretary, override=True)
        db.session.commit()
    assert remark.overridden_warnings == "A stemte med flertallet ved afstemningen om forslag 1."
