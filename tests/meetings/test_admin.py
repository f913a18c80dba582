"""The admin screens: bodies with their party order, parties, members and seats, users.

Who may use them, that every change persists through the forms, that refused input gets
a Danish message and a 4xx and changes nothing, CSRF, and the audit trail.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from meetings import admin_services as services
from meetings.admin import INDEPENDENT
from meetings.models import Body, BodyParty, MeetingState, Member, Party, Seat, SeatRole
from protokol.accounts.models import Role, User
from protokol.accounts.services import authenticate
from protokol.audit import Audited, AuditEntry

#: Every admin page, with placeholders for the ids of `record`.
PAGES = [
    "/admin/",
    "/admin/bodies",
    "/admin/bodies/new",
    "/admin/bodies/{body}/edit",
    "/admin/parties",
    "/admin/parties/new",
    "/admin/parties/{party}/edit",
    "/admin/members",
    "/admin/members/new",
    "/admin/members/{member}",
    "/admin/seats/{seat}/edit",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{user}/edit",
]
#: Every admin URL that takes a POST.
POSTS = [
    "/admin/bodies/new",
    "/admin/bodies/{body}/edit",
    "/admin/parties/new",
    "/admin/parties/{party}/edit",
    "/admin/members/new",
    "/admin/members/{member}",
    "/admin/members/{member}/seats",
    "/admin/seats/{seat}/edit",
    "/admin/seats/{seat}/end",
    "/admin/users/new",
    "/admin/users/{user}/edit",
    "/admin/users/{user}/deactivate",
]


def count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def html(response) -> str:
    return response.get_data(as_text=True)


def letters(body: Body) -> list[str]:
    return [p.letter for p in body.ordered_parties]


@pytest.fixture
def record(db, factories, make_user):
    """A body (parties A B F Ø V O C), a member with an open seat for A, a secretary."""
    body = factories.body()
    member = factories.member(body, "Anna Andersen", "A")
    db.session.commit()
    secretary = make_user("secretary", bodies=[body])
    return SimpleNamespace(
        body=body,
        party=factories.party("A"),
        member=member,
        seat=member.seats[0],
        secretary=secretary,
    )


@pytest.fixture
def ids(record) -> dict[str, int]:
    return {
        "body": record.body.id,
        "party": record.party.id,
        "member": record.member.id,
        "seat": record.seat.id,
        "user": record.secretary.id,
    }


@pytest.fixture
def admin(make_user, login):
    """A logged-in admin."""
    user = make_user("admin", email="admin@kk.dk")
    login(user)
    return user


def seat_data(
    body: Body,
    party: Party | str | None,
    starts_on: str,
    ends_on: str = "",
    role: str = "medlem",
    prefix: str = "seat-",
) -> dict[str, str]:
    if isinstance(party, Party):
        party_value = str(party.id)
    else:
        party_value = INDEPENDENT if party is None else party
    return {
        f"{prefix}body": str(body.id),
        f"{prefix}party": party_value,
        f"{prefix}role": role,
        f"{prefix}starts_on": starts_on,
        f"{prefix}ends_on": ends_on,
    }


class _Page(HTMLParser):
    """The form controls, labels and table headers of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str | None] = []
        self.labelled: set[str | None] = set()
        self.header_scopes: list[str | None] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        attributes = dict(attrs)
        if tag in {"input", "select", "textarea"} and attributes.get("type") != "hidden":
            self.controls.append(attributes.get("id"))
        elif tag == "label":
            self.labelled.add(attributes.get("for"))
        elif tag == "th":
            self.header_scopes.append(attributes.get("scope"))


# --- Access ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_screen_renders_for_admin(client, admin, ids, page):
    response = client.get(page.format(**ids))
    assert response.status_code == 200
    parsed = _Page()
    parsed.feed(html(response))
    assert "<h1>" in html(response)
    assert all(c in parsed.labelled for c in parsed.controls), "every input has a label"
    assert all(s in {"col", "row"} for s in parsed.header_scopes), "every <th> has a scope"


