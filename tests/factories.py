"""Factories for the record: bodies with their party order, seated members, meetings
with attendance, items, motions and votes. Each adds and flushes."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from meetings.models import (
    AgendaItem,
    Body,
    BodyParty,
    ItemAttendance,
    ItemPresence,
    Meeting,
    MeetingAttendance,
    MeetingState,
    Member,
    Party,
    Seat,
    SeatRole,
)
from minutes.models import ProtocolRemark, RemarkKind, RemarkStatus
from motions.models import Motion, MotionKind
from votes.models import Decision, MemberPosition, MemberVote, PartyVote, Position, Vote

PARTY_NAMES = {
    "A": "Socialdemokratiet",
    "B": "Det Radikale Venstre",
    "C": "Det Konservative Folkeparti",
    "F": "SF - Socialistisk Folkeparti",
    "I": "Liberal Alliance",
    "O": "Dansk Folkeparti",
    "V": "Venstre",
    "Ø": "Enhedslisten",
    "Å": "Alternativet",
}

#: The seed's committee: A has 3 seats; B, C, F, O, V, Ø one each.
SEED_SEATS = {"A": 3, "B": 1, "F": 1, "Ø": 1, "V": 1, "O": 1, "C": 1}


class Factories:
    def __init__(self, session: Session):
        self.session = session
        self.members: dict[str, Member] = {}

    def party(self, letter: str, name: str | None = None) -> Party:
        party = self.session.scalar(sa.select(Party).where(Party.letter == letter))
        if party is None:
            party = Party(letter=letter, name=name or PARTY_NAMES.get(letter, f"Parti {letter}"))
            self.session.add(party)
            self.session.flush()
        return party

    def body(
        self,
        name: str = "Testudvalget",
        order: str = "A B F Ø V O C",
        style: str = "kbh-udvalg-2010",
    ) -> Body:
        body = Body(name=name, genitive_name=f"{name}s", minutes_style=style)
        for position, letter in enumerate(order.split()):
            body.party_order.append(BodyParty(party=self.party(letter), position=position))
        self.session.add(body)
        self.session.flush()
        return body

    def member(
        self,
        body: Body,
        name: str,
        party: str | None,
        role: SeatRole = SeatRole.MEMBER,
        starts_on: date = date(2010, 1, 1),
        ends_on: date | None = None,
    ) -> Member:
        member = Member(name=name)
        member.seats.append(
            Seat(
                body=body,
                party=self.party(party) if party else None,
                role=role,
                starts_on=starts_on,
                ends_on=ends_on,
            )
        )
        self.session.add(member)
        self.session.flush()
        self.members[name] = member
        return member

    def meeting(
        self,
        seats: dict[str | None, int] | None = None,
        *,
        body: Body | None = None,
        starts_at: datetime = datetime(2010, 12, 6, 15, 30),
        absent: tuple[str, ...] = (),
        state: MeetingState = MeetingState.IN_SESSION,
        order: str = "A B F Ø V O C",
    ) -> Meeting:
        """A meeting of a body whose members are named "<letter> <n>" ("A 1", "A 2", ...);
        independents (key None) are "Løsgænger <n>". Everyone attends except `absent`."""
        body = body or self.body(order=order)
        for letter, count in (seats or SEED_SEATS).items():
            for n in range(1, count + 1):
                name = f"{letter} {n}" if letter else f"Løsgænger {n}"
                if name not in self.members:
                    self.member(body, name, letter)
        meeting = Meeting(body=body, starts_at=starts_at, location="Rådhuset", state=state)
        self.session.add(meeting)
        for seat in body.seats:
            meeting.attendance.append(
                MeetingAttendance(member=seat.member, is_present=seat.member.name not in absent)
            )
        self.session.flush()
        return meeting

    def item(self, meeting: Meeting, number: int | None = None, **fields) -> AgendaItem:
        number = number or len(meeting.items) + 1
        item = AgendaItem(
            number=number,
            position=len(meeting.items),
            title=fields.pop("title", f"Punkt {number}"),
            **fields,
        )
        meeting.items.append(item)
        self.session.flush()
        return item

    def absent_for_item(self, item: AgendaItem, name: str, presence=ItemPresence.ABSENT) -> None:
        item.attendance.append(ItemAttendance(member=self.members[name], presence=presence))
        self.session.flush()

    def motion(
        self,
        item: AgendaItem,
        kind: MotionKind = MotionKind.AMENDMENT,
        *,
        proposer: str | None = None,
        party: str | None = None,
        text: str = "Forslag.",
    ) -> Motion:
        motion = Motion(
            position=len(item.motions),
            kind=kind,
            proposer_member=self.members[proposer] if proposer else None,
            proposer_party=self.party(party) if party else None,
            proposer_name="" if (proposer or party) else "Forvaltningen",
            text=text,
        )
        item.motions.append(motion)
        self.session.flush()
        return motion

    def vote(
        self,
        motion: Motion,
        parties: dict[str, str] | None = None,
        members: dict[str, str] | None = None,
        **fields,
    ) -> Vote:
        vote = Vote(motion=motion, is_open=fields.pop("is_open", False), **fields)
        self.session.add(vote)
        for letter, position in (parties or {}).items():
            vote.party_votes.append(
                PartyVote(party=self.party(letter), position=Position(position))
            )
        for name, position in (members or {}).items():
            vote.member_votes.append(
                MemberVote(member=self.members[name], position=MemberPosition(position))
            )
        self.session.add(vote)
        self.session.flush()
        return vote

    def decision(self, item: AgendaItem, result_key: str = "", result_text: str = "") -> Decision:
        item.decision = Decision(result_key=result_key, result_text=result_text)
        self.session.flush()
        return item.decision

    def remark(
        self,
        item: AgendaItem,
        text: str,
        *,
        party: str | None = None,
        member: str | None = None,
        kind: RemarkKind = RemarkKind.PARTY,
        status: RemarkStatus = RemarkStatus.ACCEPTED,
    ) -> ProtocolRemark:
        remark = ProtocolRemark(
            position=len(item.remarks),
            kind=kind,
            party=self.party(party) if party else None,
            member=self.members[member] if member else None,
            text=text,
            status=status,
        )
        item.remarks.append(remark)
        self.session.flush()
        return remark
