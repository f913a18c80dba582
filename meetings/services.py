"""Services for the record's frame: who sits in a body and who is present for an item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from meetings.models import (
    AgendaItem,
    Body,
    ItemPresence,
    Meeting,
    Member,
    Party,
    Seat,
    SeatRole,
)


@dataclass(frozen=True)
class SeatedMember:
    """A member as seated in a body on a given day: their party (None: independent)."""

    member: Member
    party: Party | None
    role: SeatRole

    @property
    def is_independent(self) -> bool:
        return self.party is None

    @property
    def label(self) -> str:
        """"Mogens Lønborg (C)"; an independent's name stands alone."""
        if self.party is None:
            return self.member.name
        return f"{self.member.name} ({self.party.letter})"


def party_rank(body: Body) -> dict[int, int]:
    """Map party id → place in the body's order; parties outside it sort after."""
    return {bp.party_id: bp.position for bp in body.party_order}


def sort_parties(body: Body, parties: list[Party]) -> list[Party]:
    """Order parties the body's way; parties not in its order follow alphabetically."""
    rank = party_rank(body)
    return sorted(parties, key=lambda p: (rank.get(p.id, len(rank)), p.letter))


def seats_on(body: Body, day: date) -> list[Seat]:
    """The seats held in `body` on `day`."""
    return [s for s in body.seats if s.is_active_on(day)]


def seated_members(body: Body, day: date) -> dict[int, SeatedMember]:
    """Members seated in `body` on `day`, keyed by member id.

    A member with two overlapping seats (a data error) keeps the later-starting one.
    """
    result: dict[int, SeatedMember] = {}
    for seat in sorted(seats_on(body, day), key=lambda s: s.starts_on):
        result[seat.member_id] = SeatedMember(seat.member, seat.party, seat.role)
    return result


def body_size(body: Body, day: date) -> int:
    """The number of regular seats (substitutes not counted) in `body` on `day`."""
    return sum(1 for s in seats_on(body, day) if s.role != SeatRole.SUBSTITUTE)


def present_for_meeting(meeting: Meeting) -> dict[int, SeatedMember]:
    """Members recorded present at the meeting (fremmøde), keyed by member id."""
    seated = seated_members(meeting.body, meeting.date)
    return {
        a.member_id: seated[a.member_id]
        for a in meeting.attendance
        if a.is_present and a.member_id in seated
    }


def present_for_item(item: AgendaItem) -> dict[int, SeatedMember]:
    """Members taking part in `item`: the meeting's attendance with the item's exceptions
    (arrived late, left, inhabil) applied."""
    meeting = item.meeting
    seated = seated_members(meeting.body, meeting.date)
    present = present_for_meeting(meeting)
    for exception in item.attendance:
        if exception.presence == ItemPresence.PRESENT:
            if exception.member_id in seated:
                present[exception.member_id] = seated[exception.member_id]
        else:
            present.pop(exception.member_id, None)
    return present
