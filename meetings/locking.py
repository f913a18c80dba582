"""The lock on an approved record: once the minutes are approved, the record is read-only
for every write path (forms, console, CLI, import); corrections are appended addenda."""

from __future__ import annotations

import weakref

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
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
            _l(
                "Protokollen for mødet %(date)s er godkendt og kan ikke ændres."
                " Rettelser tilføjes som et tillæg.",
                date=f"{meeting.starts_at:%d.%m.%Y}",
            )
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


def _state_before(meeting: Meeting) -> MeetingState:
    """The meeting's state as stored, before the change about to be flushed."""
    history = sa.inspect(meeting).attrs["state"].history
    if history.deleted:
        return history.deleted[0]
    session = sa.inspect(meeting).session
    if history.added and session is not None and meeting.id is not None:
        # The state was set while expired (after a commit): the old value was never
        # loaded, so ask the database.
        stored = session.scalar(sa.select(Meeting.state).where(Meeting.id == meeting.id))
        if stored is not None:
            return stored
    return meeting.state


def _was_locked(meeting: Meeting) -> bool:
    return _state_before(meeting) in LOCKED_STATES


#: The states in their only order: a locked meeting's state may only move forward.
_STATE_ORDER = (
    MeetingState.PLANNED,
    MeetingState.IN_SESSION,
    MeetingState.CLOSED,
    MeetingState.APPROVED,
    MeetingState.PUBLISHED,
)


def _moves_forward(meeting: Meeting) -> bool:
    """Whether a locked meeting's state stays or moves forward (approved → published)."""
    if meeting.state not in LOCKED_STATES:
        return False
    return _STATE_ORDER.index(meeting.state) >= _STATE_ORDER.index(_state_before(meeting))


@event.listens_for(Session, "before_flush")
def _refuse_writes_to_locked_records(session: Session, _context, _instances) -> None:
    """The last line of defence: whatever the write path (a form, the console, the CLI, an
    import, a script), a change to the record of a meeting whose minutes are approved is
    refused before it reaches the database."""
    created = _created_meetings(session)
    created.update(obj for obj in session.new if isinstance(obj, Meeting))
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, Audited):
            continue
        if isinstance(obj, Meeting):
            if obj in session.deleted and _was_locked(obj):
                raise RecordLocked(obj)
            if obj in session.dirty and _was_locked(obj):
                changed = _changed_columns(obj) - _MEETING_COLUMNS_AFTER_LOCK
                if changed or not _moves_forward(obj):
                    raise RecordLocked(obj)
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        for meeting in _meetings_of(session, obj):
            if is_locked(meeting) and meeting not in created:
                raise RecordLocked(meeting)


def _created_meetings(session: Session) -> weakref.WeakSet:
    """The meetings created in the session's current transaction: an import (or a test)
    may create a meeting already approved and then add its record to it."""
    return session.info.setdefault("locking_created_meetings", weakref.WeakSet())


@event.listens_for(Session, "after_transaction_end")
def _forget_created_meetings(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop("locking_created_meetings", None)


def _meetings_of(session: Session, obj: Audited) -> list[Meeting]:
    """The meetings whose record `obj` belongs to: by its foreign key, and by the meeting
    it hangs on when that relationship is loaded (a new row appended to `meeting.items`
    or `meeting.attendance` has no `meeting_id` until the flush sets it)."""
    meetings = []
    meeting_id, _item_id = obj.audit_scope()
    if meeting_id is not None:
        meeting = session.get(Meeting, meeting_id)
        if meeting is not None:
            meetings.append(meeting)
    state = sa.inspect(obj)
    if "meeting" in state.mapper.relationships:
        related = state.attrs["meeting"].loaded_value
        if isinstance(related, Meeting) and related not in meetings:
            meetings.append(related)
    return meetings
