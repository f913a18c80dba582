"""Figures over published minutes: per party of a body, over a period, how often it voted
with the majority and how many protocol remarks it filed.

Only what the public may see counts: meetings whose minutes are published, open items
(never closed ones), closed votes that were counted (not decided without a vote), and
accepted remarks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from meetings.models import (
    AgendaItem,
    Body,
    ItemAttendance,
    ItemPresence,
    Meeting,
    MeetingAttendance,
    Party,
    Seat,
)
from meetings.services import sort_parties
from meetings.visibility import minutes_public_clause
from minutes.models import ProtocolRemark, RemarkCoParty, RemarkKind, RemarkStatus
from motions.models import Motion
from protokol.extensions import db
from votes.models import MemberVote, PartyVote, Position, Vote


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


def load_seats(body: Body, day: date | None = None) -> None:
    """Load the body's seats with their members and parties in one query, for the tallies
    that follow (each looks up who sits in the body). With `day`, only the seats held on
    that day: `body.seats` then holds those alone (enough for one meeting's tallies)."""
    query = sa.select(Seat).where(Seat.body_id == body.id)
    if day is not None:
        query = query.where(
            Seat.starts_on <= day, sa.or_(Seat.ends_on.is_(None), Seat.ends_on >= day)
        )
    seats = db.session.scalars(
        query.order_by(Seat.id).options(joinedload(Seat.member), joinedload(Seat.party))
    ).all()
    set_committed_value(body, "seats", seats)


def _period(query: sa.Select, start: date | None, end: date | None) -> sa.Select:
    if start is not None:
        query = query.where(Meeting.starts_at >= datetime.combine(start, time.min))
    if end is not None:
        query = query.where(Meeting.starts_at < datetime.combine(end + timedelta(days=1), time.min))
    return query


class _day_of(sa.sql.functions.FunctionElement):
    """The calendar day of a naive local datetime column (`Meeting.date` in SQL)."""

    type = sa.Date()
    inherit_cache = True


@compiles(_day_of)
def _day_of_default(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


@compiles(_day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)})"


def _vote_counts(
    body: Body, start: date | None, end: date | None
) -> tuple[sa.Select, dict[str, Any]]:
    """The statement of `_vote_counts_statement` and the values to run it with."""
    values: dict[str, Any] = {"body_id": body.id}
    if start is not None:
        values["period_start"] = datetime.combine(start, time.min)
    if end is not None:
        values["period_end"] = datetime.combine(end + timedelta(days=1), time.min)
    return _vote_counts_statement(start is not None, end is not None), values


