"""Figures over published minutes: per party of a body, over a period, how often it voted
with the majority and how many protocol remarks it filed.

Only what the public may see counts: meetings whose minutes are published, open items
(never closed ones), closed votes that were counted (not decided without a vote), and
accepted remarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from meetings.models import AgendaItem, Body, Meeting, Party, Seat
from meetings.services import sort_parties
from meetings.visibility import minutes_public_clause
from minutes.models import ProtocolRemark, RemarkCoParty, RemarkKind, RemarkStatus
from motions.models import Motion
from protokol.extensions import db
from votes.models import Outcome, PartyVote, Position, Vote
from votes.services import tally


@dataclass
class PartyRecord:
    """A party's record in a body over a period."""

    party: Party
    #: Counted votes in which the party's position was recorded.
    votes: int = 0
    #: Of those, the votes in which it voted for an adopted or against a rejected motion.
    with_majority: int = 0
    #: Accepted protocol remarks filed by the party, alone or jointly (confirmed).
    remarks: int = 0

    @property
    def share(self) -> float | None:
        """The share of its votes with the majority (0..1), None without votes."""
        return self.with_majority / self.votes if self.votes else None


def load_seats(body: Body) -> None:
    """Load the body's seats with their members and parties in two queries, for the
    tallies that follow (each looks up who sits in the body)."""
    db.session.scalars(
        sa.select(Body)
        .where(Body.id == body.id)
        .options(
            selectinload(Body.seats).options(selectinload(Seat.member), selectinload(Seat.party))
        )
    ).all()


def _period(query: sa.Select, start: date | None, end: date | None) -> sa.Select:
    if start is not None:
        query = query.where(Meeting.starts_at >= datetime.combine(start, time.min))
    if end is not None:
        query = query.where(Meeting.starts_at < datetime.combine(end + timedelta(days=1), time.min))
    return query


def party_records(
    body: Body, start: date | None = None, end: date | None = None
) -> list[PartyRecord]:
    """Each party's record in `body` between `start` and `end` (inclusive; None: open),
    in the body's party order; parties without votes or remarks in the period left out."""
    votes = db.session.scalars(
        _period(
            sa.select(Vote)
            .join(Motion, Vote.motion_id == Motion.id)
            .join(AgendaItem, Motion.item_id == AgendaItem.id)
            .join(Meeting, AgendaItem.meeting_id == Meeting.id)
            .where(
                Meeting.body_id == body.id,
                minutes_public_clause(),
                AgendaItem.is_closed.is_(False),
                Vote.is_open.is_(False),
                Vote.is_without_vote.is_(False),
            ),
            start,
            end,
        )
        .order_by(Vote.id)
        .options(
            selectinload(Vote.party_votes).selectinload(PartyVote.party),
            selectinload(Vote.member_votes),
            selectinload(Vote.motion)
            .selectinload(Motion.item)
            .options(
                selectinload(AgendaItem.attendance),
                selectinload(AgendaItem.meeting).selectinload(Meeting.attendance),
            ),
        )
    ).all()
    if votes:
        load_seats(body)
    records: dict[int, PartyRecord] = {}

    def record(party: Party) -> PartyRecord:
        return records.setdefault(party.id, PartyRecord(party))

    for vote in votes:
        outcome = tally(vote).outcome
        if outcome is None:
            continue
        majority = Position.FOR if outcome == Outcome.ADOPTED else Position.AGAINST
        for party_vote in vote.party_votes:
            entry = record(party_vote.party)
            entry.votes += 1
            entry.with_majority += party_vote.position == majority

    remark_filter = (
        Meeting.body_id == body.id,
        minutes_public_clause(),
        AgendaItem.is_closed.is_(False),
        ProtocolRemark.status == RemarkStatus.ACCEPTED,
    )
    base = (
        sa.select(ProtocolRemark.party_id, sa.func.count())
        .join(AgendaItem, ProtocolRemark.item_id == AgendaItem.id)
        .join(Meeting, AgendaItem.meeting_id == Meeting.id)
        .where(*remark_filter, ProtocolRemark.kind != RemarkKind.PERSONAL)
        .group_by(ProtocolRemark.party_id)
    )
    joined = (
        sa.select(RemarkCoParty.party_id, sa.func.count())
        .join(ProtocolRemark, RemarkCoParty.remark_id == ProtocolRemark.id)
        .join(AgendaItem, ProtocolRemark.item_id == AgendaItem.id)
        .join(Meeting, AgendaItem.meeting_id == Meeting.id)
        .where(
            *remark_filter,
            ProtocolRemark.kind == RemarkKind.JOINT,
            RemarkCoParty.is_confirmed.is_(True),
        )
        .group_by(RemarkCoParty.party_id)
    )
    counts: dict[int, int] = {}
    for query in (base, joined):
        for party_id, n in db.session.execute(_period(query, start, end)):
            if party_id is not None:
                counts[party_id] = counts.get(party_id, 0) + n
    if counts:
        parties = db.session.scalars(sa.select(Party).where(Party.id.in_(list(counts))))
        for party in parties:
            record(party).remarks = counts[party.id]
    ordered = sort_parties(body, [r.party for r in records.values()])
    return [records[p.id] for p in ordered]
