"""A body's meetings as an iCalendar feed (RFC 5545), made with the `icalendar` library.

Meeting times are stored as local wall-clock times in Copenhagen (`Meeting.starts_at`), so
every event carries `TZID=Europe/Copenhagen` and the feed has the matching `VTIMEZONE`:
a calendar shows a meeting at 15.30 in December and in July alike, whatever the offset
from UTC that day. A meeting without a known end lasts `DEFAULT_DURATION`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from meetings.models import Body, Meeting

TIMEZONE = "Europe/Copenhagen"
LOCAL = ZoneInfo(TIMEZONE)
#: The length of a meeting whose end is not recorded.
DEFAULT_DURATION = timedelta(hours=2)


def meeting_uid(meeting: Meeting, domain: str) -> str:
    """A meeting's UID: the same in every fetch of the feed, so calendars update it."""
    return f"meeting-{meeting.id}@{domain}"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def meetings_calendar(
    body: Body,
    meetings: Iterable[Meeting],
    *,
    domain: str,
    meeting_url: Callable[[Meeting], str],
    calendar_url: str | None = None,
) -> bytes:
    """The feed of `body`'s `meetings`: one VEVENT per meeting with its time and place."""
    calendar = Calendar()
    calendar.add("prodid", "-//Protokol//Mødekalender//DA")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", body.name)
    calendar.add("x-wr-timezone", TIMEZONE)
    if calendar_url:
        calendar.add("source", calendar_url, parameters={"VALUE": "URI"})
    meetings = list(meetings)
    for meeting in meetings:
        event = Event()
        starts = meeting.starts_at.replace(tzinfo=LOCAL)
        ends = (
            meeting.ends_at.replace(tzinfo=LOCAL)
            if meeting.ends_at is not None
            else starts + DEFAULT_DURATION
        )
        event.add("uid", meeting_uid(meeting, domain))
        event.add("dtstamp", _utc(meeting.modified_at))
        event.add("last-modified", _utc(meeting.modified_at))
        event.add("created", _utc(meeting.created_at))
        event.add("dtstart", starts)
        event.add("dtend", ends)
        event.add("summary", f"{body.name}: møde")
        if meeting.location:
            event.add("location", meeting.location)
        event.add("url", meeting_url(meeting), parameters={"VALUE": "URI"})
        calendar.add_component(event)
    # The time zone's rules for the years the feed spans, and a few years ahead.
    years = [m.starts_at.year for m in meetings] or [datetime.now(LOCAL).year]
    calendar.add_missing_timezones(
        first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 5, 1, 1)
    )
    return calendar.to_ical()
