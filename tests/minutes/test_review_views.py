"""The secretary's review of members' remarks through HTTP: who may use it, the § 13
warnings and "optag alligevel", returning with a comment, typography edits (audited, the
member told), the order in the minutes, the deadline, CSRF and the lock."""

from __future__ import annotations

import html as html_lib
from datetime import datetime

import pytest
import sqlalchemy as sa

from meetings.models import Meeting, MeetingState
from minutes.context import build_decision
from minutes.models import Notification, ProtocolRemark, RemarkKind, RemarkStatus
from minutes.services import file_remark
from minutes.styles import load_style
from motions.models import MotionKind
from protokol.audit import AuditAction, AuditEntry

CSRF_REFUSED = "mangler sikkerhedsnøglen"
#: A vote on item 1 in which V, O and C lose to A, B, F and Ø.
MAJORITY_FOR = {"A": "for", "B": "for", "F": "for", "Ø": "for",
                "V": "against", "O": "against", "C": "against"}  # fmt: skip


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def meeting(db, factories):
    """A held meeting of the seed's committee; item 1 has a vote A, B, F, Ø won."""
    meeting = factories.meeting(state=MeetingState.CLOSED)
    item = factories.item(meeting, 1, title="Integrationspolitik")
    motion = factories.motion(item, MotionKind.AMENDMENT, party="V")
    with factories.session.no_autoflush:
        factories.vote(motion, parties=MAJORITY_FOR)
    db.session.commit()
    return meeting


@pytest.fixture
def item(meeting):
    return meeting.items[0]


@pytest.fixture
def members(factories, meeting):
    return factories.members


@pytest.fixture
def users(make_user, members):
    return {name: make_user("member", member=members[name]) for name in ("A 1", "V 1", "B 1")}


@pytest.fixture
def secretary(make_user, meeting):
    return make_user("secretary", bodies=[meeting.body])


@pytest.fixture
def url(meeting) -> str:
    return f"/manage/meetings/{meeting.id}/remarks"


@pytest.fixture
def majority(db, item, members, users):
    """A's remark: A voted with the majority (a § 13 warning)."""
    remark = file_remark(item, members["A 1"], RemarkKind.PARTY, "A er for.", actor=users["A 1"])
    db.session.commit()
    return remark


@pytest.fixture
def minority(db, item, members, users):
    """V's remark: V was in the minority (no warning)."""
    remark = file_remark(item, members["V 1"], RemarkKind.PARTY, "V er imod.", actor=users["V 1"])
    db.session.commit()
    return remark


@pytest.fixture
def staff(client, login, secretary):
    login(secretary)
    return secretary