def test_every_admin_view_is_for_admins_only(app):
    endpoints = [e for e in app.view_functions if e.startswith("admin.")]
    assert len(endpoints) == 17
    for endpoint in endpoints:
        assert app.view_functions[endpoint].allowed_roles == {"admin"}, endpoint


@pytest.mark.parametrize("role", ["secretary", "member"])
def test_secretaries_and_members_are_forbidden(
    db, client, make_user, login, post, record, ids, role
):
    user = make_user(
        role,
        bodies=[record.body] if role == "secretary" else [],
        member=record.member if role == "member" else None,
    )
    login(user)
    for page in PAGES:
        assert client.get(page.format(**ids)).status_code == 403, page
    for url in POSTS:
        response = post(url.format(**ids), {"name": "Ændret", "letter": "Z", "email": "z@kk.dk"})
        assert response.status_code == 403, url
    assert "Du har ikke adgang" in html(client.get("/admin/"))
    db.session.expire_all()
    assert count(db, Party) == 7 and record.member.name == "Anna Andersen"
    assert record.secretary.is_active


def test_anonymous_is_sent_to_login(db, client, post, ids):
    for page in PAGES:
        response = client.get(page.format(**ids))
        assert response.status_code == 302, page
        assert response.headers["Location"].startswith("/login"), page
    for url in POSTS:
        response = post(url.format(**ids), {"name": "Ændret", "letter": "Z"})
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert count(db, Party) == 7


def test_changes_need_post(client, admin, ids):
    for url in (
        "/admin/members/{member}/seats",
        "/admin/seats/{seat}/end",
        "/admin/users/{user}/deactivate",
    ):
        assert client.get(url.format(**ids)).status_code == 405


def test_unknown_records_are_404(client, admin, post):
    for page in (
        "/admin/bodies/999/edit",
        "/admin/parties/999/edit",
        "/admin/members/999",
        "/admin/seats/999/edit",
        "/admin/users/999/edit",
    ):
        assert client.get(page).status_code == 404, page
    assert post("/admin/seats/999/end", {"end-999-ends_on": "2011-01-01"}).status_code == 404
    assert post("/admin/users/999/deactivate").status_code == 404


# --- CSRF --------------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused(db, client, admin, record, ids):
    response = client.post("/admin/parties/new", data={"letter": "Å", "name": "Alternativet"})
    assert response.status_code == 400
    assert "sikkerhedsnøglen" in html(response)
    response = client.post(f"/admin/users/{ids['user']}/deactivate")
    assert response.status_code == 400
    response = client.post(
        f"/admin/members/{ids['member']}/seats",
        data=seat_data(record.body, None, "2012-01-01"),
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert count(db, Party) == 7 and count(db, Seat) == 1
    assert record.secretary.is_active


# --- Parties -----------------------------------------------------------------------------


def test_create_and_edit_party(db, admin, post, record):
    response = post("/admin/parties/new", {"letter": " V  2 ", "name": "Venstre, gruppe 2"})
    assert response.status_code == 302
    party = db.session.scalar(sa.select(Party).where(Party.letter == "V 2"))
    assert party is not None and party.name == "Venstre, gruppe 2"

    response = post(f"/admin/parties/{party.id}/edit", {"letter": "V2", "name": "Gruppe 2"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (party.letter, party.name) == ("V2", "Gruppe 2")


def test_duplicate_party_letter_is_refused(db, admin, post, record):
    response = post("/admin/parties/new", {"letter": "a", "name": "Noget andet"})
    assert response.status_code == 400
    assert "Bogstavet findes allerede." in html(response)
    assert count(db, Party) == 7

    b = db.session.scalar(sa.select(Party).where(Party.letter == "B"))
    response = post(f"/admin/parties/{b.id}/edit", {"letter": "Ø", "name": "Enhedslisten"})
    assert response.status_code == 400
    assert "Bogstavet findes allerede." in html(response)
    db.session.expire_all()
    assert (b.letter, b.name) == ("B", "Det Radikale Venstre")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"letter": "", "name": "Nyt"}, "Skriv partiets bogstav."),
        ({"letter": "X", "name": "  "}, "Skriv partiets navn."),
        ({"letter": "ABCDEFGHIJK", "name": "Langt"}, "Skriv højst 10 tegn."),
        ({"letter": "X,Y", "name": "Komma"}, "Bogstavet må ikke indeholde komma"),
    ],
)
def test_bad_party_input_is_refused(db, admin, post, record, data, message):
    response = post("/admin/parties/new", data)
    assert response.status_code == 400
    assert message in html(response)
    assert count(db, Party) == 7


