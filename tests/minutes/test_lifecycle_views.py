"""The lifecycle pages through HTTP: who may see and use the secretary's page (admin and
the body's secretaries; not another body's secretary, not a member, not the public),
each step with its confirmation and its refusals (a Danish message and a 4xx, nothing
changed), corrections and published versions; and the members' approval page, only for
members who attended."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from meetings.models import ApprovalRule, ItemPresence, MeetingState, SeatRole
from minutes.lifecycle import approve_minutes, close_approval, close_meeting, start_meeting
from minutes.models import (
    ApprovalDecision,
    Correction,
    MinutesApproval,
    PublishedMinutes,
    RemarkKind,
)
from minutes.services import file_remark
from motions.models import MotionKind
from protokol.audit import AuditEntry, set_actor

ATTENDING = ("A 1", "A 2", "V 1")


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    """A fast argon2 setting for the test users (the default takes half a second)."""
    from argon2 import PasswordHasher

    from protokol.accounts import services as account_services

    monkeypatch.setattr(
        account_services, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def r(db, factories, make_user):
    """A planned meeting (A 1 chair; C 1 absent) with item 1 (a closed vote), item 2
    closed (lukket punkt, A 2 inhabil), and users: admin, the body's secretary, another
    body's secretary, members who attended, a member who did not, another body's member."""
    meeting = factories.meeting(
        {"A": 2, "V": 1, "C": 1}, order="A V C", absent=("C 1",), state=MeetingState.PLANNED
    )
    members = factories.members
    members["A 1"].seats[0].role = SeatRole.CHAIR
    item = factories.item(meeting, 1, title="Budget 2011")
    factories.vote(
        factories.motion(item, MotionKind.AMENDMENT, party="V", text="Flere midler til skolerne."),
        {"A": "against"},
    )
    factories.decision(item, "approved")
    closed = factories.item(
        meeting, 2, title="Personalesag", is_closed=True, summary="Fortrolig oplysning om en ansat."
    )
    factories.absent_for_item(closed, "A 2", ItemPresence.DISQUALIFIED)
    other_body = factories.body("Andetudvalget", order="A")
    stranger = factories.member(other_body, "Fremmed", "A")
    db.session.commit()
    return SimpleNamespace(
        meeting=meeting,
        body=meeting.body,
        item=item,
        closed=closed,
        members=members,
        admin=make_user("admin"),
        secretary=make_user("secretary", bodies=[meeting.body]),
        other_secretary=make_user("secretary", bodies=[other_body]),
        a1=make_user("member", member=members["A 1"]),
        a2=make_user("member", member=members["A 2"]),
        v1=make_user("member", member=members["V 1"]),
        c1=make_user("member", member=members["C 1"]),
        stranger=make_user("member", member=stranger),
    )


def page_url(r) -> str:
    return f"/manage/meetings/{r.meeting.id}/lifecycle"


def approve_url(r) -> str:
    return f"/manage/meetings/{r.meeting.id}/approve"


def step_url(r, step: str) -> str:
    return f"{page_url(r)}/{step}"


def to_state(db, r, state: MeetingState) -> None:
    """Move the meeting forward through the services (approvals by every attendee)."""
    if r.meeting.state == MeetingState.PLANNED:
        start_meeting(r.meeting, actor=r.secretary)
    if state in (MeetingState.CLOSED, MeetingState.APPROVED):
        close_meeting(r.meeting, actor=r.secretary)
    if state == MeetingState.APPROVED:
        for name in ATTENDING:
            approve_minutes(r.meeting, r.members[name], actor=r.secretary)
        close_approval(r.meeting, actor=r.secretary)
    db.session.commit()


def state_of(db, r) -> MeetingState:
    db.session.expire_all()
    return r.meeting.state


# --------------------------------------------------------------------------- who may see


@pytest.mark.parametrize("role", ["admin", "secretary"])
def test_the_page_opens_for_admin_and_the_body_secretary(client, login, r, role):
    login(getattr(r, role))
    response = client.get(page_url(r))
    assert response.status_code == 200
    assert "Status: <span" in response.text and "Planlagt" in response.text
    assert "Næste trin: Start mødet" in response.text
    assert 'name="csrf_token"' in response.text


@pytest.mark.parametrize("role", ["other_secretary", "a1", "stranger"])
def test_the_page_refuses_another_body_secretary_and_members(client, login, r, role):
    login(getattr(r, role))
    assert client.get(page_url(r)).status_code == 403


def test_the_page_sends_the_public_to_the_login(client, r):
    response = client.get(page_url(r))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


STEP_POSTS = ["start", "close", "close-approval", "publish"]


@pytest.mark.parametrize("role", ["other_secretary", "a1", None])
@pytest.mark.parametrize("step", [*STEP_POSTS, "corrections"])
def test_the_steps_refuse_everyone_else_and_change_nothing(client, db, login, post, r, role, step):
    if role:
        login(getattr(r, role))
    before = count(db, AuditEntry)
    url = (
        f"/manage/meetings/{r.meeting.id}/corrections"
        if step == "corrections"
        else step_url(r, step)
    )
    response = post(
        url,
        {
            "step-confirm": "y",
            "correction-what": "x",
            "correction-why": "y",
            "correction-confirm": "y",
        },
    )
    if role is None:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    else:
        assert response.status_code == 403
    assert state_of(db, r) == MeetingState.PLANNED
    assert count(db, AuditEntry) == before


def test_a_step_without_the_csrf_token_changes_nothing(client, db, login, r):
    login(r.secretary)
    response = client.post(step_url(r, "start"), data={"step-confirm": "y"})
    assert response.status_code == 400
    assert state_of(db, r) == MeetingState.PLANNED


# --------------------------------------------------------------------------- the steps


def test_the_secretary_takes_every_step_and_the_members_approve(client, db, login, post, r):
    login(r.secretary)
    response = post(step_url(r, "start"), {"step-confirm": "y"}, token_page=page_url(r))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(page_url(r))
    assert state_of(db, r) == MeetingState.IN_SESSION
    assert "Mødet er i gang." in client.get(page_url(r)).text

    assert post(step_url(r, "close"), {"step-confirm": "y"}).status_code == 303
    assert state_of(db, r) == MeetingState.CLOSED
    html = client.get(page_url(r)).text
    assert "Godkendelse mangler fra A 1." in html
    assert "Godkendelse mangler fra V 1." in html
    assert "C 1" not in html.split('id="approvals"')[1]  # absent: not asked

    for user in (r.a1, r.a2, r.v1):
        client.post("/logout", data={"csrf_token": ""})
        login(user)
        response = post(approve_url(r), {"decision": "approved"}, token_page=approve_url(r))
        assert response.status_code == 303, response.text[:500]
        assert "Din godkendelse er registreret." in client.get(approve_url(r)).text
    approvals = db.session.scalars(sa.select(MinutesApproval)).all()
    assert {(a.member.name, a.user_id) for a in approvals} == {
        ("A 1", r.a1.id),
        ("A 2", r.a2.id),
        ("V 1", r.v1.id),
    }

    login(r.secretary)
    html = client.get(page_url(r)).text
    assert 'id="ready"' in html
    assert post(step_url(r, "close-approval"), {"step-confirm": "y"}).status_code == 303
    assert state_of(db, r) == MeetingState.APPROVED
    html = client.get(page_url(r)).text
    assert "protokollen er godkendt og kan ikke ændres" in html
    assert "Tilføj en rettelse" in html

    assert post(step_url(r, "publish"), {"step-confirm": "y"}).status_code == 303
    assert state_of(db, r) == MeetingState.PUBLISHED
    [published] = db.session.scalars(sa.select(PublishedMinutes)).all()
    html = client.get(page_url(r)).text
    assert published.sha256 in html
    assert f"/meetings/{r.meeting.id}/minutes/v1.pdf" in html
    assert "Protokollen er offentliggjort" in html
    history = html.split('id="forloeb"')[1]
    assert history.count(r.secretary.email) == 4
    download = client.get(f"/meetings/{r.meeting.id}/minutes.pdf")
    assert hashlib.sha256(download.data).hexdigest() == published.sha256


def test_a_step_needs_the_confirmation(client, db, login, post, r):
    login(r.secretary)
    response = post(step_url(r, "start"), {})
    assert response.status_code == 400
    assert "Sæt kryds for at bekræfte" in response.text
    assert state_of(db, r) == MeetingState.PLANNED


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("close", "Mødet er planlagt; det skal være i gang."),
        ("close-approval", "Mødet er planlagt; det skal være afsluttet."),
        ("publish", "Mødet er planlagt; det skal være protokol godkendt."),
    ],
)
def test_a_step_out_of_turn_is_409(client, db, login, post, r, step, message):
    login(r.secretary)
    response = post(step_url(r, step), {"step-confirm": "y"})
    assert response.status_code == 409
    assert message in response.text
    assert state_of(db, r) == MeetingState.PLANNED


def test_publishing_twice_is_refused(client, db, login, post, r):
    to_state(db, r, MeetingState.APPROVED)
    login(r.secretary)
    assert post(step_url(r, "publish"), {"step-confirm": "y"}).status_code == 303
    response = post(step_url(r, "publish"), {"step-confirm": "y"})
    assert response.status_code == 409
    assert "Mødet er offentliggjort; det skal være protokol godkendt." in response.text
    assert count(db, PublishedMinutes) == 1


def test_an_open_vote_is_shown_and_blocks_closing(client, db, login, post, r, factories):
    to_state(db, r, MeetingState.IN_SESSION)
    motion = factories.motion(r.item, MotionKind.AMENDMENT, party="A", text="Forslag.")
    factories.vote(motion, is_open=True)
    db.session.commit()
    login(r.secretary)
    html = client.get(page_url(r)).text
    assert "Åben afstemning: punkt 1, forslag 2." in html
    assert f'href="/console/items/{r.item.id}#motion-{motion.id}"' in html
    assert "disabled" in html.split('id="naeste"')[1].split("</section>")[0]
    response = post(step_url(r, "close"), {"step-confirm": "y"})
    assert response.status_code == 409
    assert "Der er stadig åbne afstemninger (punkt 1)" in response.text
    assert state_of(db, r) == MeetingState.IN_SESSION


def test_missing_approvals_and_undecided_remarks_block_the_approval(client, db, login, post, r):
    to_state(db, r, MeetingState.IN_SESSION)
    file_remark(
        r.item, r.members["V 1"], RemarkKind.PARTY, "Venstre ønsker flere midler.", actor=r.v1
    )
    to_state(db, r, MeetingState.CLOSED)
    approve_minutes(r.meeting, r.members["A 1"], actor=r.a1, reservation="Et forbehold.")
    db.session.commit()
    login(r.secretary)
    html = client.get(page_url(r)).text
    assert "Protokolbemærkning fra V til punkt 1 venter på afgørelse" in html
    assert "Godkendelse mangler fra A 2." in html
    assert "Godkendt med forbehold" in html and "Et forbehold." in html
    response = post(step_url(r, "close-approval"), {"step-confirm": "y"})
    assert response.status_code == 409
    assert "1 protokolbemærkning(er) venter på afgørelse" in response.text
    assert state_of(db, r) == MeetingState.CLOSED


def test_a_changed_record_marks_earlier_approvals(client, db, login, r, factories):
    to_state(db, r, MeetingState.CLOSED)
    approve_minutes(r.meeting, r.members["A 1"], actor=r.a1)
    db.session.commit()
    login(r.secretary)
    assert "Protokollen er ændret siden" not in client.get(page_url(r)).text
    set_actor(db.session, r.secretary)
    r.item.title = "Budget 2011 (rettet titel)"
    db.session.commit()
    assert "Protokollen er ændret siden" in client.get(page_url(r)).text


# --------------------------------------------------------------------------- corrections


def test_a_correction_on_published_minutes_makes_a_new_version(client, db, login, post, r):
    to_state(db, r, MeetingState.APPROVED)
    login(r.secretary)
    assert post(step_url(r, "publish"), {"step-confirm": "y"}).status_code == 303
    response = post(
        f"/manage/meetings/{r.meeting.id}/corrections",
        {
            "correction-item": str(r.item.id),
            "correction-what": "Under punkt 1 stemte A imod.",
            "correction-why": "Fejl i gengivelsen.",
            "correction-confirm": "y",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#rettelser")
    [correction] = db.session.scalars(sa.select(Correction)).all()
    assert (correction.item_id, correction.created_by_id) == (r.item.id, r.secretary.id)
    html = client.get(page_url(r)).text
    assert "En ny udgave af den offentliggjorte protokol er gemt" in html
    assert "Under punkt 1 stemte A imod." in html and "Begrundelse: Fejl i gengivelsen." in html
    versions = db.session.scalars(
        sa.select(PublishedMinutes).order_by(PublishedMinutes.version)
    ).all()
    assert [v.version for v in versions] == [1, 2]
    for v in versions:
        assert v.sha256 in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"correction-what": "", "correction-why": "Fordi.", "correction-confirm": "y"},
            "Beskriv rettelsen.",
        ),
        (
            {"correction-what": "Rettet.", "correction-why": "  ", "correction-confirm": "y"},
            "Begrund rettelsen.",
        ),
        (
            {"correction-what": "Rettet.", "correction-why": "Fordi."},
            "Sæt kryds for at bekræfte, at rettelsen skal tilføjes.",
        ),
        (
            {
                "correction-item": "999999",
                "correction-what": "Rettet.",
                "correction-why": "Fordi.",
                "correction-confirm": "y",
            },
            "Vælg en af mulighederne på listen.",
        ),
    ],
)
def test_an_invalid_correction_is_400(client, db, login, post, r, data, message):
    to_state(db, r, MeetingState.APPROVED)
    login(r.secretary)
    response = post(f"/manage/meetings/{r.meeting.id}/corrections", data)
    assert response.status_code == 400
    assert message in response.text
    assert count(db, Correction) == 0


def test_a_correction_before_approval_is_409(client, db, login, post, r):
    to_state(db, r, MeetingState.CLOSED)
    login(r.secretary)
    assert "Tilføj en rettelse" not in client.get(page_url(r)).text
    response = post(
        f"/manage/meetings/{r.meeting.id}/corrections",
        {"correction-what": "Rettet.", "correction-why": "Fordi.", "correction-confirm": "y"},
    )
    assert response.status_code == 409
    assert "det skal være protokol godkendt eller offentliggjort" in response.text
    assert count(db, Correction) == 0


# --------------------------------------------------------------------------- member approval


@pytest.mark.parametrize("role", ["a1", "a2", "v1"])
def test_the_approval_page_opens_for_members_who_attended(client, db, login, r, role):
    to_state(db, r, MeetingState.CLOSED)
    login(getattr(r, role))
    response = client.get(approve_url(r))
    assert response.status_code == 200
    assert "Afgiv godkendelse" in response.text
    assert "Flere midler til skolerne." in response.text  # the minutes to read


@pytest.mark.parametrize("role", ["c1", "stranger", "secretary", "admin"])
def test_the_approval_page_refuses_everyone_else(client, db, login, post, r, role):
    to_state(db, r, MeetingState.CLOSED)
    login(getattr(r, role))
    assert client.get(approve_url(r)).status_code == 403
    assert post(approve_url(r), {"decision": "approved"}).status_code == 403
    assert count(db, MinutesApproval) == 0


def test_the_approval_page_sends_the_public_to_the_login(client, db, post, r):
    to_state(db, r, MeetingState.CLOSED)
    for response in (client.get(approve_url(r)), post(approve_url(r), {"decision": "approved"})):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_a_closed_item_is_shown_only_to_members_who_took_part(client, db, login, r):
    to_state(db, r, MeetingState.CLOSED)
    login(r.a1)
    assert "Fortrolig oplysning om en ansat." in client.get(approve_url(r)).text
    client.post("/logout", data={"csrf_token": ""})
    login(r.a2)  # inhabil for the closed item
    html = client.get(approve_url(r)).text
    assert "Personalesag" in html
    assert "Fortrolig oplysning om en ansat." not in html


def test_a_member_approves_with_a_reservation(client, db, login, post, r):
    to_state(db, r, MeetingState.CLOSED)
    login(r.a2)
    response = post(
        approve_url(r),
        {"decision": "reservation", "reservation": "Jeg er uenig i gengivelsen af punkt 1."},
    )
    assert response.status_code == 303
    [approval] = db.session.scalars(sa.select(MinutesApproval)).all()
    assert approval.decision == ApprovalDecision.RESERVATION
    assert approval.reservation == "Jeg er uenig i gengivelsen af punkt 1."
    html = client.get(approve_url(r)).text
    assert "Din godkendelse med forbehold er registreret." in html
    assert "Du godkendte protokollen med forbehold" in html


def test_a_reservation_needs_its_text(client, db, login, post, r):
    to_state(db, r, MeetingState.CLOSED)
    login(r.a2)
    response = post(approve_url(r), {"decision": "reservation", "reservation": "  "})
    assert response.status_code == 400
    assert "Skriv dit forbehold." in response.text
    assert count(db, MinutesApproval) == 0


@pytest.mark.parametrize("state", [MeetingState.IN_SESSION, MeetingState.APPROVED])
def test_approving_outside_the_approval_is_409(client, db, login, post, r, state):
    to_state(db, r, state)
    before = count(db, MinutesApproval)
    login(r.a2)
    html = client.get(approve_url(r)).text
    assert "Afgiv godkendelse" not in html and "Godkend igen" not in html
    response = post(approve_url(r), {"decision": "approved"})
    assert response.status_code == 409
    assert "det skal være afsluttet" in response.text
    assert count(db, MinutesApproval) == before


def test_the_member_sees_what_waits_for_approval(client, db, login, r):
    to_state(db, r, MeetingState.CLOSED)
    login(r.a2)
    html = client.get("/manage/approvals").text
    assert f'href="{approve_url(r)}"' in html and "Mangler" in html
    client.post("/logout", data={"csrf_token": ""})
    login(r.c1)  # absent
    assert approve_url(r) not in client.get("/manage/approvals").text


def test_the_member_approval_list_is_for_members_only(client, login, r):
    login(r.secretary)
    assert client.get("/manage/approvals").status_code == 403


# --------------------------------------------------------------------------- public page


def test_the_public_page_links_the_lifecycle_for_managers_only(client, login, r):
    url = f"/meetings/{r.meeting.id}"
    assert page_url(r) not in client.get(url).text
    login(r.secretary)
    assert page_url(r) in client.get(url).text


def test_the_lifecycle_page_shows_a_rule_and_the_chair(client, db, login, r):
    r.body.approval_rule = ApprovalRule.CHAIR_AND_SECRETARY
    db.session.commit()
    to_state(db, r, MeetingState.CLOSED)
    login(r.secretary)
    html = client.get(page_url(r)).text
    assert "formanden godkender" in html
    assert "Godkendelse mangler fra A 1." in html
    assert "Godkendelse mangler fra A 2." not in html


def test_publishing_with_an_unusable_signing_key_is_503_and_changes_nothing(
    app, client, db, login, post, r, tmp_path
):
    app.config["SIGNING_PKCS12"] = str(tmp_path / "missing.p12")
    to_state(db, r, MeetingState.APPROVED)
    login(r.secretary)

    response = post(step_url(r, "publish"), {"step-confirm": "y"})

    assert response.status_code == 503
    assert "kunne ikke signeres" in response.text
    assert state_of(db, r) == MeetingState.APPROVED
    assert count(db, PublishedMinutes) == 0
