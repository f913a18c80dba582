"""What the public may see of a meeting: one place for the rules every public path follows.

- A meeting's date, time, place and body are always public (the calendar lists them).
- Its agenda (item numbers and titles; for open items the recommendation, case text and
  attachments) is public once published: `agenda_published_at` is set, or the meeting
  has been opened.
- A closed item (lukket punkt) shows its number and title only, everywhere.
- Votes, decisions, remarks and minutes are public once the minutes are published; while
  the meeting is in session, the live page shows the votes as they are recorded.
"""

from __future__ import annotations

import sqlalchemy as sa

from meetings.models import AgendaItem, Meeting, MeetingState


def is_agenda_public(meeting: Meeting) -> bool:
    """Whether the public may see the meeting's agenda."""
    return meeting.agenda_published_at is not None or meeting.state is not MeetingState.PLANNED


def are_minutes_public(meeting: Meeting) -> bool:
    """Whether the public may see the meeting's votes, decisions, remarks and minutes."""
    return meeting.state is MeetingState.PUBLISHED


def is_live(meeting: Meeting) -> bool:
    """Whether the meeting is in session (its live page shows votes as recorded)."""
    return meeting.state is MeetingState.IN_SESSION


def is_item_content_public(item: AgendaItem) -> bool:
    """Whether the public may see more of an item than its number and title."""
    return not item.is_closed and is_agenda_public(item.meeting)


def agenda_public_clause() -> sa.ColumnElement[bool]:
    """SQL condition on `Meeting`: the agenda is public."""
    return sa.or_(Meeting.agenda_published_at.is_not(None), Meeting.state != MeetingState.PLANNED)


def minutes_public_clause() -> sa.ColumnElement[bool]:
    """SQL condition on `Meeting`: the minutes are published."""
    return Meeting.state == MeetingState.PUBLISHED