# --- Bodies ------------------------------------------------------------------------------


def body_data(name="Kultur- og Fritidsudvalget", order="A B F Ø V O C", style="generic-da"):
    return {"name": name, "genitive_name": name + "s", "minutes_style": style, "party_order": order}


def test_create_body_with_party_order(db, admin, post, factories, record):
    factories.party("V 2", "Venstre, gruppe 2")
    db.session.commit()
    response = post("/admin/bodies/new", body_data(order="ø a\nV 2, c"))
    assert response.status_code == 302
    body = db.session.scalar(sa.select(Body).where(Body.name == "Kultur- og Fritidsudvalget"))
    assert body.genitive_name == "Kultur- og Fritidsudvalgets"
    assert body.minutes_style == "generic-da"
    assert letters(body) == ["Ø", "A", "V 2", "C"]
    assert [bp.position for bp in body.party_order] == [0, 1, 2, 3]


def test_edit_body_reorders_parties(db, client, admin, post, record):
    page = html(client.get(f"/admin/bodies/{record.body.id}/edit"))
    assert "A B F Ø V O C</textarea>" in page
    data = body_data(name="Testudvalget", order="C O V Ø F B", style="kbh-udvalg-2010")
    data["genitive_name"] = "Testudvalgets (ejefald)"
    response = post(f"/admin/bodies/{record.body.id}/edit", data)
    assert response.status_code == 302
    db.session.expire_all()
    assert letters(record.body) == ["C", "O", "V", "Ø", "F", "B"]
    assert record.body.genitive_name == "Testudvalgets (ejefald)"
    assert count(db, BodyParty) == 6


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ("A X B", "Ukendt parti: X."),
        ("A X Y", "Ukendte partier: X, Y."),
        ("A B A", "Partiet A står flere gange."),
        ("A, a", "Partiet A står flere gange."),
    ],
)
def test_bad_party_order_is_refused(db, admin, post, record, order, message):
    response = post("/admin/bodies/new", body_data(order=order))
    assert response.status_code == 400
    assert message in html(response)
    assert count(db, Body) == 1

    response = post(f"/admin/bodies/{record.body.id}/edit", body_data("Testudvalget", order))
    assert response.status_code == 400
    assert message in html(response)
    db.session.expire_all()
    assert letters(record.body) == ["A", "B", "F", "Ø", "V", "O", "C"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (body_data(style="findes-ikke"), "Vælg en af de tilgængelige protokolstile."),
        (body_data(name="testudvalget"), "Der findes allerede et udvalg med det navn."),
        ({**body_data(), "name": ""}, "Skriv udvalgets navn."),
        ({**body_data(), "genitive_name": ""}, "Skriv navnet i ejefald"),
    ],
)
def test_bad_body_input_is_refused(db, admin, post, record, data, message):
    response = post("/admin/bodies/new", data)
    assert response.status_code == 400
    assert message in html(response)
    assert count(db, Body) == 1


def test_configured_styles_are_offered_when_they_load(
    app, db, client, admin, post, record, tmp_path
):
    (tmp_path / "egen").mkdir()
    (tmp_path / "egen" / "style.toml").write_text('extends = "generic-da"\n', encoding="utf-8")
    (tmp_path / "brudt").mkdir()
    (tmp_path / "brudt" / "style.toml").write_text("ikke = [toml", encoding="utf-8")
    app.config["PROTOKOL_STYLE_DIRS"] = [str(tmp_path)]
    page = html(client.get("/admin/bodies/new"))
    assert '<option value="egen">' in page and "brudt" not in page
    assert '<option selected value="kbh-udvalg-2010">' in page
    response = post("/admin/bodies/new", body_data(style="brudt"))
    assert response.status_code == 400
    assert post("/admin/bodies/new", body_data(style="egen")).status_code == 302
    assert db.session.scalar(sa.select(Body.minutes_style).where(Body.id != record.body.id)) == (
        "egen"
    )