@functools.cache
def _vote_counts_statement(has_start: bool, has_end: bool) -> sa.Select:
    """Per party: the counted votes in the period in which its position is recorded, and
    of those the ones on the majority's side — one aggregate statement that derives each
    vote's outcome as `votes.services.tally` does: the members present for the item (the
    body's seats on the meeting's day, the meeting's attendance, the item's exceptions),
    each with their own position or else their party's, a simple majority of for against
    against, and no outcome when no one present took a side."""
    body_id = sa.bindparam("body_id", type_=sa.Integer)
    meetings = sa.select(Meeting.id, _day_of(Meeting.starts_at).label("day")).where(
        Meeting.body_id == body_id, minutes_public_clause()
    )
    # Built once per shape (building it costs more than running it for a year).
    if has_start:
        meetings = meetings.where(
            Meeting.starts_at >= sa.bindparam("period_start", type_=sa.DateTime)
        )
    if has_end:
        meetings = meetings.where(Meeting.starts_at < sa.bindparam("period_end", type_=sa.DateTime))
    meetings = meetings.cte("m")
    votes = (
        sa.select(
            Vote.id.label("vote_id"),
            AgendaItem.id.label("item_id"),
            AgendaItem.meeting_id.label("meeting_id"),
        )
        .join(Motion, Vote.motion_id == Motion.id)
        .join(AgendaItem, Motion.item_id == AgendaItem.id)
        .join(meetings, AgendaItem.meeting_id == meetings.c.id)
        .where(
            AgendaItem.is_closed.is_(False),
            Vote.is_open.is_(False),
            Vote.is_without_vote.is_(False),
        )
        .cte("v")
    )
    # The seats held on the meeting's day; a member with two (a data error) keeps the
    # later-starting one, as `seated_members` does.
    seated = (
        sa.select(
            meetings.c.id.label("meeting_id"),
            Seat.member_id,
            Seat.party_id,
            sa.func.row_number()
            .over(
                partition_by=(meetings.c.id, Seat.member_id),
                order_by=(Seat.starts_on.desc(), Seat.id.desc()),
            )
            .label("rank"),
        )
        .join(
            Seat,
            sa.and_(
                Seat.body_id == body_id,
                Seat.starts_on <= meetings.c.day,
                sa.or_(Seat.ends_on.is_(None), Seat.ends_on >= meetings.c.day),
            ),
        )
        .where(meetings.c.id.in_(sa.select(votes.c.meeting_id)))
        .cte("s")
    )
    items = sa.select(votes.c.item_id, votes.c.meeting_id).distinct().cte("i")
    # Who is present is decided per meeting (its attendance), then per item (its
    # exceptions): each looked up once, not once per item and seat. Made once each, so
    # that the planners join them by hash (a materialised CTE's row estimate is a guess,
    # and a nested loop over a misestimated one cost PostgreSQL tens of ms a year).
    at_meeting = (
        sa.select(
            seated.c.meeting_id,
            seated.c.member_id,
            seated.c.party_id,
            sa.func.coalesce(MeetingAttendance.is_present, sa.false()).label("is_present"),
        )
        .outerjoin(
            MeetingAttendance,
            sa.and_(
                MeetingAttendance.meeting_id == seated.c.meeting_id,
                MeetingAttendance.member_id == seated.c.member_id,
            ),
        )
        .where(seated.c.rank == 1)
        .cte("sp")
        .prefix_with("MATERIALIZED")
    )
    exceptions = (
        sa.select(ItemAttendance.item_id, ItemAttendance.member_id, ItemAttendance.presence)
        .where(ItemAttendance.item_id.in_(sa.select(items.c.item_id)))
        .cte("x")
        .prefix_with("MATERIALIZED")
    )
    present = (
        sa.select(items.c.item_id, at_meeting.c.member_id, at_meeting.c.party_id)
        .join(at_meeting, at_meeting.c.meeting_id == items.c.meeting_id)
        .outerjoin(
            exceptions,
            sa.and_(
                exceptions.c.item_id == items.c.item_id,
                exceptions.c.member_id == at_meeting.c.member_id,
            ),
        )
        .where(
            sa.case(
                (
                    exceptions.c.item_id.is_not(None),
                    exceptions.c.presence == ItemPresence.PRESENT,
                ),
                else_=at_meeting.c.is_present,
            )
        )
        .cte("p")
        # Made once (SQLite would otherwise fold it into the join below and look the
        # seats up per vote by rank alone: quadratic on a large record).
        .prefix_with("MATERIALIZED")
    )
    # Each vote's sides, by party rather than member: a party's position counts once for
    # each of its members present, then each present member with a position of their own
    # moves from the party's side to their own.
    by_party = (
        sa.select(present.c.item_id, present.c.party_id, sa.func.count().label("n"))
        .where(present.c.party_id.is_not(None))
        .group_by(present.c.item_id, present.c.party_id)
        .cte("pc")
    )
    # The party votes of the votes counted, fetched once by vote (for the sides and for the
    # per-party totals at the end).
    party_votes = (
        sa.select(
            votes.c.vote_id,
            votes.c.item_id,
            PartyVote.party_id,
            sa.cast(PartyVote.position, sa.String).label("position"),
        )
        .join(PartyVote, PartyVote.vote_id == votes.c.vote_id)
        .cte("pv")
        .prefix_with("MATERIALIZED")
    )
    party_side = sa.select(
        party_votes.c.vote_id, party_votes.c.position, by_party.c.n.label("n")
    ).join(
        by_party,
        sa.and_(
            by_party.c.item_id == party_votes.c.item_id,
            by_party.c.party_id == party_votes.c.party_id,
        ),
    )
    # The members' own positions on the votes counted (a few a vote), then each with the
    # member's presence and party's position: joined from these few rows outwards.
    member_votes = (
        sa.select(
            votes.c.vote_id,
            votes.c.item_id,
            MemberVote.member_id,
            sa.cast(MemberVote.position, sa.String).label("own"),
        )
        .join(MemberVote, MemberVote.vote_id == votes.c.vote_id)
        .cte("mv")
        .prefix_with("MATERIALIZED")
    )
    party_vote = party_votes.alias("ppv")
    own = (
        sa.select(member_votes.c.vote_id, member_votes.c.own, party_vote.c.position.label("party"))
        .join(
            present,
            sa.and_(
                present.c.item_id == member_votes.c.item_id,
                present.c.member_id == member_votes.c.member_id,
            ),
        )
        .outerjoin(
            party_vote,
            sa.and_(
                party_vote.c.vote_id == member_votes.c.vote_id,
                party_vote.c.party_id == present.c.party_id,
            ),
        )
        .cte("o")
    )
    sides = sa.union_all(
        party_side,
        sa.select(own.c.vote_id, own.c.own, sa.literal(1)),
        sa.select(own.c.vote_id, own.c.party, sa.literal(-1)).where(own.c.party.is_not(None)),
    ).subquery("sides")

    def side(*values: str) -> sa.ColumnElement[int]:
        return sa.func.sum(sa.case((sides.c.position.in_(values), sides.c.n), else_=0))

    counts = (
        sa.select(
            sides.c.vote_id,
            side(Position.FOR).label("n_for"),
            side(Position.AGAINST).label("n_against"),
            side(*(p.value for p in Position)).label("n_sides"),
        )
        .group_by(sides.c.vote_id)
        .cte("c")
    )
    majority = sa.case(
        (counts.c.n_for > counts.c.n_against, Position.FOR.value), else_=Position.AGAINST.value
    )
    return (
        sa.select(
            party_votes.c.party_id,
            sa.func.count(),
            sa.func.sum(sa.case((party_votes.c.position == majority, 1), else_=0)),
        )
        .join(counts, counts.c.vote_id == party_votes.c.vote_id)
        .where(counts.c.n_sides > 0)
        .group_by(party_votes.c.party_id)
    )


def party_records(
    body: Body, start: date | None = None, end: date | None = None
) -> list[PartyRecord]:
    """Each party's record in `body` between `start` and `end` (inclusive; None: open),
    in the body's party order; parties without votes or remarks in the period left out.
    Three aggregate statements and one for the parties, however many votes."""
    vote_counts = {
        party_id: (int(n), int(with_majority or 0))
        for party_id, n, with_majority in db.session.execute(*_vote_counts(body, start, end))
    }

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
    ids = set(vote_counts) | set(counts)
    if not ids:
        return []
    parties = db.session.scalars(sa.select(Party).where(Party.id.in_(ids))).all()
    records = {}
    for party in parties:
        n, with_majority = vote_counts.get(party.id, (0, 0))
        records[party.id] = PartyRecord(party, n, with_majority, counts.get(party.id, 0))
    return [records[p.id] for p in sort_parties(body, parties)]
