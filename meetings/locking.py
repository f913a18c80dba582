"""The lock on an approved record: once the minutes are approved, the record is read-only
for every write path (forms, console, CLI, import); corrections are appended addenda."""

from __future__ import annotations

from meetings.models import Meeting, MeetingState

LOCKED_STATES = frozenset({MeetingState.APPROVED, MeetingState.PUBLISHED})


class RecordLocked(Exception):
    """A write to a meeting whose minutes are approved."""

    def __init__(self, meeting: Meeting):
        self.meeting = meeting
        super().__init__(
            f"Protokollen for mødet {meeting.starts_at:%d.%m.%Y} er godkendt og kan ikke ændres."
            " Rettelser tilføjes som et tillæg."
        )


def is_locked(meeting: Meeting) -> bool:
    return meeting.state in LOCKED_STATES


def ensure_editable(meeting: Meeting) -> None:
    """Raise `RecordLocked` when the meeting's record may no longer change."""
    if is_locked(meeting):
        raise RecordLocked(meeting)
