"""The secretary's preparation screens: meetings, agenda, an item's case, attendance.

Who may use them (admin, the body's secretary; not another body's secretary, not a
member, not the public), that each change persists, that refused input gets a Danish
message and a 4xx and changes nothing, that a locked record refuses every write with 409,
and that a missing CSRF token changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from meetings import services
from meetings.models import (
    AgendaItem,
    CaseSection,
    ItemAttendance,
    ItemPresence,
    ItemSignatory,
    Meeting,
    MeetingAttendance,
    MeetingState,
    RecommendationClause,
    SeatRole,
)
from protokol.audit import AuditEntry


def count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def record(db, factories, make_user):
    """A body with six members and a substitute, a member whose seat ended, a meeting with
    three items, and users: admin, the body's secretary, another body's secretary, and a
    member."""
    body = factories.body("Beskæftigelses- og Integrationsudvalget")
    for name, letter in [("A 1", "A"), ("A 2", "A"), ("B 1", "B"), ("V 1", "V"), ("C 1", "C")]:
        factories.member(body, name, letter)
    factories.member(body, "Løsgænger 1", None)
    factories.member(body, "Stedfortræder", "A", role=SeatRole.SUBSTITUTE)
    factories.member(body, "Gammel", "O", ends_on=date(2010, 6, 30))
    meeting = factories.meeting(
        {"A": 0}, body=body, starts_at=datetime(2010, 12, 6, 15, 30), state=MeetingState.PLANNED
    )
    items = [factories.item(meeting, n, title=f"Punkt {n}") for n in (1, 2, 3)]
    other = factories.body("Økonomiudvalget")
    db.session.commit()
    return SimpleNamespace(
        body=body,
        other=other,
        meeting=meeting,
        items=items,
        admin=make_user("admin"),
        secretary=make_user("secretary", bodies=[body]),
        stranger=make_user("secretary", bodies=[other]),
        member=make_user("member", member=factories.members["A 1"]),
    )


def fill(template: str, r) -> str:
    return template.format(
        meeting=r.meeting.id,
        item=r.items[0].id,
        body=r.body.id,
    )


#: Every preparation page (GET), with placeholders for the ids of `record`.
PAGES = [
    "/manage/meetings/{meeting}",
    "/manage/meetings/{meeting}/attendance",
    "/manage/meetings/{meeting}/attendance?item={item}",
    "/manage/items/{item}",
    "/manage/items/{item}/delete",
]
#: Every POST of the preparation screens that `record` gives ids for, with valid data.
POSTS = [
    (
        "/manage/bodies/{body}/meetings",
        {"body{body}-date": "2011-01-10", "body{body}-time": "15:30", "body{body}-location": "R"},
    ),
    ("/manage/meetings/{meeting}", {"date": "2010-12-07", "time": "16:00", "location": "X"}),
    ("/manage/meetings/{meeting}/items", {"title": "Nyt punkt"}),
    ("/manage/meetings/{meeting}/renumber", {}),
    ("/manage/items/{item}/move", {"direction": "down"}),
    ("/manage/items/{item}/closed", {"closed": "1"}),
    ("/manage/items/{item}/delete", {"confirm": "y"}),
    ("/manage/items/{item}", {"number": "9", "title": "Ny titel"}),
    ("/manage/items/{item}/clauses", {"new-clause-text": "at det godkendes"}),
    ("/manage/items/{item}/sections", {"new-section-heading": "Økonomi"}),
    ("/manage/items/{item}/signatories", {"names": "Morten Binder"}),
    ("/manage/meetings/{meeting}/attendance", {}),
    ("/manage/items/{item}/attendance", {}),
]


def post_data(data: dict, r) -> dict:
    return {fill(k, r): v for k, v in data.items()}


# --- who may use the screens ----------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "secretary"])
@pytest.mark.parametrize("page", ["/manage", *PAGES])
def test_pages_open_for_admin_and_the_body_secretary(client, login, record, role, page):
    login(getattr(record, role))
    response = client.get(fill(page, record))
    assert response.status_code == 200, response.text[:300]
    assert 'name="csrf_token"' in response.text or page == "/manage"


@pytest.mark.parametrize("page", PAGES)
def test_pages_refuse_another_body_secretary_and_members(client, login, record, page):
    login(record.stranger)
    assert client.get(fill(page, record)).status_code == 403


@pytest.mark.parametrize("page", ["/manage", *PAGES])
def test_pages_refuse_a_member(client, login, record, page):
    login(record.member)
    assert client.get(fill(page, record)).status_code == 403


@pytest.mark.parametrize("page", ["/manage", *PAGES])
def test_pages_send_the_public_to_the_login(client, record, page):
    response = client.get(fill(page, record))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(("url", "data"), POSTS)
def test_writes_refuse_another_body_secretary_and_change_nothing(
    client, db, login, post, record, url, data
):
    login(record.stranger)
    before = count(db, AuditEntry)
    response = post(fill(url, record), post_data(data, record))
    assert response.status_code == 403
    assert count(db, AuditEntry) == before


@pytest.mark.parametrize(("url", "data"), POSTS)
def test_writes_refuse_a_member(client, db, login, post, record, url, data):
    login(record.member)
    before = count(db, AuditEntry)
    assert post(fill(url, record), post_data(data, record)).status_code == 403
    assert count(db, AuditEntry) == before


@pytest.mark.parametrize(("url", "data"), POSTS)
def test_writes_send_the_public_to_the_login(client, db, post, record, url, data):
    before = count(db, AuditEntry)
    response = post(fill(url, record), post_data(data, record))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert count(db, AuditEntry) == before


@pytest.mark.parametrize("role", ["admin", "secretary"])
@pytest.mark.parametrize(("url", "data"), POSTS)
def test_writes_work_for_admin_and_the_body_secretary(
    client, db, login, post, record, role, url, data
):
    login(getattr(record, role))
    before = count(db, AuditEntry)
    response = post(fill(url, record), post_data(data, record))
    assert response.status_code == 302, response.text[:2000]
    if url.endswith("/renumber") or url.endswith("/attendance"):
        return  # nothing to change in the fixture's already tidy record
    assert count(db, AuditEntry) > before


@pytest.mark.parametrize(("url", "data"), POSTS)
def test_writes_without_csrf_token_change_nothing(client, db, login, record, url, data):
    login(record.secretary)
    before = count(db, AuditEntry)
    response = client.post(fill(url, record), data=post_data(data, record))
    assert response.status_code == 400
    assert "sikkerhedsnøglen" in response.text
    assert count(db, AuditEntry) == before


@pytest.mark.parametrize("state", [MeetingState.APPROVED, MeetingState.PUBLISHED])
@pytest.mark.parametrize(("url", "data"), POSTS[1:])
def test_a_locked_meeting_refuses_every_write_with_409(
    client, db, login, post, record, state, url, data
):
    record.meeting.state = state
    db.session.commit()
    login(record.secretary)
    before = count(db, AuditEntry)
    response = post(fill(url, record), post_data(data, record))
    assert response.status_code == 409, response.text[:2000]
    assert "Mødet er låst. Protokollen for mødet 06.12.2010 er godkendt" in response.text
    assert count(db, AuditEntry) == before


def test_the_lock_holds_even_past_the_service_check(client, db, login, monkeypatch, post, record):
    """Should a write slip past the services' check (a meeting approved meanwhile), the
    shared lock in `meetings.locking` refuses the flush: still 409, not 500."""
    monkeypatch.setattr(services, "ensure_editable", lambda meeting: None)
    record.meeting.state = MeetingState.APPROVED
    db.session.commit()
    login(record.secretary)
    response = post(f"/manage/meetings/{record.meeting.id}/items", {"title": "Sent"})
    assert response.status_code == 409
    assert "Mødet er låst." in response.text
    assert count(db, AgendaItem) == 3


def test_a_clash_in_the_database_is_409_not_500(client, db, login, monkeypatch, post, record):
    """Two secretaries adding item 4 at once: the second hits the unique constraint."""
    monkeypatch.setattr(services, "_check_item_number_free", lambda *args: None)
    login(record.secretary)
    response = post(
        f"/manage/meetings/{record.meeting.id}/items", {"title": "Dobbelt", "number": "2"}
    )
    assert response.status_code == 409
    assert "strider mod en anden ændring" in response.text
    assert 'value="Dobbelt"' in response.text
    assert count(db, AgendaItem) == 3


def test_the_locked_pages_show_the_reason_and_no_forms(client, db, login, record):
    record.meeting.state = MeetingState.APPROVED
    db.session.commit()
    login(record.secretary)
    html = client.get(f"/manage/meetings/{record.meeting.id}").text
    assert "er godkendt og kan ikke ændres" in html
    assert "Tilføj punkt" not in html
    html = client.get(f"/manage/items/{record.items[0].id}").text
    assert "er godkendt og kan ikke ændres" in html
    assert "Tilføj afsnit" not in html


# --- the overview and new meetings ------------------------------------------------------


def test_manage_lists_the_secretary_bodies_meetings_newest_first(
    client, db, factories, login, record
):
    later = Meeting(body=record.body, starts_at=datetime(2011, 1, 10, 15, 0), location="B")
    elsewhere = Meeting(body=record.other, starts_at=datetime(2011, 2, 1, 9, 0), location="Ø")
    db.session.add_all([later, elsewhere])
    db.session.commit()

    login(record.secretary)
    html = client.get("/manage").text
    assert "Nyt møde i Beskæftigelses- og Integrationsudvalget" in html
    assert "Økonomiudvalget" not in html
    assert html.index(f"/manage/meetings/{later.id}") < html.index(
        f"/manage/meetings/{record.meeting.id}"
    )

    client.post("/logout", data={"csrf_token": ""})
    login(record.admin)
    html = client.get("/manage").text
    assert f"/manage/meetings/{elsewhere.id}" in html
    assert "Nyt møde i Økonomiudvalget" in html


def test_manage_for_a_secretary_without_bodies(client, login, make_user):
    login(make_user("secretary"))
    response = client.get("/manage")
    assert response.status_code == 200
    assert "ikke tilknyttet noget udvalg" in response.text


def test_create_meeting_with_attendance_for_everyone_seated(client, db, login, post, record):
    login(record.secretary)
    b = record.body.id
    response = post(
        f"/manage/bodies/{b}/meetings",
        {
            f"body{b}-date": "2011-01-10",
            f"body{b}-time": "15:30",
            f"body{b}-location": "  Rådhuset,\r\n udvalgsværelse 1 ",
        },
    )
    assert response.status_code == 302
    meeting = db.session.scalar(
        sa.select(Meeting).where(Meeting.starts_at == datetime(2011, 1, 10, 15, 30))
    )
    assert response.headers["Location"] == f"/manage/meetings/{meeting.id}"
    assert meeting.body_id == b
    assert meeting.state == MeetingState.PLANNED
    assert meeting.location == "Rådhuset, udvalgsværelse 1"
    presence = {a.member.name: a.is_present for a in meeting.attendance}
    assert presence == {
        "A 1": True,
        "A 2": True,
        "B 1": True,
        "V 1": True,
        "C 1": True,
        "Løsgænger 1": True,
        "Stedfortræder": False,
    }  # fmt: skip; "Gammel" left before the date
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.entity == "meetings", AuditEntry.entity_id == meeting.id
        )
    )
    assert entry.actor_id == record.secretary.id


def test_create_meeting_accepts_danish_date_and_time(client, db, login, post, record):
    login(record.admin)
    b = record.body.id
    response = post(
        f"/manage/bodies/{b}/meetings",
        {
            f"body{b}-date": "10.01.2011",
            f"body{b}-time": "9.05",
        },
    )
    assert response.status_code == 302
    assert count(db, Meeting, Meeting.starts_at == datetime(2011, 1, 10, 9, 5)) == 1


@pytest.mark.parametrize(
    ("date_", "time", "message"),
    [
        ("", "15:30", "Angiv mødets dato."),
        ("2011-02-30", "15:30", "Skriv datoen som åååå-mm-dd"),
        ("i morgen", "15:30", "Skriv datoen som åååå-mm-dd"),
        ("2011-01-10", "", "Angiv klokkeslættet"),
        ("2011-01-10", "25:00", "Skriv klokkeslættet som tt:mm"),
        ("2010-12-06", "15:30", "har allerede et møde 06.12.2010 kl. 15.30"),
    ],
)
def test_create_meeting_refuses_bad_input_in_danish(
    client, db, login, post, record, date_, time, message
):
    login(record.secretary)
    b = record.body.id
    response = post(
        f"/manage/bodies/{b}/meetings",
        {
            f"body{b}-date": date_,
            f"body{b}-time": time,
            f"body{b}-location": "Beholdt sted",
        },
    )
    assert response.status_code == 400
    assert message in response.text
    assert "Beholdt sted" in response.text  # the input is shown again
    assert count(db, Meeting) == 1


def test_create_meeting_in_another_body_is_403(client, db, login, post, record):
    login(record.secretary)
    o = record.other.id
    response = post(
        f"/manage/bodies/{o}/meetings", {f"body{o}-date": "2011-01-10", f"body{o}-time": "15:30"}
    )
    assert response.status_code == 403
    assert count(db, Meeting) == 1


def test_create_meeting_for_a_missing_body_is_404(client, login, post, record):
    login(record.admin)
    assert post("/manage/bodies/99999/meetings", {}).status_code == 404


# --- the meeting's time and place --------------------------------------------------------


def test_update_meeting_moves_the_end_and_adds_newly_seated_members(
    client, db, factories, login, post, record
):
    newcomer = factories.member(record.body, "Ny", "F", starts_on=date(2011, 1, 1))
    record.meeting.ends_at = datetime(2010, 12, 6, 17, 0)
    db.session.commit()
    login(record.secretary)
    response = post(
        f"/manage/meetings/{record.meeting.id}",
        {"date": "2011-01-10", "time": "16:00", "location": "Borgernes Hus"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    meeting = db.session.get(Meeting, record.meeting.id)
    assert meeting.starts_at == datetime(2011, 1, 10, 16, 0)
    assert meeting.ends_at == datetime(2011, 1, 10, 17, 30)
    assert meeting.location == "Borgernes Hus"
    assert newcomer.id in {a.member_id for a in meeting.attendance}


def test_update_meeting_refuses_a_taken_time(client, db, login, post, record):
    db.session.add(Meeting(body=record.body, starts_at=datetime(2011, 1, 10, 15, 0)))
    db.session.commit()
    login(record.secretary)
    response = post(
        f"/manage/meetings/{record.meeting.id}",
        {"date": "2011-01-10", "time": "15:00", "location": "Nyt sted"},
    )
    assert response.status_code == 400
    assert "har allerede et møde 10.01.2011 kl. 15.00" in response.text
    db.session.expire_all()
    meeting = db.session.get(Meeting, record.meeting.id)
    assert meeting.starts_at == datetime(2010, 12, 6, 15, 30)
    assert meeting.location == "Rådhuset"


def test_missing_meeting_is_404(client, login, record):
    login(record.admin)
    assert client.get("/manage/meetings/99999").status_code == 404
    assert client.get("/manage/items/99999").status_code == 404


# --- the agenda ---------------------------------------------------------------------------


def numbers(db, meeting_id: int) -> list[tuple[int, str]]:
    """(number, title) in agenda order."""
    db.session.expire_all()
    items = db.session.scalars(
        sa.select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting_id)
        .order_by(AgendaItem.position)
    )
    return [(i.number, i.title) for i in items]


def test_add_item_takes_the_next_free_number(client, db, login, post, record):
    login(record.secretary)
    m = record.meeting.id
    assert "Tomt felt: næste ledige nummer, 4." in client.get(f"/manage/meetings/{m}").text
    response = post(
        f"/manage/meetings/{m}/items",
        {"title": "Integrationspolitik", "case_number": "2010-174928", "is_closed": "y"},
    )
    assert response.status_code == 302
    post(f"/manage/meetings/{m}/items", {"title": "Tyve", "number": "20"})
    post(f"/manage/meetings/{m}/items", {"title": "Efter tyve"})
    assert numbers(db, m)[3:] == [(4, "Integrationspolitik"), (20, "Tyve"), (21, "Efter tyve")]
    item = db.session.scalar(sa.select(AgendaItem).where(AgendaItem.number == 4))
    assert item.case_number == "2010-174928"
    assert item.is_closed
    assert item.position == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "Skriv punktets titel."),
        ({"title": "   "}, "Skriv punktets titel."),
        ({"title": "x" * 501}, "Højst 500 tegn."),
        ({"title": "Ok", "number": "2"}, "Der er allerede et punkt nummer 2 på dagsordenen."),
        ({"title": "Ok", "number": "to"}, "Nummeret skal være et helt tal"),
        ({"title": "Ok", "number": "0"}, "Nummeret skal være mellem 1 og 9999."),
        ({"title": "Ok", "number": "99999999999"}, "Nummeret skal være mellem 1 og 9999."),
        ({"title": "Ok", "case_number": "x" * 51}, "Højst 50 tegn."),
    ],
)
def test_add_item_refuses_bad_input_in_danish(client, db, login, post, record, data, message):
    login(record.secretary)
    response = post(f"/manage/meetings/{record.meeting.id}/items", data)
    assert response.status_code == 400
    assert message in response.text
    assert count(db, AgendaItem) == 3


def test_control_characters_are_dropped_not_a_500(client, db, login, post, record):
    login(record.secretary)
    response = post(f"/manage/meetings/{record.meeting.id}/items", {"title": "Nul\x00byte"})
    assert response.status_code == 302
    assert numbers(db, record.meeting.id)[-1] == (4, "Nulbyte")


def test_move_items_up_and_down(client, db, login, post, record):
    login(record.secretary)
    m = record.meeting.id
    first, second, third = record.items
    assert post(f"/manage/items/{third.id}/move", {"direction": "up"}).status_code == 302
    assert numbers(db, m) == [(1, "Punkt 1"), (3, "Punkt 3"), (2, "Punkt 2")]
    post(f"/manage/items/{first.id}/move", {"direction": "down"})
    assert numbers(db, m) == [(3, "Punkt 3"), (1, "Punkt 1"), (2, "Punkt 2")]
    # At either end nothing happens.
    post(f"/manage/items/{third.id}/move", {"direction": "up"})
    post(f"/manage/items/{second.id}/move", {"direction": "down"})
    assert numbers(db, m) == [(3, "Punkt 3"), (1, "Punkt 1"), (2, "Punkt 2")]


def test_move_refuses_an_unknown_direction(client, db, login, post, record):
    login(record.secretary)
    response = post(f"/manage/items/{record.items[0].id}/move", {"direction": "sideways"})
    assert response.status_code == 400
    assert "Vælg op eller ned." in response.text
    assert numbers(db, record.meeting.id)[0] == (1, "Punkt 1")


def test_renumber_follows_the_agenda_order_through_cycles(client, db, login, post, record):
    login(record.secretary)
    m = record.meeting.id
    third = record.items[2]
    post(f"/manage/items/{third.id}/move", {"direction": "up"})
    post(f"/manage/items/{third.id}/move", {"direction": "up"})
    post(f"/manage/meetings/{m}/items", {"title": "Sidst", "number": "7"})
    assert numbers(db, m) == [(3, "Punkt 3"), (1, "Punkt 1"), (2, "Punkt 2"), (7, "Sidst")]

    response = post(f"/manage/meetings/{m}/renumber")
    assert response.status_code == 302
    assert numbers(db, m) == [(1, "Punkt 3"), (2, "Punkt 1"), (3, "Punkt 2"), (4, "Sidst")]
    item = db.session.get(AgendaItem, third.id)
    assert item.position == 0


def test_mark_an_item_closed_and_open(client, db, login, post, record):
    login(record.secretary)
    item_id = record.items[1].id
    assert post(f"/manage/items/{item_id}/closed", {"closed": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(AgendaItem, item_id).is_closed
    post(f"/manage/items/{item_id}/closed", {"closed": "0"})
    db.session.expire_all()
    assert not db.session.get(AgendaItem, item_id).is_closed
    response = post(f"/manage/items/{item_id}/closed", {"closed": "måske"})
    assert response.status_code == 400
    assert "Vælg lukket eller åbent." in response.text


def test_delete_an_item_needs_confirmation(client, db, factories, login, post, record):
    item = record.items[0]
    factories.absent_for_item(item, "A 1")
    item.clauses.append(RecommendationClause(position=0, text="at det godkendes"))
    db.session.commit()
    login(record.secretary)

    page = client.get(f"/manage/items/{item.id}/delete").text
    assert "Ja, slet punktet" in page
    response = post(f"/manage/items/{item.id}/delete", {})
    assert response.status_code == 400
    assert "Sæt kryds for at bekræfte, at punktet skal slettes." in response.text
    assert count(db, AgendaItem) == 3

    response = post(f"/manage/items/{item.id}/delete", {"confirm": "y"})
    assert response.status_code == 302
    assert numbers(db, record.meeting.id) == [(2, "Punkt 2"), (3, "Punkt 3")]
    assert [i.position for i in db.session.get(Meeting, record.meeting.id).items] == [0, 1]
    assert count(db, RecommendationClause) == 0
    assert count(db, ItemAttendance) == 0
    deleted = db.session.scalars(
        sa.select(AuditEntry.entity).where(AuditEntry.action == "delete")
    ).all()
    assert {"agenda_items", "recommendation_clauses", "item_attendance"} <= set(deleted)


@pytest.mark.parametrize("state", [MeetingState.CLOSED])
def test_delete_an_item_only_while_planned_or_in_session(client, db, login, post, record, state):
    record.meeting.state = state
    db.session.commit()
    login(record.secretary)
    assert (
        "kun slettes, mens mødet er planlagt eller i gang"
        in client.get(f"/manage/items/{record.items[0].id}/delete").text
    )
    response = post(f"/manage/items/{record.items[0].id}/delete", {"confirm": "y"})
    assert response.status_code == 409
    assert "kun slettes, mens mødet er planlagt eller i gang" in response.text
    assert count(db, AgendaItem) == 3


def test_a_closed_meeting_still_takes_other_changes(client, db, login, post, record):
    record.meeting.state = MeetingState.CLOSED
    db.session.commit()
    login(record.secretary)
    assert (
        post(f"/manage/meetings/{record.meeting.id}/items", {"title": "Eftersendt"}).status_code
        == 302
    )


# --- an item's case -----------------------------------------------------------------------


def test_update_item_fields(client, db, login, post, record):
    login(record.secretary)
    item = record.items[0]
    response = post(
        f"/manage/items/{item.id}",
        {
            "number": "14",
            "title": "Endeligt udkast til ny integrationspolitik 2011-2014",
            "case_number": "2010-174928",
            "administration": "Beskæftigelses- og Integrationsforvaltningen",
            "summary": "Første afsnit.\r\n\r\nAndet afsnit.",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/manage/items/{item.id}"
    db.session.expire_all()
    item = db.session.get(AgendaItem, item.id)
    assert (item.number, item.case_number, item.is_closed) == (14, "2010-174928", False)
    assert item.administration == "Beskæftigelses- og Integrationsforvaltningen"
    assert item.summary == "Første afsnit.\n\nAndet afsnit."


def test_update_item_refuses_a_taken_number_and_keeps_the_input(client, db, login, post, record):
    login(record.secretary)
    item = record.items[0]
    response = post(
        f"/manage/items/{item.id}",
        {"number": "3", "title": "Min nye titel", "summary": "Ikke tabt"},
    )
    assert response.status_code == 400
    assert "Der er allerede et punkt nummer 3" in response.text
    assert "Min nye titel" in response.text
    assert "Ikke tabt" in response.text
    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id).title == "Punkt 1"


def test_update_item_requires_number_and_title(client, db, login, post, record):
    login(record.secretary)
    response = post(f"/manage/items/{record.items[0].id}", {"number": "", "title": ""})
    assert response.status_code == 400
    assert "Angiv punktets nummer." in response.text
    assert "Skriv punktets titel." in response.text


def clauses(db, item_id: int) -> list[tuple[int, str, str]]:
    db.session.expire_all()
    return [
        (c.number, c.lead_in, c.text)
        for c in db.session.scalars(
            sa.select(RecommendationClause)
            .where(RecommendationClause.item_id == item_id)
            .order_by(RecommendationClause.position)
        )
    ]


def test_recommendation_clauses_add_edit_move_delete(client, db, login, post, record):
    login(record.secretary)
    item_id = record.items[0].id
    lead = "Forvaltningen indstiller, at udvalget over for Borgerrepræsentationen anbefaler,"
    post(
        f"/manage/items/{item_id}/clauses",
        {"new-clause-lead_in": lead, "new-clause-text": "at første godkendes"},
    )
    # The next clause's lead-in is offered from the one before.
    assert f"{lead}</textarea>" in client.get(f"/manage/items/{item_id}").text
    post(
        f"/manage/items/{item_id}/clauses",
        {"new-clause-lead_in": lead, "new-clause-text": "at anden godkendes"},
    )
    assert clauses(db, item_id) == [
        (1, lead, "at første godkendes"),
        (2, lead, "at anden godkendes"),
    ]
    _, second = db.session.scalars(
        sa.select(RecommendationClause).order_by(RecommendationClause.position)
    ).all()

    response = post(
        f"/manage/clauses/{second.id}",
        {f"clause{second.id}-lead_in": "", f"clause{second.id}-text": "at anden"},
    )
    assert response.status_code == 302
    post(f"/manage/clauses/{second.id}/move", {"direction": "up"})
    assert clauses(db, item_id) == [(1, "", "at anden"), (2, lead, "at første godkendes")]

    assert post(f"/manage/clauses/{second.id}/delete").status_code == 302
    assert clauses(db, item_id) == [(1, lead, "at første godkendes")]


def test_a_clause_needs_its_text(client, db, login, post, record):
    login(record.secretary)
    item_id = record.items[0].id
    response = post(
        f"/manage/items/{item_id}/clauses",
        {"new-clause-lead_in": "Indledning", "new-clause-text": " "},
    )
    assert response.status_code == 400
    assert "Skriv indstillingens tekst." in response.text
    assert "Indledning" in response.text
    assert count(db, RecommendationClause) == 0


def test_case_sections_add_edit_move_delete(client, db, login, post, record):
    login(record.secretary)
    item_id = record.items[0].id
    table = "| dato | aktivitet |\r\n| --- | --- |\r\n| 6. december | Udvalget |"
    post(
        f"/manage/items/{item_id}/sections",
        {"new-section-heading": "Problemstilling", "new-section-body": "Et afsnit."},
    )
    post(
        f"/manage/items/{item_id}/sections",
        {"new-section-heading": "Videre proces", "new-section-body": table},
    )
    sections = db.session.scalars(sa.select(CaseSection).order_by(CaseSection.position)).all()
    assert [(s.heading, s.position) for s in sections] == [
        ("Problemstilling", 0),
        ("Videre proces", 1),
    ]
    assert sections[1].body == table.replace("\r\n", "\n")
    page = client.get(f"/manage/items/{item_id}").text
    assert "CommonMark" in page and "tabeller" in page

    second = sections[1]
    post(
        f"/manage/sections/{second.id}",
        {f"section{second.id}-heading": "Økonomi", f"section{second.id}-body": "Ingen."},
    )
    post(f"/manage/sections/{second.id}/move", {"direction": "up"})
    db.session.expire_all()
    sections = db.session.scalars(sa.select(CaseSection).order_by(CaseSection.position)).all()
    assert [(s.heading, s.body) for s in sections] == [
        ("Økonomi", "Ingen."),
        ("Problemstilling", "Et afsnit."),
    ]
    post(f"/manage/sections/{second.id}/delete")
    db.session.expire_all()
    sections = db.session.scalars(sa.select(CaseSection)).all()
    assert [(s.heading, s.position) for s in sections] == [("Problemstilling", 0)]


def test_a_section_needs_a_heading(client, db, login, post, record):
    login(record.secretary)
    response = post(
        f"/manage/items/{record.items[0].id}/sections",
        {"new-section-heading": "", "new-section-body": "Tekst, der ikke tabes"},
    )
    assert response.status_code == 400
    assert "Skriv afsnittets overskrift." in response.text
    assert "Tekst, der ikke tabes" in response.text
    assert count(db, CaseSection) == 0


def test_signatories_one_per_line(client, db, login, post, record):
    login(record.secretary)
    item_id = record.items[0].id

    def names():
        db.session.expire_all()
        return [
            s.name
            for s in db.session.scalars(sa.select(ItemSignatory).order_by(ItemSignatory.position))
        ]

    post(
        f"/manage/items/{item_id}/signatories",
        {"names": "Morten Binder\r\n\r\n  Kaj Ove   Christiansen  \r\n"},
    )
    assert names() == ["Morten Binder", "Kaj Ove Christiansen"]
    first_id = db.session.scalar(sa.select(ItemSignatory.id).where(ItemSignatory.position == 0))
    post(f"/manage/items/{item_id}/signatories", {"names": "Morten Binder"})
    assert names() == ["Morten Binder"]
    assert db.session.scalar(sa.select(ItemSignatory.id)) == first_id  # kept, not recreated
    response = post(f"/manage/items/{item_id}/signatories", {"names": "x" * 201})
    assert response.status_code == 400
    assert "Et navn må højst have 200 tegn" in response.text
    assert names() == ["Morten Binder"]
    post(f"/manage/items/{item_id}/signatories", {"names": ""})
    assert names() == []


# --- attendance ---------------------------------------------------------------------------


def test_attendance_page_lists_the_seated_in_party_order(client, login, record):
    login(record.secretary)
    html = client.get(f"/manage/meetings/{record.meeting.id}/attendance").text
    order = [
        "A 1 (A)",
        "A 2 (A)",
        "Stedfortræder (A)",
        "B 1 (B)",
        "V 1 (V)",
        "C 1 (C)",
        "Løsgænger 1",
    ]
    positions = [html.index(label) for label in order]
    assert positions == sorted(positions)
    assert "Gammel" not in html


def test_save_meeting_attendance(client, db, factories, login, post, record):
    login(record.secretary)
    m = record.meeting
    ids = {
        name: factories.members[name].id
        for name in ("A 1", "A 2", "B 1", "V 1", "C 1", "Løsgænger 1", "Stedfortræder")
    }
    data = {f"present_{i}": "y" for name, i in ids.items() if name not in ("B 1",)}
    data[f"note_{ids['B 1']}"] = "afbud"
    data[f"note_{ids['A 2']}"] = "ankom kl. 16.10"
    response = post(f"/manage/meetings/{m.id}/attendance", data)
    assert response.status_code == 302
    db.session.expire_all()
    rows = {a.member.name: (a.is_present, a.note) for a in db.session.get(Meeting, m.id).attendance}
    assert rows["B 1"] == (False, "afbud")
    assert rows["A 2"] == (True, "ankom kl. 16.10")
    assert rows["Stedfortræder"] == (True, "")


def test_meeting_attendance_note_too_long(client, db, factories, login, post, record):
    login(record.secretary)
    member_id = factories.members["B 1"].id
    response = post(
        f"/manage/meetings/{record.meeting.id}/attendance", {f"note_{member_id}": "x" * 301}
    )
    assert response.status_code == 400
    assert "Højst 300 tegn." in response.text
    db.session.expire_all()
    assert count(db, MeetingAttendance, MeetingAttendance.is_present.is_(False)) == 0


def test_item_attendance_exceptions(client, db, factories, login, post, record):
    login(record.secretary)
    item = record.items[1]
    a1, b1 = factories.members["A 1"].id, factories.members["B 1"].id
    page = client.get(f"/manage/meetings/{record.meeting.id}/attendance?item={item.id}").text
    assert "Punkt 2: Punkt 2" in page
    response = post(
        f"/manage/items/{item.id}/attendance",
        {f"presence_{a1}": "inhabil", f"presence_{b1}": "absent"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"item={item.id}#punkt")

    db.session.expire_all()
    item = db.session.get(AgendaItem, item.id)
    assert {e.member.name: e.presence for e in item.attendance} == {
        "A 1": ItemPresence.DISQUALIFIED,
        "B 1": ItemPresence.ABSENT,
    }
    assert "A 1" not in {s.member.name for s in services.present_for_item(item).values()}

    post(f"/manage/items/{item.id}/attendance", {f"presence_{a1}": "inhabil"})
    db.session.expire_all()
    assert count(db, ItemAttendance) == 1

    response = post(f"/manage/items/{item.id}/attendance", {f"presence_{a1}": "syg"})
    assert response.status_code == 400
    assert "Vælg som mødet, til stede, fraværende eller inhabil." in response.text
    assert count(db, ItemAttendance) == 1


# --- the public pages keep working --------------------------------------------------------


def test_public_pages_stay_public(client, record):
    assert client.get("/").status_code == 200
    response = client.get(f"/meetings/{record.meeting.id}")
    assert response.status_code == 200
    assert "Forbered mødet" not in response.text


def test_public_meeting_page_links_the_secretary_to_preparation(client, login, record):
    login(record.secretary)
    html = client.get(f"/meetings/{record.meeting.id}").text
    assert f'href="/manage/meetings/{record.meeting.id}"' in html


# --- every view states its roles; the pages are labelled ---------------------------------

#: The public pages of meetings are in `minutes.portal`; only the attachments are here.
PUBLIC_VIEWS = {"meetings.download_attachment"}


def test_every_meetings_view_states_its_roles(app):
    endpoints = [e for e in app.view_functions if e.startswith("meetings.")]
    assert len(endpoints) == 28
    for endpoint in endpoints:
        roles = app.view_functions[endpoint].allowed_roles
        expected = {"public"} if endpoint in PUBLIC_VIEWS else {"admin", "secretary"}
        assert roles == expected, endpoint


class _Controls(HTMLParser):
    """Collects the form controls and how each is labelled."""

    def __init__(self) -> None:
        super().__init__()
        self.label_for: set[str] = set()
        self.unlabelled: list[str] = []
        self.th_scopes: list[str | None] = []
        self.controls: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        if tag == "th":
            self.th_scopes.append(a.get("scope"))
        if tag in ("input", "select", "textarea") and a.get("type") not in (
            "hidden",
            "submit",
            "button",
        ):
            self.controls.append(a)

    def check(self) -> list[str]:
        return [
            c.get("name") or "?"
            for c in self.controls
            if not (
                c.get("aria-label") or c.get("aria-labelledby") or c.get("id") in self.label_for
            )
        ]


@pytest.mark.parametrize("page", ["/manage", *PAGES])
def test_every_control_is_labelled_and_every_th_scoped(client, db, factories, login, record, page):
    item = record.items[0]
    item.clauses.append(RecommendationClause(position=0, lead_in="Indledning", text="at"))
    item.sections.append(CaseSection(position=0, heading="Økonomi", body="Ingen."))
    db.session.commit()
    login(record.secretary)
    html = client.get(fill(page, record)).text
    parsed = _Controls()
    parsed.feed(html)
    assert parsed.controls
    assert parsed.check() == []
    assert all(scope in ("col", "row") for scope in parsed.th_scopes)
    assert "<h1>" in html


def test_the_same_new_item_sent_twice_is_added_once(client, db, login, post, record):
    """A double click on *Tilføj punkt* (found by tests/protokol/test_fuzz_forms.py)."""
    login(record.secretary)
    m = record.meeting.id
    url = f"/manage/meetings/{m}/items"
    data = {"title": "Integrationspolitik", "case_number": "2010-174928"}
    assert post(url, data).status_code == 302
    again = post(url, data, headers={"Referer": f"http://localhost/manage/meetings/{m}"})
    assert again.status_code == 302
    assert again.headers["Location"] == f"/manage/meetings/{m}"
    assert count(db, AgendaItem, AgendaItem.title == "Integrationspolitik") == 1
    page = client.get(f"/manage/meetings/{m}").text
    assert "Formularen var allerede sendt. Den er kun gemt én gang." in page
    # Another item, or a refused submission corrected and sent again, is taken as usual.
    assert post(url, {"title": "Andet punkt"}).status_code == 302
    assert post(url, {"title": ""}).status_code == 400
    assert post(url, {"title": ""}).status_code == 400
    assert count(db, AgendaItem, AgendaItem.meeting_id == m) == 5


def test_a_repeat_never_redirects_off_the_site(client, login, post, record):
    login(record.secretary)
    url = f"/manage/meetings/{record.meeting.id}/items"
    post(url, {"title": "Et punkt"})
    again = post(url, {"title": "Et punkt"}, headers={"Referer": "http://localhost//evil.example/"})
    assert again.headers["Location"] == "/evil.example/"
    again = post(url, {"title": "Et punkt"}, headers={"Referer": "https://evil.example/"})
    assert again.headers["Location"] == "/"
