"""The public portal: home, a body's meetings by year and its parties' figures, a meeting
and an item page; the agenda's publication; drafts for the people who work on a meeting;
the PDFs' conditional downloads and the frozen item PDFs; a fixed number of queries."""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from meetings.models import CaseSection, Meeting, MeetingState
from meetings.storage import attachment_path
from minutes.lifecycle import add_correction
from minutes.models import PublishedItemMinutes, PublishedMinutes
from minutes.views import render_public_item_pdf, render_public_pdf
from motions.models import MotionKind
from protokol.audit import AuditEntry
from tests.helpers import pdf_text

BODY = "Beskæftigelses- og Integrationsudvalget"
ITEM_14 = "Endeligt udkast til ny integrationspolitik 2011-2014"


@contextmanager
def count_queries(db):
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)


# --------------------------------------------------------------------------- home


def test_home_without_anything(client):
    html = client.get("/").text
    assert "Der er endnu ingen udvalg." in html
    assert "Der er ingen planlagte møder." in html
    assert "Der er endnu ingen offentliggjorte protokoller." in html


def test_home_lists_bodies_upcoming_meetings_and_published_minutes(
    client, db, factories, published_demo
):
    body = db.session.get(Meeting, published_demo).body
    soon = factories.meeting(
        body=body, starts_at=datetime.now() + timedelta(days=10), state=MeetingState.PLANNED
    )
    db.session.commit()
    html = client.get("/").text
    assert f'<a href="/bodies/{body.id}">{BODY}</a>' in html
    upcoming = html[html.index('id="kommende"') : html.index('id="protokoller"')]
    assert f'href="/meetings/{soon.id}"' in upcoming
    assert f'href="/meetings/{published_demo}"' not in upcoming
    published = html[html.index('id="protokoller"') :]
    assert f'href="/meetings/{published_demo}"' in published
    assert f'href="/meetings/{published_demo}/minutes.pdf"' in published
    assert f'href="/meetings/{soon.id}"' not in published


def test_home_does_not_list_unpublished_minutes(client, demo_id):
    html = client.get("/").text
    assert f'href="/meetings/{demo_id}/minutes.pdf"' not in html


# --------------------------------------------------------------------------- a body


def test_body_page_lists_the_meetings_by_year(client, db, factories):
    body = factories.body()
    old = factories.meeting(body=body, starts_at=datetime(2010, 12, 6, 15, 30))
    new = factories.meeting(body=body, starts_at=datetime(2011, 1, 10, 15, 30))
    db.session.commit()
    html = client.get(f"/bodies/{body.id}").text
    assert "<h1>Testudvalget</h1>" in html
    assert f'href="/bodies/{body.id}?year=2011" aria-current="page"' in html
    assert f'href="/bodies/{body.id}?year=2010"' in html
    assert f'href="/meetings/{new.id}"' in html and f'href="/meetings/{old.id}"' not in html
    html = client.get(f"/bodies/{body.id}?year=2010").text
    assert f'href="/meetings/{old.id}"' in html and f'href="/meetings/{new.id}"' not in html
    html = client.get(f"/bodies/{body.id}?year=2015").text
    assert "Udvalget har ingen møder i 2015." in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("year=abc", "Året »abc« skal være et årstal"),
        ("year=99999", "Året »99999« skal være et årstal"),
        ("from=2010-13-01", "Datoen »2010-13-01« findes ikke."),
        ("from=06.12.2010", "Datoen »06.12.2010« skal skrives ÅÅÅÅ-MM-DD."),
        ("to=2010-02-30", "Datoen »2010-02-30« findes ikke."),
        ("from=2011-01-01&to=2010-01-01", "Perioden skal begynde før den slutter."),
    ],
)
def test_body_page_refuses_bad_arguments_with_400(client, db, factories, query, message):
    body = factories.body()
    db.session.commit()
    response = client.get(f"/bodies/{body.id}?{query}")
    assert response.status_code == 400
    assert message in response.text


def test_unknown_body_is_404(client):
    assert client.get("/bodies/999").status_code == 404