def test_split_party_letters():
    known = ["A", "B", "V", "V 2", "Ø"]
    assert services.split_party_letters("A B V 2 Ø", known) == ["A", "B", "V 2", "Ø"]
    assert services.split_party_letters("a;b\r\nv, ø", known) == ["A", "B", "V", "Ø"]
    assert services.split_party_letters("A X 2", known) == ["A", "X", "2"]
    assert services.split_party_letters("  ", known) == []


# --- Members and seats -------------------------------------------------------------------


def test_create_and_rename_member(db, admin, post):
    response = post("/admin/members/new", {"name": "Bo Bentsen"})
    assert response.status_code == 302
    member = db.session.scalar(sa.select(Member).where(Member.name == "Bo Bentsen"))
    assert response.headers["Location"] == f"/admin/members/{member.id}"

    response = post(f"/admin/members/{member.id}", {"name": "Bo Bentsen Hansen"})
    assert response.status_code == 302
    db.session.expire_all()
    assert member.name == "Bo Bentsen Hansen"

    response = post(f"/admin/members/{member.id}", {"name": ""})
    assert response.status_code == 400
    assert "Skriv et navn." in html(response)


def test_add_seats(db, admin, post, factories, record):
    other = factories.body("Økonomiudvalget")
    db.session.commit()
    url = f"/admin/members/{record.member.id}/seats"
    # The same body after the open seat ends would overlap; another body is fine, and
    # Danish dates are understood.
    response = post(url, seat_data(other, None, "06.12.2010", "31.12.2013", "formand"))
    assert response.status_code == 302
    seat = db.session.scalar(sa.select(Seat).where(Seat.body_id == other.id))
    assert seat.party_id is None and seat.is_independent
    assert seat.role == SeatRole.CHAIR
    assert (seat.starts_on, seat.ends_on) == (date(2010, 12, 6), date(2013, 12, 31))


def test_ends_on_before_starts_on_is_refused(db, admin, post, factories, record):
    other = factories.body("Økonomiudvalget")
    db.session.commit()
    url = f"/admin/members/{record.member.id}/seats"
    response = post(url, seat_data(other, record.party, "2011-01-01", "2010-12-31"))
    assert response.status_code == 400
    assert "Sidste dag kan ikke ligge før første dag." in html(response)
    assert count(db, Seat) == 1
    # The service refuses it as well, whoever calls it.
    with pytest.raises(services.AdminError, match="Sidste dag"):
        services.add_seat(
            record.member, other, None, SeatRole.MEMBER, date(2011, 1, 1), date(2010, 12, 31)
        )


def test_overlapping_seat_in_the_same_body_is_refused(db, admin, post, record):
    url = f"/admin/members/{record.member.id}/seats"
    response = post(url, seat_data(record.body, None, "2011-01-01"))
    assert response.status_code == 400
    assert (
        "Anna Andersen har allerede en plads i Testudvalget fra 01.01.2010, som overlapper."
        in html(response)
    )
    assert count(db, Seat) == 1


