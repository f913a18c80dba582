"""The cache of the public meeting and item pages (`minutes/page_cache.py`): a page read
again loads none of its record and is the same page with the same headers; every change
it can show — to the meeting's record, a party, a correction of the published minutes —
another language or address gives a fresh page; logged-in visitors and a visitor with a
message waiting are neither served from it nor stored in it."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from meetings.admin_services import update_party
from meetings.models import AgendaItem, Meeting, MeetingState, Party
from minutes.cache import ObjectCache
from minutes.page_cache import PAGE_CACHE
from tests.helpers import publish_correction, statements_of


def pages(meeting_id: int) -> list[str]:
    return [f"/meetings/{meeting_id}", f"/meetings/{meeting_id}/items/14"]


@pytest.mark.parametrize("page", [0, 1])
def test_a_page_read_again_loads_none_of_its_record(app, db, client, published_demo, page):
    path = pages(published_demo)[page]
    first, response = statements_of(db, client, path)
    again, same = statements_of(db, client, path)
    assert same.data == response.data
    assert any("FROM agenda_items" in s for s in first)
    assert not any("FROM agenda_items" in s or "FROM meetings" in s for s in again)
    assert len(again) == 1  # the meeting's heads
    assert app.extensions[PAGE_CACHE].hits == 1
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "Content-Type"):
        assert same.headers[header] == response.headers[header]
    # An argument the page does not read makes no entry of its own.
    assert client.get(f"{path}?utm_source=nyhedsbrev").data == response.data
    assert len(app.extensions[PAGE_CACHE]) == 1


def test_a_change_to_the_meetings_record_is_served_fresh(db, client, factories):
    meeting = factories.meeting(starts_at=datetime(2011, 4, 4, 15), state=MeetingState.IN_SESSION)
    factories.item(meeting, 14, title="Integrationspolitik")
    db.session.commit()
    for path in pages(meeting.id):
        assert "Integrationspolitik" in client.get(path).text
    item = db.session.scalar(sa.select(AgendaItem).where(AgendaItem.meeting_id == meeting.id))
    item.title = "Integrationspolitik, omdøbt"
    db.session.commit()
    for path in pages(meeting.id):
        assert "Integrationspolitik, omdøbt" in client.get(path).text


def test_a_correction_of_the_published_minutes_is_served_fresh(app, db, client, published_demo):
    """A correction changes no audited row, but adds a frozen version, which the page
    shows: the meeting's newest version is part of the key."""
    assert "PDF, udgave 1" in client.get(f"/meetings/{published_demo}").text
    publish_correction(app, db, published_demo)
    assert "PDF, udgave 2" in client.get(f"/meetings/{published_demo}").text


def test_a_renamed_party_is_served_fresh(db, client, published_demo):
    path = pages(published_demo)[1]
    before = client.get(path).text
    assert "(V, O, C)" in before
    party = db.session.scalar(sa.select(Party).where(Party.letter == "C"))
    update_party(party, letter="K", name="Det Konservative Folkeparti")
    db.session.commit()
    after = client.get(path).text
    assert "(V, O, K)" in after and "(V, O, C)" not in after


def test_a_renamed_body_is_served_fresh(db, client, published_demo):
    meeting = db.session.get(Meeting, published_demo)
    for path in pages(published_demo):
        assert meeting.body.name in client.get(path).text
    meeting.body.name = "Beskæftigelsesudvalget"
    db.session.commit()
    for path in pages(published_demo):
        assert "Beskæftigelsesudvalget</a>" in client.get(path).text


def test_each_language_gets_its_own_page(app, client, published_demo):
    path = pages(published_demo)[1]
    danish = client.get(path).text
    english = client.get(f"{path}?lang=en").text
    assert '<html lang="da">' in danish and '<html lang="en">' in english
    # The language remembered in the cookie, on the same path as the Danish page.
    assert '<html lang="en">' in client.get(path).text
    assert '<html lang="da">' in app.test_client().get(path).text


def test_logged_in_visitors_are_neither_served_nor_stored(
    app, db, client, login, make_user, published_demo
):
    path = pages(published_demo)[0]
    assert "Forbered mødet" not in client.get(path).text  # stored
    meeting = db.session.get(Meeting, published_demo)
    login(make_user("secretary", bodies=[meeting.body]))
    assert "Forbered mødet" in client.get(path).text  # not the anonymous page
    assert "Forbered mødet" not in app.test_client().get(path).text  # nor the secretary's


def test_a_waiting_message_is_neither_served_nor_stored(app, client, published_demo):
    path = pages(published_demo)[0]
    client.get(path)  # stored without a message
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "En besked til denne besøgende.")]
    assert "En besked til denne besøgende." in client.get(path).text
    assert "En besked til denne besøgende." not in client.get(path).text
    assert "En besked til denne besøgende." not in app.test_client().get(path).text


def test_a_cache_of_no_bytes_is_off(app, db, client, published_demo):
    app.extensions[PAGE_CACHE] = ObjectCache(0)
    path = pages(published_demo)[1]
    client.get(path)
    again, _ = statements_of(db, client, path)
    assert any("FROM agenda_items" in s for s in again)