def test_body_page_party_chart_and_table(client, published_demo, db):
    body = db.session.get(Meeting, published_demo).body
    html = client.get(f"/bodies/{body.id}").text
    for chart in ("chart-majority", "chart-remarks"):
        svg = re.search(rf'<svg [^>]*id="{chart}".*?</svg>', html, re.S).group(0)
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    # The demo: C's amendment rejected 3 (V, O, C) to 6; B's adopted 6 to 3.
    table = html[html.index(">Partiernes afstemninger") :]
    row = table[table.index('title="Socialdemokratiet"') :].split("</tr>")[0]
    assert [c.split("</td>")[0] for c in row.split("<td>")[1:]] == ["2", "2", "100 %", "0"]
    row = table[table.index('title="Venstre"') :].split("</tr>")[0]
    assert [c.split("</td>")[0] for c in row.split("<td>")[1:]] == ["2", "0", "0 %", "0"]
    row = table[table.index('title="Dansk Folkeparti"') :].split("</tr>")[0]
    assert [c.split("</td>")[0] for c in row.split("<td>")[1:]] == ["2", "0", "0 %", "1"]
    html = client.get(f"/bodies/{body.id}?from=2011-01-01").text
    assert "Der er ingen afstemninger eller protokolbemærkninger" in html


def test_body_page_party_figures_cover_the_year_shown(client, db, factories):
    body = factories.body(name="Toårsudvalget")
    for year, votes in ((2011, 1), (2012, 2)):
        meeting = factories.meeting(
            {"A": 2, "B": 1},
            body=body,
            starts_at=datetime(year, 3, 1, 15),
            state=MeetingState.PUBLISHED,
        )
        item = factories.item(meeting, 1)
        for _ in range(votes):
            motion = factories.motion(item, MotionKind.AMENDMENT, party="B")
            factories.vote(motion, {"A": "against", "B": "for"})
    db.session.commit()

    def row_a(query: str) -> list[str]:
        html = client.get(f"/bodies/{body.id}{query}").text
        table = html[html.index(">Partiernes afstemninger") :]
        row = table[table.index('title="Socialdemokratiet"') :].split("</tr>")[0]
        return [c.split("</td>")[0] for c in row.split("<td>")[1:]]

    html = client.get(f"/bodies/{body.id}").text
    assert "Tomme felter: året ovenfor (2012)" in html
    assert "Partiernes afstemninger og protokolbemærkninger (2012)" in html
    assert f"/bodies/{body.id}?year=2012&amp;from=2011-01-01&amp;to=2012-12-31" in html
    assert row_a("") == ["2", "2", "100 %", "0"]
    assert row_a("?year=2011") == ["1", "1", "100 %", "0"]
    assert row_a("?year=2011&from=2011-01-01&to=2012-12-31") == ["3", "3", "100 %", "0"]
    assert row_a("?from=2011-01-01") == ["3", "3", "100 %", "0"]


# --------------------------------------------------------------------------- a meeting


def test_meeting_page_of_published_minutes(client, published_demo):
    html = client.get(f"/meetings/{published_demo}").text
    assert f"<h1>{BODY}</h1>" in html
    assert "06.12.2010 kl. 15.30</time>, Københavns Rådhus (demodata)" in html
    assert "Protokollen er offentliggjort" in html
    assert f'href="/meetings/{published_demo}/items/14">{ITEM_14}</a>' in html
    assert "(2010-174928)" in html
    assert "Beslutning:</span> Indstillingen blev herefter godkendt" in html
    assert f'href="/meetings/{published_demo}/minutes.pdf"' in html
    assert f'href="/meetings/{published_demo}/items/14/minutes.pdf"' in html
    assert 'id="sha256"' in html
    assert "UDKAST" not in html


def test_meeting_page_before_the_agenda_is_published(client, db, factories):
    meeting = factories.meeting(state=MeetingState.PLANNED)
    factories.item(meeting, 1, title="Hemmeligt endnu")
    db.session.commit()
    html = client.get(f"/meetings/{meeting.id}").text
    assert "Dagsordenen er ikke offentliggjort endnu." in html
    assert "Hemmeligt endnu" not in html
    assert "Rådhuset" in html
    assert client.get(f"/meetings/{meeting.id}/items/1").status_code == 404


def test_closed_item_shows_title_and_no_link_to_its_content(client, published_closed_item):
    html = client.get(f"/meetings/{published_closed_item}").text
    assert '<li value="15" id="punkt-15">' in html
    assert "Personalesag" in html
    assert '<span class="tag">Lukket punkt</span>' in html
    assert "/items/15" not in html
    for secret in ("2010-999999", "Fortrolig oplysning", "Hemmeligt"):
        assert secret not in html
    # The open item keeps its links.
    assert f'href="/meetings/{published_closed_item}/items/14"' in html