def test_end_seat_then_add_the_next_one(db, admin, post, record):
    response = post(
        f"/admin/seats/{record.seat.id}/end", {f"end-{record.seat.id}-ends_on": "2010-12-31"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert record.seat.ends_on == date(2010, 12, 31)

    url = f"/admin/members/{record.member.id}/seats"
    response = post(url, seat_data(record.body, None, "2010-12-31"))
    assert response.status_code == 400 and "overlapper" in html(response)
    response = post(url, seat_data(record.body, None, "2011-01-01"))
    assert response.status_code == 302
    assert [s.is_independent for s in record.member.seats] == [False, True]


@pytest.mark.parametrize(
    ("ends_on", "message"),
    [
        ("2009-12-31", "Sidste dag kan ikke ligge før første dag."),
        ("", "Skriv pladsens sidste dag."),
        ("31/12/2010", "Skriv datoen som 2010-12-06 eller 06.12.2010."),
    ],
)
def test_bad_seat_end_is_refused(db, admin, post, record, ends_on, message):
    response = post(
        f"/admin/seats/{record.seat.id}/end", {f"end-{record.seat.id}-ends_on": ends_on}
    )
    assert response.status_code == 400
    assert message in html(response)
    db.session.expire_all()
    assert record.seat.ends_on is None


def test_ended_seat_cannot_be_ended_again(db, admin, post, factories):
    body = factories.body()
    member = factories.member(body, "Bo", "B", ends_on=date(2010, 6, 30))
    db.session.commit()
    seat = member.seats[0]
    response = post(f"/admin/seats/{seat.id}/end", {f"end-{seat.id}-ends_on": "2010-12-31"})
    assert response.status_code == 400
    assert "Pladsen er allerede afsluttet den 30.06.2010." in html(response)


def test_edit_seat(db, admin, post, record):
    f = db.session.scalar(sa.select(Party).where(Party.letter == "F"))
    url = f"/admin/seats/{record.seat.id}/edit"
    response = post(
        url, seat_data(record.body, f, "2010-02-01", "2011-12-31", "naestformand", prefix="")
    )
    assert response.status_code == 302
    db.session.expire_all()
    seat = record.seat
    assert (seat.party.letter, seat.role) == ("F", SeatRole.VICE_CHAIR)
    assert (seat.starts_on, seat.ends_on) == (date(2010, 2, 1), date(2011, 12, 31))

    response = post(url, seat_data(record.body, f, "2012-01-01", "2011-12-31", prefix=""))
    assert response.status_code == 400
    assert "Sidste dag kan ikke ligge før første dag." in html(response)


def test_edited_seat_may_not_overlap_another(db, admin, post, record, factories):
    later = Seat(
        member=record.member,
        body=record.body,
        party=None,
        role=SeatRole.MEMBER,
        starts_on=date(2012, 1, 1),
    )
    record.seat.ends_on = date(2011, 12, 31)
    db.session.add(later)
    db.session.commit()
    response = post(
        f"/admin/seats/{record.seat.id}/edit",
        seat_data(record.body, record.party, "2010-01-01", "2012-06-30", prefix=""),
    )
    assert response.status_code == 400
    assert "fra 01.01.2012, som overlapper" in html(response)
    db.session.expire_all()
    assert record.seat.ends_on == date(2011, 12, 31)


def test_bad_seat_choices_are_refused(db, admin, post, record):
    url = f"/admin/members/{record.member.id}/seats"
    data = seat_data(record.body, "", "2020-01-01")
    data["seat-body"] = "999"
    data["seat-role"] = "boss"
    response = post(url, data)
    assert response.status_code == 400
    page = html(response)
    assert "Vælg et af udvalgene." in page
    assert "Vælg et parti, eller vælg løsgænger." in page
    assert "Vælg formand, næstformand, medlem eller stedfortræder." in page
    assert count(db, Seat) == 1


def test_seats_of_an_approved_meeting_are_kept(db, admin, post, factories, record):
    meeting = factories.meeting({"A": 1}, body=record.body, starts_at=datetime(2010, 12, 6, 15))
    meeting.state = MeetingState.APPROVED
    db.session.commit()
    response = post(
        f"/admin/seats/{record.seat.id}/end", {f"end-{record.seat.id}-ends_on": "2010-11-30"}
    )
    assert response.status_code == 409
    assert "mødet i Testudvalget den 06.12.2010, hvis protokol er godkendt" in html(response)
    db.session.expire_all()
    assert record.seat.ends_on is None

    other = factories.member(record.body, "Bo Bentsen", None, starts_on=date(2011, 1, 1))
    db.session.commit()
    response = post(
        f"/admin/seats/{other.seats[0].id}/edit",
        seat_data(record.body, None, "2010-12-01", prefix=""),
    )
    assert response.status_code == 409

    # Changes that leave the approved meeting's seats as they were are fine.
    response = post(
        f"/admin/seats/{record.seat.id}/end", {f"end-{record.seat.id}-ends_on": "2010-12-06"}
    )
    assert response.status_code == 302


# --- Users -------------------------------------------------------------------------------


def user_data(**fields) -> dict:
    data = {"email": "ny@kk.dk", "name": "Ny Bruger", "role": "secretary", "password": ""}
    data.update(fields)
    return data


def test_create_secretary_with_bodies_and_password(db, admin, post, factories, record):
    other = factories.body("Økonomiudvalget")
    db.session.commit()
    response = post(
        "/admin/users/new",
        user_data(
            email=" Ny@KK.dk ",
            password="hemmelig-kode-1",
            bodies=[str(record.body.id), str(other.id)],
            member=str(record.member.id),
        ),
    )
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "ny@kk.dk"))
    assert user.role == Role.SECRETARY and user.name == "Ny Bruger"
    assert sorted(b.name for b in user.bodies) == ["Testudvalget", "Økonomiudvalget"]
    assert user.member_id is None, "only a member-role user is linked to a member"
    assert authenticate("ny@kk.dk", "hemmelig-kode-1") is user


