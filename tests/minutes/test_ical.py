"""A body's meetings as an iCalendar feed: local Copenhagen times across daylight saving
time, stable UIDs, and the link from the body page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from meetings.models import MeetingState

CPH = ZoneInfo("Europe/Copenhagen")


def feed(client, body_id: int) -> Calendar:
    response = client.get(f"/bodies/{body_id}/meetings.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.mimetype_params.get("charset") == "utf-8"
    return Calendar.from_ical(response.data)


def test_feed_times_are_right_in_summer_and_winter(client, db, factories):
    body = factories.body("Kultur- og Fritidsudvalget")
    summer = factories.meeting(body=body, starts_at=datetime(2024, 7, 2, 16, 0))
    winter = factories.meeting(body=body, starts_at=datetime(2024, 12, 3, 16, 0))
    summer.ends_at = datetime(2024, 7, 2, 18, 30)
    summer.location = "Rådhuset, udvalgsværelse 1"
    db.session.commit()
    calendar = feed(client, body.id)
    events = {e["UID"]: e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"meeting-{summer.id}@localhost", f"meeting-{winter.id}@localhost"}
    july = events[f"meeting-{summer.id}@localhost"]
    december = events[f"meeting-{winter.id}@localhost"]
    # The wall-clock time in Copenhagen, whatever the offset that day.
    start = july.decoded("DTSTART")
    assert start == datetime(2024, 7, 2, 16, 0, tzinfo=CPH)
    assert start.utcoffset().total_seconds() == 2 * 3600
    assert str(july["DTSTART"].params["TZID"]) == "Europe/Copenhagen"
    assert july.decoded("DTEND") == datetime(2024, 7, 2, 18, 30, tzinfo=CPH)
    winter_start = december.decoded("DTSTART")
    assert winter_start.utcoffset().total_seconds() == 3600
    assert winter_start.astimezone(ZoneInfo("UTC")).hour == 15
    assert december.decoded("DTEND") == datetime(2024, 12, 3, 18, 0, tzinfo=CPH)
    assert str(july["LOCATION"]) == "Rådhuset, udvalgsværelse 1"
    assert str(july["SUMMARY"]) == "Kultur- og Fritidsudvalget: møde"
    assert str(july["URL"]) == f"http://localhost/meetings/{summer.id}"
    assert july.decoded("DTSTAMP").tzinfo is not None
    # The VTIMEZONE names the zone's rules, with summer and winter time.
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Copenhagen"
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_feed_is_the_same_twice_and_answers_304(client, db, factories):
    body = factories.body()
    factories.meeting(body=body, state=MeetingState.PLANNED)
    db.session.commit()
    first = client.get(f"/bodies/{body.id}/meetings.ics")
    second = client.get(f"/bodies/{body.id}/meetings.ics")
    assert first.data == second.data
    assert first.headers["ETag"]
    again = client.get(
        f"/bodies/{body.id}/meetings.ics", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def test_feed_of_a_body_without_meetings_and_of_no_body(client, db, factories):
    body = factories.body()
    db.session.commit()
    assert list(feed(client, body.id).walk("VEVENT")) == []
    assert client.get("/bodies/999/meetings.ics").status_code == 404


def test_body_page_links_the_feed(client, db, factories):
    body = factories.body()
    db.session.commit()
    html = client.get(f"/bodies/{body.id}").text
    assert f'href="/bodies/{body.id}/meetings.ics"' in html
    assert 'rel="alternate" type="text/calendar"' in html


def test_typed_text_reaches_the_feed_as_typed(client, db, factories):
    """Commas, semicolons, backslashes, newlines and markup in a place or a body's name are
    escaped for iCalendar and read back exactly; no line can inject a property."""
    hostile = 'Rådhuset; lokale 1, "A"\\B\nEND:VEVENT\nBEGIN:VEVENT <b>&</b>'
    body = factories.body("Udvalget; for <i>kultur</i>, fritid")
    meeting = factories.meeting(body=body, starts_at=datetime(2024, 3, 5, 16, 0))
    meeting.location = hostile
    db.session.commit()

    response = client.get(f"/bodies/{body.id}/meetings.ics")
    calendar = Calendar.from_ical(response.data)

    [event] = calendar.walk("VEVENT")
    assert str(event["LOCATION"]) == hostile
    assert str(event["SUMMARY"]) == "Udvalget; for <i>kultur</i>, fritid: møde"
    assert str(calendar["X-WR-CALNAME"]) == "Udvalget; for <i>kultur</i>, fritid"
    assert response.data.split(b"\r\n").count(b"BEGIN:VEVENT") == 1