def test_meeting_page_escapes_titles(client, db, factories):
    meeting = factories.meeting()
    factories.item(meeting, 15, title='<script>alert(1)</script> <b>& "x"')
    db.session.commit()
    html = client.get(f"/meetings/{meeting.id}").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;&amp; &#34;x&#34;" in html


@pytest.mark.parametrize("path", ["/meetings/4242", "/meetings/0", "/meetings/abc"])
def test_unknown_meeting_is_404(client, path):
    assert client.get(path).status_code == 404


# --------------------------------------------------------------------------- an item


def test_item_page_shows_case_decision_and_seat_diagrams(client, published_demo):
    response = client.get(f"/meetings/{published_demo}/items/14")
    assert response.status_code == 200
    html = response.text
    assert f"<h1>14. {ITEM_14}</h1>" in html
    assert "Sagsnr. 2010-174928" in html
    assert '<h2 id="indstilling">Indstilling</h2>' in html
    assert "at udkast til Københavns Integrationspolitik 2011-2014 godkendes" in html
    assert "<h3>Problemstilling</h3>" in html
    assert "Beskæftigelses- og Integrationsudvalgets beslutning den 06.12.2010" in html
    assert "For stemte: 3 (V, O, C)" in html
    diagrams = re.findall(r'<figure class="seat-figure">.*?</figure>', html, re.S)
    assert len(diagrams) == 2
    first = diagrams[0]
    assert 'role="img"' in first
    assert "For: 3, Imod: 6, Undlod: 0, Fraværende: 0 (9 pladser)." in first
    assert "Forslag 1: ændringsforslag fra Mogens Lønborg (C). Forkastet." in first
    assert first.count("<circle") - first.count('fill="#ffffff"') >= 3
    assert "Imod: <strong>6</strong>" in first
    assert "Vedtaget." in diagrams[1]


def test_item_page_before_publication_shows_the_case_but_no_decision(client, demo_id, db):
    meeting = db.session.get(Meeting, demo_id)
    assert meeting.state == MeetingState.CLOSED
    html = client.get(f"/meetings/{demo_id}/items/14").text
    assert "at udkast til Københavns Integrationspolitik 2011-2014 godkendes" in html
    assert "Beslutningen vises, når protokollen er offentliggjort." in html
    assert "For stemte" not in html and "seat-figure" not in html


def test_closed_item_page_shows_number_and_title_only(client, published_closed_item):
    html = client.get(f"/meetings/{published_closed_item}/items/15").text
    assert "<h1>15. Personalesag</h1>" in html
    assert "Punktet er lukket. Kun nummer og titel er offentlige." in html
    for secret in ("2010-999999", "Fortrolig oplysning", "Hemmeligt ændringsforslag"):
        assert secret not in html
    assert "seat-figure" not in html and "Indstillingen blev godkendt" not in html


def test_unknown_item_is_404(client, published_demo):
    assert client.get(f"/meetings/{published_demo}/items/99").status_code == 404
    assert client.get("/meetings/4242/items/14").status_code == 404


def published_scenes(db, factories) -> tuple[Meeting, Meeting]:
    """Two published meetings of one body: one item with one motion, five with four."""
    body = factories.body()

    def scene(motions: int, items: int) -> Meeting:
        meeting = factories.meeting(
            {"A": 3, "B": 1, "V": 2},
            body=body,
            starts_at=datetime(2010, 1, 1) + timedelta(days=motions),
        )
        for n in range(1, items + 1):
            item = factories.item(meeting, n, summary="Resumé", case_number=f"2010-{n}")
            item.sections.append(CaseSection(position=0, heading="Sagen", body="**Tekst**"))
            for _ in range(motions):
                motion = factories.motion(item, MotionKind.AMENDMENT, party="V")
                factories.vote(motion, {"A": "for", "B": "against", "V": "abstain"})
            factories.remark(item, "Bemærkning", party="B")
            factories.decision(item, "approved")
        db.session.commit()
        return meeting

    small, large = scene(1, 1), scene(4, 5)
    from protokol.cli import publish_meeting

    publish_meeting(small.id)
    publish_meeting(large.id)
    return small, large