def test_generated_password_is_shown_once(db, client, admin, post):
    response = post("/admin/users/new", user_data(role="admin"), follow_redirects=True)
    assert response.status_code == 200
    match = re.search(r"med adgangskoden (\S+)\. Den vises kun denne ene gang", html(response))
    assert match
    assert authenticate("ny@kk.dk", match.group(1)) is not None
    assert match.group(1) not in html(client.get("/admin/users"))


def test_create_member_user(db, admin, post, record):
    response = post("/admin/users/new", user_data(role="member", member=str(record.member.id)))
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "ny@kk.dk"))
    assert user.member == record.member and user.bodies == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "secretary1@example.dk"}, "Der findes allerede en bruger med denne e-mail"),
        ({"email": "SECRETARY1@example.dk"}, "Der findes allerede en bruger med denne e-mail"),
        ({"email": "ikke-en-adresse"}, "Skriv en gyldig e-mailadresse"),
        ({"email": ""}, "Skriv en e-mailadresse."),
        ({"role": "member"}, "Vælg det medlem, brugeren hører til."),
        ({"role": "chef"}, "Vælg administrator, sekretær eller medlem."),
        ({"password": "kort"}, "Adgangskoden skal have mindst 10 tegn."),
        ({"bodies": ["999"]}, "Vælg blandt de udvalg, der findes."),
        ({"bodies": ["x"]}, "Vælg blandt de udvalg, der findes."),
    ],
)
def test_bad_user_input_is_refused(db, admin, post, record, fields, message):
    assert record.secretary.email == "secretary1@example.dk"
    response = post("/admin/users/new", user_data(**fields))
    assert response.status_code == 400
    assert message in html(response)
    assert count(db, User) == 2


def test_member_with_a_user_cannot_get_another(db, admin, post, make_user, record):
    make_user("member", member=record.member)
    response = post("/admin/users/new", user_data(role="member", member=str(record.member.id)))
    assert response.status_code == 400
    assert "Anna Andersen har allerede en bruger (member" in html(response)
    assert count(db, User) == 3


