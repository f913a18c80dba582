"""The lock on an approved record: once the minutes are approved, the record is read-only
for every write path (forms, console, CLI, import); corrections are appended addenda."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from meetings.models import Meeting, MeetingState
from protokol.audit import Audited

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


#: The only columns of a locked meeting that may still change (its state moves forward).
_MEETING_COLUMNS_AFTER_LOCK = frozenset({"state", "modified_at"})


def _changed_columns(obj: object) -> set[str]:
    state = sa.inspect(obj)
    return {
        attr.key
        for attr in state.mapper.column_attrs
        if state.attrs[attr.key].history.has_changes()
    }


def _was_locked(meeting: Meeting) -> bool:
    history = sa.inspect(meeting).attrs["state"].history
    before = history.deleted[0] if history.deleted else meeting.state
    return before in LOCKED_STATES


@event.listens_for(Session, "before_flush")
def _refuse_writes_to_locked_records(session: Session, _context, _instances) -> None:
    """The last line of defence: whatever the write path (a form, the console, the CLI, an
    import, a script), a change to the record of a meeting whose minutes are approved is
    refused before it reaches the database."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, Audited):
            continue
        if isinstance(obj, Meeting):
            if obj in session.dirty and _was_locked(obj):
                changed = _changed_columns(obj) - _MEETING_COLUMNS_AFTER_LOCK
                if changed or obj.state not in LOCKED_STATES:
                    raise RecordLocked(obj)
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        meeting_id, _item_id = obj.audit_scope()
        if meeting_id is None:
            continue
        meeting = session.get(Meeting, meeting_id)
        if meeting is not None and is_locked(meeting):
            raise RecordLocked(meeting)