def test_minutes_read_the_record_in_a_fixed_number_of_statements(app, client, db, factories):
    """Rendering the minutes (the PDF publication freezes, the minutes page) reads the
    record in as many statements for five items as for one (`load_minutes_record`)."""
    counts = {}
    for name, meeting in zip(("small", "large"), published_scenes(db, factories), strict=True):
        for what in ("pdf", "page"):
            db.session.expire_all()
            with count_queries(db) as statements:
                if what == "pdf":
                    with app.test_request_context():
                        render_public_pdf(db.session.get(Meeting, meeting.id))
                else:
                    assert client.get(f"/meetings/{meeting.id}/minutes").status_code == 200
            counts[(name, what)] = len(statements)
    assert counts[("small", "pdf")] == counts[("large", "pdf")] <= 25, counts
    assert counts[("small", "page")] == counts[("large", "page")], counts


def test_pages_take_a_fixed_number_of_queries(client, db, factories):
    small, large = published_scenes(db, factories)
    counts = {}
    for name, meeting in (("small", small), ("large", large)):
        db.session.expire_all()
        pages = (
            f"/meetings/{meeting.id}",
            f"/meetings/{meeting.id}/votes.csv",
            f"/meetings/{meeting.id}/items/1",
        )
        for page in pages:
            with count_queries(db) as statements:
                assert client.get(page).status_code == 200
            counts[(name, page.count("/"))] = len(statements)
    assert counts[("small", 2)] == counts[("large", 2)], counts
    assert counts[("small", 3)] == counts[("large", 3)], counts
    assert counts[("small", 4)] == counts[("large", 4)], counts
    # The meeting page 6; the votes as CSV 9 and the item page 16 (their collections one
    # statement each, the many-to-one joined, the seats of the day in one); the two pages
    # one more, the meeting's heads for the page cache (minutes/page_cache.py), which
    # serves them read again in that one statement.
    assert counts[("large", 2)] <= 7 and counts[("large", 4)] <= 17, counts
    assert counts[("large", 3)] <= 9, counts
    for page in (f"/meetings/{large.id}", f"/meetings/{large.id}/items/1"):
        with count_queries(db) as statements:
            assert client.get(page).status_code == 200
        assert len(statements) == 1, statements


def test_the_body_page_takes_a_fixed_number_of_queries(client, db, factories):
    """A body's year list with its parties' figures: no more statements for four meetings
    of three items with three votes each than for one meeting of one item and one vote."""

    def body_with(meetings: int, items: int, motions: int) -> int:
        body = factories.body(name=f"Udvalg {meetings}")
        for day in range(1, meetings + 1):
            meeting = factories.meeting(
                {"A": 2, "B": 1, "V": 2},
                body=body,
                starts_at=datetime(2011, 3, day, 15),
                state=MeetingState.PUBLISHED,
            )
            for n in range(1, items + 1):
                item = factories.item(meeting, n)
                for _ in range(motions):
                    motion = factories.motion(item, MotionKind.AMENDMENT, party="V")
                    factories.vote(motion, {"A": "for", "B": "against", "V": "for"})
                factories.remark(item, "Bemærkning", party="B")
                factories.decision(item, "approved")
            db.session.commit()
        return body.id

    small, large = body_with(1, 1, 1), body_with(4, 3, 3)
    assert client.get(f"/bodies/{small}").status_code == 200  # the app's first request
    counts = {}
    for body_id in (small, large):
        db.session.expunge_all()  # nothing of the other body in the session
        with count_queries(db) as statements:
            response = client.get(f"/bodies/{body_id}?year=2011")
            assert response.status_code == 200
        counts[body_id] = len(statements)
    # No more for the larger body (two fewer, in fact: its meetings are already loaded by
    # the year list when the votes' items ask for theirs).
    assert counts[large] <= counts[small] <= 25, counts


# --------------------------------------------------------------------------- the agenda


