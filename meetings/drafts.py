"""Who may see what the public may not yet see of a meeting (its unpublished agenda, draft
decisions and draft minutes), always marked as a draft (UDKAST): the people who work on
it. Everyone else gets what `meetings.visibility` allows."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from meetings.models import Meeting
from protokol.accounts.models import Role

LOCAL = ZoneInfo("Europe/Copenhagen")


def _today() -> date:
    from datetime import datetime

    return datetime.now(LOCAL).date()


def may_see_drafts(user: Any, meeting: Meeting) -> bool:
    """Admins; the body's secretaries; members holding a seat in the body on the meeting's
    day or today (as on their own pages). Anonymous visitors never."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role in (Role.ADMIN, Role.SECRETARY):
        return user.may_manage_body(meeting.body_id)
    member = user.member if user.role == Role.MEMBER else None
    if member is None:
        return False
    days = (meeting.date, _today())
    return any(
        seat.body_id == meeting.body_id and any(seat.is_active_on(day) for day in days)
        for seat in member.seats
    )
