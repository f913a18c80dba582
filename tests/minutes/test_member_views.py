"""The members' pages through HTTP: who may see which meeting, the draft decisions and
closed items, filing remarks (with the Danish refusals), confirming joint remarks, the
messages from the secretary, CSRF and the lock on approved minutes."""

from __future__ import annotations

import html as html_lib
from datetime import datetime

import pytest
import sqlalchemy as sa

from meetings.models import MeetingState
from minutes.models import Notification, ProtocolRemark, RemarkKind, RemarkStatus
from minutes.services import LAW_NOTE, file_remark, return_remark

CSRF_REFUSED = "mangler sikkerhedsnøglen"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def meeting(db, factories):
    """A held meeting of the seed's committee with a løsgænger; "Ø 1" was absent. Item 1
    is open with a decision; item 2 is closed (lukket punkt)."""
    meeting = factories.meeting(
        {"A": 3, "B": 1, "F": 1, "Ø": 1, "V": 1, "O": 1, "C": 1, None: 1},
        absent=("Ø 1",),
        state=MeetingState.CLOSED,
    )
    first = factories.item(meeting, 1, title="Integrationspolitik")
    factories.decision(first, result_text="Anbefalet over for Borgerrepræsentationen.")
    closed = factories.item(meeting, 2, title="Køb af ejendom", is_closed=True)
    factories.decision(closed, result_text="Købet blev godkendt fortroligt.")
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
    return {
        name: make_user("member", member=members[name])
        for name in ("A 1", "B 1", "V 1", "Ø 1", "Løsgænger 1")
    }


@pytest.fixture
def outsider(db, factories, make_user, meeting):
    """A member user who sits in another body only."""
    body = factories.body(name="Økonomiudvalget", order="A V")
    member = factories.member(body, "Udenfor", "A")
    db.session.commit()
    return make_user("member", member=member)


@pytest.fixture
def secretary(make_user, meeting):
    return make_user("secretary", bodies=[meeting.body])


def text_of(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def remarks(db) -> list[ProtocolRemark]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ProtocolRemark).order_by(ProtocolRemark.id)))


def file_url(item) -> str:
    return f"/member/items/{item.id}/remarks"


# --------------------------------------------------------------------------- access


def test_anonymous_is_sent_to_the_login(client, post, meeting, item):
    for url in ("/member/", f"/member/meetings/{meeting.id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    response = post(file_url(item), {"kind": "party", "text": "x"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert remarks_count(item) == 0


def test_member_of_the_body_sees_the_meeting(client, login, users, meeting):
    login(users["A 1"])
    index = client.get("/member/")
    assert index.status_code == 200
    assert f'href="/member/meetings/{meeting.id}"' in index.text
    page = client.get(f"/member/meetings/{meeting.id}")
    assert page.status_code == 200
    html = text_of(page)
    assert "1. Integrationspolitik" in html
    assert "Anbefalet over for Borgerrepræsentationen." in html
    assert LAW_NOTE in html
    assert "Sekretæren har ikke sat en frist" in html


def test_member_of_the_body_sees_its_closed_items(client, login, users, meeting):
    login(users["B 1"])
    html = text_of(client.get(f"/member/meetings/{meeting.id}"))
    assert "Køb af ejendom" in html and "Lukket punkt" in html
    assert "Købet blev godkendt fortroligt." in html


def test_member_of_another_body_is_refused(client, login, post, outsider, meeting, item):
    login(outsider)
    index = client.get("/member/")
    assert index.status_code == 200
    assert f"/member/meetings/{meeting.id}" not in index.text
    assert client.get(f"/member/meetings/{meeting.id}").status_code == 403
    response = post(file_url(item), {"kind": "party", "text": "Tekst."})
    assert response.status_code == 403
    assert remarks_count(item) == 0


def remarks_count(item) -> int:
    from protokol.extensions import db

    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ProtocolRemark)
        .where(ProtocolRemark.item_id == item.id)
    )