def test_secretary_publishes_the_agenda(client, db, factories, make_user, login, post):
    meeting = factories.meeting(state=MeetingState.PLANNED)
    factories.item(meeting, 1, title="Budgetopfølgning")
    db.session.commit()
    secretary = make_user("secretary", bodies=[meeting.body])
    assert "Budgetopfølgning" not in client.get(f"/meetings/{meeting.id}").text
    login(secretary)
    page = f"/manage/meetings/{meeting.id}"
    assert "Offentliggør dagsorden" in client.get(page).text
    response = post(f"/manage/meetings/{meeting.id}/publish-agenda", token_page=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).agenda_published_at is not None
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.entity == "meetings").order_by(AuditEntry.id.desc())
    ).first()
    assert "agenda_published_at" in (entry.after or {})
    assert entry.actor_label == secretary.email or secretary.email in (entry.actor_label or "")
    again = post(f"/manage/meetings/{meeting.id}/publish-agenda", token_page=page)
    assert again.status_code == 409
    assert "Dagsordenen blev offentliggjort" in again.text
    client.post("/logout", data={"csrf_token": ""})
    anonymous = client.application.test_client()
    assert "Budgetopfølgning" in anonymous.get(f"/meetings/{meeting.id}").text


def test_publishing_the_agenda_needs_the_body_and_a_planned_meeting(
    client, db, factories, make_user, login, post
):
    meeting = factories.meeting(state=MeetingState.IN_SESSION)
    factories.item(meeting, 1)
    other = factories.body("Andetudvalget")
    db.session.commit()
    login(make_user("secretary", bodies=[other]))
    response = post(f"/manage/meetings/{meeting.id}/publish-agenda")
    assert response.status_code == 403


def test_opening_the_meeting_publishes_the_agenda(db, factories):
    from minutes.lifecycle import start_meeting

    meeting = factories.meeting(state=MeetingState.PLANNED)
    start_meeting(meeting, actor=None)
    assert meeting.agenda_published_at is not None
    published_at = meeting.agenda_published_at
    # An agenda published before keeps its moment.
    later = factories.meeting(
        body=meeting.body, state=MeetingState.PLANNED, starts_at=datetime(2011, 1, 1)
    )
    later.agenda_published_at = datetime(2010, 12, 1, 9, 0)
    start_meeting(later, actor=None)
    assert later.agenda_published_at == datetime(2010, 12, 1, 9, 0)
    assert published_at


# --------------------------------------------------------------------------- drafts


@pytest.mark.parametrize("role", ["admin", "secretary", "member"])
def test_people_who_work_on_the_meeting_see_drafts_marked(
    client, db, demo_id, make_user, login, role
):
    meeting = db.session.get(Meeting, demo_id)
    from meetings.models import Member

    bondam = db.session.scalar(sa.select(Member).where(Member.name == "Klaus Bondam"))
    user = {
        "admin": lambda: make_user("admin"),
        "secretary": lambda: make_user("secretary", bodies=[meeting.body]),
        "member": lambda: make_user("member", member=bondam),
    }[role]()
    login(user)
    page = client.get(f"/meetings/{demo_id}/minutes")
    assert page.status_code == 200
    assert "UDKAST" in page.text and "For stemte: 3 (V, O, C)" in page.text
    assert page.headers["Cache-Control"] == "private, no-store"
    pdf = client.get(f"/meetings/{demo_id}/minutes.pdf")
    assert pdf.status_code == 200
    assert pdf_text(pdf.data).startswith("UDKAST")
    assert "udkast.pdf" in pdf.headers["Content-Disposition"]
    assert "no-store" in pdf.headers["Cache-Control"]
    txt = client.get(f"/meetings/{demo_id}/items/14/minutes.txt")
    assert txt.text.startswith("UDKAST – protokollen er ikke offentliggjort")
    item = client.get(f"/meetings/{demo_id}/items/14").text
    assert "UDKAST" in item and "For stemte: 3 (V, O, C)" in item
    votes = client.get(f"/meetings/{demo_id}/votes.csv")
    assert votes.status_code == 200 and '"UDKAST"\r\n' in votes.text
    assert "udkast.csv" in votes.headers["Content-Disposition"]
    assert votes.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("who", ["anonymous", "other_secretary", "other_member"])
def test_others_get_404_for_drafts(client, db, demo_id, factories, make_user, login, who):
    if who != "anonymous":
        other = factories.body("Andetudvalget", order="A")
        member = factories.member(other, "Anden Person", "A")
        db.session.commit()
        login(
            make_user("secretary", bodies=[other])
            if who == "other_secretary"
            else make_user("member", member=member)
        )
    for suffix in (
        "minutes",
        "minutes.pdf",
        "minutes.txt",
        "items/14/minutes.pdf",
        "votes.csv",
        "items/14/votes.csv",
    ):
        assert client.get(f"/meetings/{demo_id}/{suffix}").status_code == 404, suffix
    assert "For stemte" not in client.get(f"/meetings/{demo_id}/items/14").text