def text_of(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def fresh(db, remark) -> ProtocolRemark:
    db.session.expire_all()
    return db.session.get(ProtocolRemark, remark.id)


def notifications(db, user) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def minutes_text(db, item) -> str:
    db.session.expire_all()
    decision = build_decision(db.session.get(type(item), item.id), load_style("kbh-udvalg-2010"))
    return decision.as_text() if decision else ""


# --------------------------------------------------------------------------- access


def test_anonymous_is_sent_to_the_login(client, post, url, majority):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = post(f"/manage/remarks/{majority.id}/accept", {"override": "yes"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_secretary_of_the_body_and_admin_see_the_review(
    client, login, make_user, secretary, url, majority
):
    login(secretary)
    assert client.get(url).status_code == 200
    login(make_user("admin"))
    assert client.get(url).status_code == 200


def test_others_are_refused(db, client, login, post, make_user, factories, users, url, majority):
    other_body = factories.body(name="Økonomiudvalget", order="A V")
    db.session.commit()
    login(make_user("secretary", bodies=[other_body]))
    assert client.get(url).status_code == 403
    assert post(f"/manage/remarks/{majority.id}/accept", {"override": "yes"}).status_code == 403
    login(users["A 1"])
    assert client.get(url).status_code == 403
    assert post(f"/manage/remarks/{majority.id}/accept", {"override": "yes"}).status_code == 403
    assert fresh(db, majority).status == RemarkStatus.SUBMITTED


def test_unknown_meeting_and_remark_are_404(client, staff, post):
    assert client.get("/manage/meetings/999999/remarks").status_code == 404
    assert post("/manage/remarks/999999/accept").status_code == 404


# --------------------------------------------------------------------------- the page


def test_page_lists_remarks_by_item_with_status_filer_and_warnings(
    client, staff, url, users, majority, minority
):
    html = text_of(client.get(url))
    assert "1. Integrationspolitik" in html
    assert "2 venter på afgørelse" in html
    assert "A er for." in html and "V er imod." in html
    assert f"Indgivet af {users['A 1'].label}" in html
    assert "A stemte med flertallet ved afstemningen om forslag 1." in html
    # "Optag alligevel" only where there are warnings.
    start = html.index(f'id="remark-{majority.id}"')
    end = html.index(f'id="remark-{minority.id}"')
    assert "Optag alligevel" in html[start:end]
    assert "Optag alligevel" not in html[end:]


def test_page_without_remarks(client, staff, url):
    assert "Der er ingen protokolbemærkninger til mødet." in text_of(client.get(url))


# --------------------------------------------------------------------------- accept


def test_accept_with_warnings_needs_optag_alligevel(
    db, client, staff, post, url, item, users, majority
):
    response = post(f"/manage/remarks/{majority.id}/accept")
    assert response.status_code == 400
    assert "Vælg 'optag alligevel' for at optage den." in text_of(response)
    assert fresh(db, majority).status == RemarkStatus.SUBMITTED

    response = post(f"/manage/remarks/{majority.id}/accept", {"override": "yes"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{url}#remark-{majority.id}")
    remark = fresh(db, majority)
    assert remark.status == RemarkStatus.ACCEPTED
    assert remark.overridden_warnings == "A stemte med flertallet ved afstemningen om forslag 1."
    assert remark.decided_by_id == staff.id
    (note,) = notifications(db, users["A 1"])
    assert note.text == "Din protokolbemærkning til punkt 1 er optaget."
    assert note.link == f"/member/meetings/{item.meeting_id}#remark-{majority.id}"
    assert "Der var følgende protokolbemærkning fra A:" in minutes_text(db, item)
    html = text_of(client.get(url))
    assert "Optaget trods advarsler:</strong> A stemte med flertallet" in html


def test_accept_without_warnings(db, staff, post, minority, item):
    assert post(f"/manage/remarks/{minority.id}/accept").status_code == 303
    remark = fresh(db, minority)
    assert remark.status == RemarkStatus.ACCEPTED and remark.overridden_warnings == ""
    assert "Der var følgende protokolbemærkning fra V:\n\nV er imod." in minutes_text(db, item)


def test_unconfirmed_joint_remark_shows_a_warning(
    db, client, staff, post, url, item, members, users, factories
):
    remark = file_remark(
        item,
        members["V 1"],
        RemarkKind.JOINT,
        "Vi er imod.",
        actor=users["V 1"],
        co_parties=[factories.party("C")],
    )
    db.session.commit()
    html = text_of(client.get(url))
    assert "Ikke bekræftet af: C." in html and "C (ikke bekræftet)" in html
    response = post(f"/manage/remarks/{remark.id}/accept")
    assert response.status_code == 400
    assert "Disse partier har ikke bekræftet den fælles bemærkning: C." in text_of(response)
    assert post(f"/manage/remarks/{remark.id}/accept", {"override": "yes"}).status_code == 303
    assert "Ikke bekræftet af: C." in fresh(db, remark).overridden_warnings
    assert "fælles protokolbemærkning fra V:" in minutes_text(db, item)


# --------------------------------------------------------------------------- return


def test_return_needs_a_comment(db, staff, post, users, majority):
    response = post(f"/manage/remarks/{majority.id}/return", {"comment": "  "})
    assert response.status_code == 400
    assert "Skriv en kommentar til medlemmet" in text_of(response)
    assert fresh(db, majority).status == RemarkStatus.SUBMITTED

    response = post(
        f"/manage/remarks/{majority.id}/return",
        {"comment": "A stemte for; kun mindretallet kan få ført en bemærkning."},
    )
    assert response.status_code == 303
    remark = fresh(db, majority)
    assert remark.status == RemarkStatus.RETURNED
    assert remark.return_comment.startswith("A stemte for;")
    (note,) = notifications(db, users["A 1"])
    assert "er sendt retur: A stemte for;" in note.text
    assert note.link.startswith("/member/meetings/")


# --------------------------------------------------------------------------- typography


def test_typography_edit_is_audited_and_the_member_told(db, client, staff, post, users, majority):
    response = post(f"/manage/remarks/{majority.id}/typography", {"text": "A er for !"})
    assert response.status_code == 303
    assert fresh(db, majority).text == "A er for !"
    entry = db.session.scalars(
        sa.select(AuditEntry).where(
            AuditEntry.entity == "protocol_remarks",
            AuditEntry.entity_id == majority.id,
            AuditEntry.action == AuditAction.UPDATE,
        )
    ).one()
    assert entry.before == {"text": "A er for."} and entry.after == {"text": "A er for !"}
    assert entry.actor_id == staff.id
    (note,) = notifications(db, users["A 1"])
    assert note.text.startswith("Sekretæren har rettet typografien")

    response = post(f"/manage/remarks/{majority.id}/typography", {"text": ""})
    assert response.status_code == 400
    assert "Skriv bemærkningens tekst." in text_of(response)
    assert fresh(db, majority).text == "A er for !"


# --------------------------------------------------------------------------- order


def test_move_changes_the_order_in_the_minutes(db, staff, post, item, majority, minority):
    for remark in (majority, minority):
        assert post(f"/manage/remarks/{remark.id}/accept", {"override": "yes"}).status_code == 303
    text = minutes_text(db, item)
    assert text.index("A er for.") < text.index("V er imod.")
    assert post(f"/manage/remarks/{minority.id}/move", {"direction": "up"}).status_code == 303
    text = minutes_text(db, item)
    assert text.index("V er imod.") < text.index("A er for.")
    assert post(f"/manage/remarks/{minority.id}/move", {"direction": "down"}).status_code == 303
    assert (fresh(db, majority).position, fresh(db, minority).position) == (0, 1)
    response = post(f"/manage/remarks/{minority.id}/move", {"direction": "sideways"})
    assert response.status_code == 400
    assert "Vælg at flytte bemærkningen op eller ned." in text_of(response)


# --------------------------------------------------------------------------- deadline


def test_set_and_clear_the_deadline(db, client, staff, post, url, meeting):
    response = post(f"{url}/deadline", {"deadline": "2010-12-08T12:00"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).remarks_deadline_at == datetime(2010, 12, 8, 12, 0)
    html = text_of(client.get(url))
    assert "til og med <strong>08.12.2010 kl. 12.00</strong>" in html
    assert 'value="2010-12-08T12:00"' in html
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.entity == "meetings").order_by(AuditEntry.id.desc())
    ).first()
    assert entry.after == {"remarks_deadline_at": "2010-12-08T12:00:00"}

    assert post(f"{url}/deadline", {"deadline": ""}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).remarks_deadline_at is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8. december", "Ugyldigt tidspunkt; brug formatet åååå-mm-dd tt:mm."),
        ("2010-12-01T12:00", "Fristen kan ikke ligge før mødets start."),
    ],
)
def test_invalid_deadline_is_refused_in_danish(db, staff, post, url, meeting, value, message):
    response = post(f"{url}/deadline", {"deadline": value})
    assert response.status_code == 400
    assert message in text_of(response)
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).remarks_deadline_at is None


# --------------------------------------------------------------------------- CSRF, lock


def test_writes_without_csrf_token_are_refused(db, client, staff, url, majority):
    for path, data in [
        (f"/manage/remarks/{majority.id}/accept", {"override": "yes"}),
        (f"/manage/remarks/{majority.id}/return", {"comment": "Nej."}),
        (f"/manage/remarks/{majority.id}/typography", {"text": "Ændret."}),
        (f"{url}/deadline", {"deadline": "2010-12-08T12:00"}),
    ]:
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert CSRF_REFUSED in text_of(response)
    remark = fresh(db, majority)
    assert (remark.status, remark.text) == (RemarkStatus.SUBMITTED, "A er for.")


def test_approved_minutes_refuse_every_change_with_409(
    db, client, staff, post, url, meeting, majority
):
    meeting.state = MeetingState.APPROVED
    db.session.commit()
    html = text_of(client.get(url))
    assert "Protokollen er godkendt" in html
    assert f"/manage/remarks/{majority.id}/accept" not in html
    for path, data in [
        (f"/manage/remarks/{majority.id}/accept", {"override": "yes"}),
        (f"/manage/remarks/{majority.id}/return", {"comment": "Nej."}),
        (f"/manage/remarks/{majority.id}/typography", {"text": "Ændret."}),
        (f"/manage/remarks/{majority.id}/move", {"direction": "up"}),
        (f"{url}/deadline", {"deadline": "2010-12-08T12:00"}),
    ]:
        response = post(path, data)
        assert response.status_code == 409, path
        assert "er godkendt og kan ikke ændres" in text_of(response)
    remark = fresh(db, majority)
    assert (remark.status, remark.text) == (RemarkStatus.SUBMITTED, "A er for.")
    assert db.session.get(Meeting, meeting.id).remarks_deadline_at is None


# --------------------------------------------------------------------------- end to end


def test_member_files_and_the_secretary_returns_then_accepts(
    db, client, login, post, users, secretary, item, url
):
    login(users["V 1"])
    response = post(f"/member/items/{item.id}/remarks", {"kind": "party", "text": "V er imod ."})
    assert response.status_code == 303
    (remark,) = db.session.scalars(sa.select(ProtocolRemark)).all()

    login(secretary)
    assert "V er imod ." in text_of(client.get(url))
    assert (
        post(f"/manage/remarks/{remark.id}/typography", {"text": "V er imod."}).status_code == 303
    )
    assert post(f"/manage/remarks/{remark.id}/return", {"comment": "Uddyb."}).status_code == 303

    login(users["V 1"])
    index = text_of(client.get("/member/"))
    assert "rettet typografien" in index and "sendt retur: Uddyb." in index
    page = text_of(client.get(f"/member/meetings/{item.meeting_id}"))
    assert "Sekretærens kommentar:</strong> Uddyb." in page

    login(secretary)
    assert post(f"/manage/remarks/{remark.id}/accept").status_code == 303
    login(users["V 1"])
    page = text_of(client.get(f"/member/meetings/{item.meeting_id}"))
    assert "Optaget i protokollen" in page
    assert "Der var følgende protokolbemærkning fra V:" in page