@pytest.mark.parametrize("role", ["secretary", "admin"])
def test_staff_do_not_use_the_member_pages(client, login, make_user, meeting, role):
    login(make_user(role, bodies=[meeting.body]))
    assert client.get("/member/").status_code == 403
    assert client.get(f"/member/meetings/{meeting.id}").status_code == 403


def test_unknown_meeting_is_404(client, login, users):
    login(users["A 1"])
    assert client.get("/member/meetings/999999").status_code == 404


def test_a_former_member_keeps_the_meetings_held_while_seated(
    db, client, login, factories, meeting, make_user
):
    member = factories.member(meeting.body, "Tidligere", "V", ends_on=datetime(2010, 12, 31).date())
    later = factories.meeting(body=meeting.body, starts_at=datetime(2011, 3, 1, 15, 0))
    db.session.commit()
    login(make_user("member", member=member))
    assert client.get(f"/member/meetings/{meeting.id}").status_code == 200
    assert client.get(f"/member/meetings/{later.id}").status_code == 403


# --------------------------------------------------------------------------- filing


def test_member_files_a_party_remark_end_to_end(db, client, login, post, users, item, meeting):
    login(users["A 1"])
    page = client.get(f"/member/meetings/{meeting.id}")
    assert f'action="{file_url(item)}"' in page.text
    response = post(file_url(item), {"kind": "party", "text": "A er imod.\r\n\r\nPunktum."})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/member/meetings/{meeting.id}#item-{item.id}")
    (remark,) = remarks(db)
    assert (remark.kind, remark.status) == (RemarkKind.PARTY, RemarkStatus.SUBMITTED)
    assert remark.party.letter == "A" and remark.filed_by_id == users["A 1"].id
    html = text_of(client.get(f"/member/meetings/{meeting.id}"))
    assert "Din protokolbemærkning er sendt til sekretæren." in html
    assert "Indsendt – venter på sekretæren" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "party", "text": ""}, "Skriv bemærkningens tekst."),
        ({"kind": "party"}, "Skriv bemærkningens tekst."),
        ({"kind": "whatever", "text": "Tekst."}, "Vælg en af mulighederne på listen."),
        (
            {"kind": "joint", "text": "Tekst."},
            "En fælles bemærkning skal have mindst ét parti mere.",
        ),
        (
            {"kind": "joint", "text": "Tekst.", "co_parties": "999999"},
            "Vælg blandt mulighederne på listen.",
        ),
        ({"kind": "party", "text": "x" * 20_001}, "Højst 20.000 tegn."),
    ],
)
def test_invalid_remarks_are_refused_in_danish(db, client, login, post, users, item, data, message):
    login(users["A 1"])
    response = post(file_url(item), data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert remarks(db) == []


def test_the_typed_text_survives_a_refusal(db, client, login, post, users, item):
    login(users["A 1"])
    response = post(file_url(item), {"kind": "joint", "text": "Min lange tekst."})
    assert response.status_code == 400
    assert "Min lange tekst." in text_of(response)


def test_a_member_who_was_absent_cannot_file(db, client, login, post, users, item, meeting):
    login(users["Ø 1"])
    html = text_of(client.get(f"/member/meetings/{meeting.id}"))
    assert f'action="{file_url(item)}"' not in html
    assert "Du deltog ikke i behandlingen af punktet" in html
    response = post(file_url(item), {"kind": "party", "text": "Tekst."})
    assert response.status_code == 400
    assert "Du kan kun indgive bemærkninger til punkter, du deltog i." in text_of(response)
    assert remarks(db) == []


def test_a_loesgaenger_files_only_personal_remarks(db, client, login, post, users, item, meeting):
    login(users["Løsgænger 1"])
    html = text_of(client.get(f"/member/meetings/{meeting.id}"))
    assert 'value="party"' not in html and 'value="personal"' in html
    response = post(file_url(item), {"kind": "party", "text": "Tekst."})
    assert response.status_code == 400
    assert "Som løsgænger kan du kun indgive en personlig bemærkning." in text_of(response)
    response = post(file_url(item), {"kind": "personal", "text": "Jeg er imod."})
    assert response.status_code == 303
    (remark,) = remarks(db)
    assert remark.kind == RemarkKind.PERSONAL and remark.party is None


def test_no_filing_after_the_deadline(db, client, login, post, users, item, meeting):
    meeting.remarks_deadline_at = datetime(2010, 12, 8, 12, 0)
    db.session.commit()
    login(users["A 1"])
    html = text_of(client.get(f"/member/meetings/{meeting.id}"))
    assert "Frist for protokolbemærkninger: <strong>08.12.2010 kl. 12.00</strong>" in html
    assert "Fristen for protokolbemærkninger udløb 08.12.2010 kl. 12.00." in html
    assert f'action="{file_url(item)}"' not in html
    response = post(file_url(item), {"kind": "party", "text": "For sent."})
    assert response.status_code == 400
    assert "Fristen for protokolbemærkninger udløb" in text_of(response)
    assert remarks(db) == []


def test_filing_before_the_deadline_is_open(db, client, login, post, users, item, meeting):
    meeting.remarks_deadline_at = datetime(2999, 1, 1, 12, 0)
    db.session.commit()
    login(users["A 1"])
    assert post(file_url(item), {"kind": "party", "text": "I tide."}).status_code == 303


def test_a_planned_meeting_has_no_filing(db, client, login, post, factories, users, meeting):
    planned = factories.meeting(
        body=meeting.body, starts_at=datetime(2011, 1, 10, 15, 0), state=MeetingState.PLANNED
    )
    item = factories.item(planned)
    db.session.commit()
    login(users["A 1"])
    html = text_of(client.get(f"/member/meetings/{planned.id}"))
    assert "Der kan indgives bemærkninger, når mødet er holdt." in html
    response = post(file_url(item), {"kind": "party", "text": "Tekst."})
    assert response.status_code == 400
    assert "møde, der er holdt" in text_of(response)


def test_filing_on_approved_minutes_is_409(db, client, login, post, users, item, meeting):
    meeting.state = MeetingState.APPROVED
    db.session.commit()
    login(users["A 1"])
    response = post(file_url(item), {"kind": "party", "text": "Tekst."})
    assert response.status_code == 409
    assert "er godkendt og kan ikke ændres" in text_of(response)
    assert remarks(db) == []


def test_filing_without_csrf_token_is_refused(db, client, login, users, item):
    login(users["A 1"])
    response = client.post(file_url(item), data={"kind": "party", "text": "Tekst."})
    assert response.status_code == 400
    assert CSRF_REFUSED in text_of(response)
    assert remarks(db) == []


# --------------------------------------------------------------------------- joint remarks


def test_joint_remark_is_confirmed_by_the_co_partys_member(
    db, client, login, post, users, factories, item, meeting
):
    b = factories.party("B")
    login(users["A 1"])
    response = post(
        file_url(item), {"kind": "joint", "text": "Vi er imod.", "co_parties": str(b.id)}
    )
    assert response.status_code == 303
    (remark,) = remarks(db)
    assert [(cp.party.letter, cp.is_confirmed) for cp in remark.co_parties] == [("B", False)]
    html = text_of(client.get(f"/member/meetings/{meeting.id}"))
    assert "B (afventer bekræftelse)" in html

    login(users["B 1"])
    index = text_of(client.get("/member/"))
    assert "beder dit parti bekræfte en fælles protokolbemærkning til punkt 1" in index
    assert f'action="/member/remarks/{remark.id}/confirm"' in index
    response = post(f"/member/remarks/{remark.id}/confirm")
    assert response.status_code == 303 and response.headers["Location"].endswith("/member/")
    (remark,) = remarks(db)
    assert remark.co_parties[0].is_confirmed
    assert remark.co_parties[0].confirmed_by_id == users["B 1"].id
    assert f'action="/member/remarks/{remark.id}/confirm"' not in client.get("/member/").text

    login(users["A 1"])
    html = text_of(client.get("/member/"))
    assert "B har bekræftet den fælles protokolbemærkning til punkt 1." in html
    assert "B (bekræftet)" in text_of(client.get(f"/member/meetings/{meeting.id}"))


def test_confirming_from_the_meeting_page_returns_there(
    db, client, login, post, users, factories, item, meeting
):
    remark = file_remark(
        item,
        users["A 1"].member,
        RemarkKind.JOINT,
        "Tekst.",
        actor=users["A 1"],
        co_parties=[factories.party("B")],
    )
    db.session.commit()
    login(users["B 1"])
    assert (
        f"/member/remarks/{remark.id}/confirm" in client.get(f"/member/meetings/{meeting.id}").text
    )
    response = post(f"/member/remarks/{remark.id}/confirm", {"back": "meeting"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/member/meetings/{meeting.id}")


def test_a_member_outside_the_co_parties_cannot_confirm(
    db, client, login, post, users, factories, item, outsider
):
    remark = file_remark(
        item,
        users["A 1"].member,
        RemarkKind.JOINT,
        "Tekst.",
        actor=users["A 1"],
        co_parties=[factories.party("B")],
    )
    db.session.commit()
    login(users["V 1"])
    response = post(f"/member/remarks/{remark.id}/confirm")
    assert response.status_code == 400
    assert "Dit parti er ikke med på denne bemærkning." in text_of(response)
    login(outsider)
    assert post(f"/member/remarks/{remark.id}/confirm").status_code == 403
    assert not remarks(db)[0].co_parties[0].is_confirmed


# --------------------------------------------------------------------------- messages


def test_a_returned_remark_shows_the_comment_and_a_message(
    db, client, login, post, users, secretary, item, meeting
):
    remark = file_remark(item, users["A 1"].member, RemarkKind.PARTY, "Tekst.", actor=users["A 1"])
    return_remark(remark, "Kun din afvigende mening, tak.", actor=secretary)
    db.session.commit()
    login(users["A 1"])
    html = text_of(client.get(f"/member/meetings/{meeting.id}"))
    assert "Sendt retur" in html
    assert "Sekretærens kommentar:</strong> Kun din afvigende mening, tak." in html
    index = text_of(client.get("/member/"))
    assert "er sendt retur: Kun din afvigende mening, tak." in index

    response = post("/member/notifications/read")
    assert response.status_code == 303
    assert "Ingen nye beskeder." in text_of(client.get("/member/"))
    db.session.expire_all()
    assert db.session.scalar(sa.select(Notification.is_read)) is True


def test_marking_one_message_read_leaves_the_others(db, client, login, post, users):
    user = users["A 1"]
    first, second = (
        Notification(user_id=user.id, text="Første"),
        Notification(user_id=user.id, text="Anden"),
    )
    other = Notification(user_id=users["B 1"].id, text="Ikke din")
    db.session.add_all([first, second, other])
    db.session.commit()
    login(user)
    assert post("/member/notifications/read", {"notification_id": str(first.id)}).status_code == 303
    db.session.expire_all()
    assert (first.is_read, second.is_read) == (True, False)
    assert post("/member/notifications/read", {"notification_id": str(other.id)}).status_code == 404
    assert post("/member/notifications/read", {"notification_id": "x"}).status_code == 404
    db.session.expire_all()
    assert other.is_read is False


def test_marking_read_without_csrf_token_is_refused(db, client, login, users):
    db.session.add(Notification(user_id=users["A 1"].id, text="Besked"))
    db.session.commit()
    login(users["A 1"])
    response = client.post("/member/notifications/read")
    assert response.status_code == 400
    assert CSRF_REFUSED in text_of(response)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Notification.is_read)) is False