# --------------------------------------------------------------------------- PDFs


def test_meeting_pdf_is_the_frozen_one_with_conditional_answers(app, client, published_demo):
    response = client.get(f"/meetings/{published_demo}/minutes.pdf")
    assert response.status_code == 200
    published = db_first(PublishedMinutes)
    stored = attachment_path(app.config["MINUTES_DIR"], published.sha256).read_bytes()
    assert response.data == stored
    assert response.headers["ETag"] == f'"{published.sha256}"'
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="beslutningsprotokol-2010-12-06-{published_demo}-v1.pdf"'
    )
    assert response.headers["Last-Modified"]
    again = client.get(
        f"/meetings/{published_demo}/minutes.pdf",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304 and again.data == b""
    since = client.get(
        f"/meetings/{published_demo}/minutes.pdf",
        headers={"If-Modified-Since": response.headers["Last-Modified"]},
    )
    assert since.status_code == 304
    stale = client.get(
        f"/meetings/{published_demo}/minutes.pdf", headers={"If-None-Match": '"other"'}
    )
    assert stale.status_code == 200


def db_first(model):
    from protokol.extensions import db

    return db.session.scalars(sa.select(model).order_by(model.id)).first()


def test_item_pdfs_are_frozen_at_publication_and_served_as_stored(
    app, client, db, published_closed_item
):
    meeting = db.session.get(Meeting, published_closed_item)
    frozen = db.session.scalars(sa.select(PublishedItemMinutes)).all()
    assert {f.item_id for f in frozen} == {i.id for i in meeting.items}
    by_item = {f.item_id: f for f in frozen}
    for item in meeting.items:
        response = client.get(f"/meetings/{meeting.id}/items/{item.number}/minutes.pdf")
        assert response.status_code == 200
        entry = by_item[item.id]
        assert hashlib.sha256(response.data).hexdigest() == entry.sha256
        assert response.headers["ETag"] == f'"{entry.sha256}"'
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="beslutningsprotokol-2010-12-06-{meeting.id}'
            f'-punkt-{item.number}.pdf"'
        )
        assert response.headers["Last-Modified"]
        cached = client.get(
            f"/meetings/{meeting.id}/items/{item.number}/minutes.pdf",
            headers={"If-None-Match": response.headers["ETag"]},
        )
        assert cached.status_code == 304
        since = client.get(
            f"/meetings/{meeting.id}/items/{item.number}/minutes.pdf",
            headers={"If-Modified-Since": response.headers["Last-Modified"]},
        )
        assert since.status_code == 304
    text = pdf_text(client.get(f"/meetings/{meeting.id}/items/15/minutes.pdf").data)
    assert "Personalesag" in text and "Fortrolig" not in text
    # Served from the stored bytes: a damaged file is refused, not rendered again.
    entry = by_item[meeting.items[0].id]
    attachment_path(app.config["MINUTES_DIR"], entry.sha256).write_bytes(b"%PDF-broken")
    broken = client.get(f"/meetings/{meeting.id}/items/{meeting.items[0].number}/minutes.pdf")
    assert broken.status_code == 503


def test_a_published_correction_freezes_new_item_pdfs(app, client, db, published_demo):
    meeting = db.session.get(Meeting, published_demo)
    item = meeting.items[0]
    before = client.get(f"/meetings/{meeting.id}/items/{item.number}/minutes.pdf")
    add_correction(
        meeting,
        "Stemmetallet rettes.",
        "Skrivefejl.",
        actor=None,
        item=item,
        minutes_dir=app.config["MINUTES_DIR"],
        render_pdf=render_public_pdf,
        render_item_pdf=render_public_item_pdf,
    )
    db.session.commit()
    versions = db.session.scalars(sa.select(PublishedMinutes)).all()
    assert [v.version for v in versions] == [1, 2]
    frozen = db.session.scalars(
        sa.select(PublishedItemMinutes).where(PublishedItemMinutes.item_id == item.id)
    ).all()
    assert len(frozen) == 2
    after = client.get(f"/meetings/{meeting.id}/items/{item.number}/minutes.pdf")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "Stemmetallet rettes." in pdf_text(after.data)
    assert "Stemmetallet rettes." not in pdf_text(before.data)