def test_edit_user(db, client, admin, post, record):
    user = record.secretary
    page = html(client.get(f"/admin/users/{user.id}/edit"))
    assert f'<option selected value="{record.body.id}">' in page
    response = post(
        f"/admin/users/{user.id}/edit",
        {
            "name": "Anna som medlem",
            "role": "member",
            "member": str(record.member.id),
            "bodies": [str(record.body.id)],
            "is_active": "y",
            "password": "ny-hemmelig-kode",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (user.name, user.role, user.member_id) == (
        "Anna som medlem",
        Role.MEMBER,
        record.member.id,
    )
    assert user.bodies == [] and user.is_active
    assert authenticate(user.email, "ny-hemmelig-kode") is user

    response = post(f"/admin/users/{user.id}/edit", {"role": "member", "member": ""})
    assert response.status_code == 400
    assert "Vælg det medlem, brugeren hører til." in html(response)
    db.session.expire_all()
    assert user.member_id == record.member.id


def test_deactivate_user(db, client, admin, post, record):
    response = post(f"/admin/users/{record.secretary.id}/deactivate")
    assert response.status_code == 302
    db.session.expire_all()
    assert not record.secretary.is_active
    assert authenticate(record.secretary.email, "password-123") is None

    response = post(
        f"/admin/users/{record.secretary.id}/edit", {"role": "secretary", "is_active": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert record.secretary.is_active and record.secretary.bodies == []


def test_admin_cannot_lock_themself_out(db, admin, post):
    response = post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 400
    assert "Du kan ikke fjerne din egen administratorrolle" in html(response)
    response = post(f"/admin/users/{admin.id}/edit", {"role": "secretary", "is_active": "y"})
    assert response.status_code == 400
    response = post(f"/admin/users/{admin.id}/edit", {"role": "admin"})
    assert response.status_code == 400
    db.session.expire_all()
    assert admin.is_active and admin.role == Role.ADMIN


def test_one_active_admin_remains(db, make_user):
    only = make_user("admin")
    with pytest.raises(services.AdminError, match="mindst én aktiv administrator") as caught:
        services.deactivate_user(only, actor=None)
    assert caught.value.conflict
    assert only.is_active


# --- Audit trail -------------------------------------------------------------------------


def test_audited_changes_are_logged_with_the_admin(db, admin, post, record):
    """The admin screens change these models; those that are part of the audited record
    get an entry naming the admin, the others none."""
    before = db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0
    post("/admin/parties/new", {"letter": "Å", "name": "Alternativet"})
    post("/admin/bodies/new", body_data(order="Å A"))
    post("/admin/members/new", {"name": "Bo Bentsen"})
    post(f"/admin/members/{record.member.id}", {"name": "Anna Andersen Hansen"})
    post(f"/admin/seats/{record.seat.id}/end", {f"end-{record.seat.id}-ends_on": "2011-01-31"})
    post("/admin/users/new", user_data(password="hemmelig-kode-1"))
    post(f"/admin/users/{record.secretary.id}/deactivate")
    db.session.expire_all()
    assert count(db, Party) == 8 and count(db, Body) == 2 and count(db, Member) == 2
    assert count(db, User, User.is_active.is_(False)) == 1
    hashes = db.session.scalars(
        sa.select(AuditEntry.after).where(AuditEntry.entity == "users", AuditEntry.id > before)
    ).all()
    assert all(a is None or a.get("password_hash") in (None, "(ændret)") for a in hashes)

    for model in (Party, Body, BodyParty, Member, Seat, User):
        entries = db.session.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.entity == model.__tablename__, AuditEntry.id > before
            )
        ).all()
        if issubclass(model, Audited):
            assert entries, model.__tablename__
            assert {e.actor_id for e in entries} == {admin.id}
        else:
            assert entries == [], model.__tablename__


# --- Robustness --------------------------------------------------------------------------


def test_forms_with_missing_fields_never_fail(db, admin, post, ids):
    for url in POSTS:
        response = post(url.format(**ids), {})
        assert response.status_code in {302, 400}, url


def test_a_concurrent_duplicate_is_a_409(db, admin, post, record, monkeypatch):
    """Another admin saved the same letter between the check and the write: the database's
    unique constraint refuses it, and the form says so."""
    monkeypatch.setattr(services, "_check_party", lambda letter, name, party: (letter, name))
    response = post("/admin/parties/new", {"letter": "A", "name": "Dobbelt"})
    assert response.status_code == 409
    assert "blev ændret samtidig" in html(response)
    assert count(db, Party) == 7
