"""The parties' figures of a body (`minutes.statistics.party_records`): the aggregate
statements give what tallying every vote gives (`by_tally`, the former implementation,
kept here as the oracle) — on the demo, on a sample of the benchmark record, and on the
edge cases of the vote rules; and they take the same statements however many votes."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from bench.generate import load_meeting
from bench.record import schedule
from meetings.models import (
    AgendaItem,
    Body,
    ItemPresence,
    Meeting,
    MeetingState,
    Party,
    Seat,
    SeatRole,
)
from meetings.services import sort_parties
from meetings.visibility import minutes_public_clause
from minutes.models import ProtocolRemark, RemarkCoParty, RemarkKind, RemarkStatus
from minutes.statistics import PartyRecord, _period, load_seats, party_records
from motions.models import Motion, MotionKind
from protokol.extensions import db as _db
from tests.minutes.test_portal import count_queries
from votes.models import Outcome, PartyVote, Position, Vote
from votes.services import tally


def by_tally(body: Body, start: date | None = None, end: date | None = None) -> list[PartyRecord]:
    """The party records by tallying each vote in Python (the implementation before the
    aggregate statements; slow on a large record, exact by construction)."""
    votes = _db.session.scalars(
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
        for party_id, n in _db.session.execute(_period(query, start, end)):
            if party_id is not None:
                counts[party_id] = counts.get(party_id, 0) + n
    if counts:
        parties = _db.session.scalars(sa.select(Party).where(Party.id.in_(list(counts))))
        for party in parties:
            record(party).remarks = counts[party.id]
    ordered = sort_parties(body, [r.party for r in records.values()])
    return [records[p.id] for p in ordered]


def figures(records: list[PartyRecord]) -> list[tuple[str, int, int, int]]:
    return [(r.party.letter, r.votes, r.with_majority, r.remarks) for r in records]


def assert_same(body: Body, start: date | None = None, end: date | None = None) -> list:
    new = figures(party_records(body, start, end))
    old = figures(by_tally(body, start, end))
    assert new == old
    return new


def test_the_demo(db, published_demo):
    body = db.session.get(Meeting, published_demo).body
    # C's amendment rejected 3 (V, O, C) to 6; B's adopted 6 to 3.
    assert assert_same(body)[:3] == [("A", 2, 2, 0), ("B", 2, 2, 0), ("F", 2, 2, 0)]
    assert assert_same(body, date(2011, 1, 1)) == []
    assert assert_same(body, None, date(2010, 12, 6)) == assert_same(body)
    assert assert_same(body, date(2010, 12, 7)) == []


def test_a_sample_of_the_benchmark_record(db):
    # Fifteen meetings of the generated record: several bodies, published and not.
    for planned in schedule(0.006):
        load_meeting(11, planned)
    bodies = db.session.scalars(sa.select(Body).order_by(Body.id)).all()
    compared = 0
    for body in bodies:
        compared += len(assert_same(body))
        assert_same(body, date(2013, 1, 1), date(2016, 12, 31))
    assert compared > 0


@pytest.fixture
def edge_cases(db, factories) -> Body:
    """A body whose votes hit each rule of the tally: own positions (also not voting),
    the item's exceptions, a party vote with no one present, no one taking a side, a tie,
    seats that end, a substitute, two overlapping seats, an independent, and votes that do
    not count (open, without a vote, on a closed item, in unpublished minutes)."""
    seats = {"A": 3, "B": 2, "V": 2, "O": 1, None: 1}
    meeting = factories.meeting(
        seats, starts_at=datetime(2012, 5, 3, 16), absent=("O 1",), state=MeetingState.PUBLISHED
    )
    body = meeting.body
    later = factories.meeting(body=body, starts_at=datetime(2013, 2, 1, 16))  # in session
    # A 3's seat ended before the meeting; B 2 has a later seat for V (the later one counts).
    a3 = db.session.scalars(sa.select(Seat).where(Seat.member.has(name="A 3"))).one()
    a3.ends_on = date(2012, 5, 2)
    b2 = factories.members["B 2"]
    db.session.add(
        Seat(
            body=body,
            member=b2,
            party=factories.party("V"),
            role=SeatRole.SUBSTITUTE,
            starts_on=date(2011, 6, 1),
        )
    )
    db.session.flush()

    def vote(item: AgendaItem, parties=None, members=None, **fields) -> Vote:
        motion = factories.motion(item, MotionKind.AMENDMENT, party="A")
        return factories.vote(motion, parties, members, **fields)

    one = factories.item(meeting, 1)
    factories.absent_for_item(one, "A 1")
    factories.absent_for_item(one, "O 1", ItemPresence.PRESENT)
    vote(one, {"A": "for", "B": "against", "V": "against", "O": "for"})  # 3 to 3: rejected
    vote(one, {"A": "for", "B": "for", "V": "against", "O": "abstain"}, {"A 2": "against"})
    vote(one, {"A": "abstain", "B": "abstain", "V": "abstain"})  # nobody for or against
    vote(one, {}, {"A 2": "not_voting"})  # nobody took a side: no outcome
    vote(one, {"A": "for"}, {"Løsgænger 1": "against", "A 2": "abstain"})
    vote(one, {"A": "against", "B": "for"}, is_open=True)
    vote(one, {"A": "for", "B": "for"}, is_without_vote=True, outcome_without_vote="adopted")

    two = factories.item(meeting, 2)
    factories.absent_for_item(two, "V 1", ItemPresence.DISQUALIFIED)
    factories.absent_for_item(two, "V 2")
    factories.absent_for_item(two, "B 2")
    vote(two, {"A": "against", "V": "for", "B": "for"})  # V votes, no one of V present
    vote(two, {"A": "for", "B": "against", "O": "for"}, {"A 1": "not_voting"})

    closed = factories.item(meeting, 3, is_closed=True)
    vote(closed, {"A": "for", "B": "against"})
    factories.remark(one, "Bemærkning", party="B")
    factories.remark(closed, "Lukket", party="A")

    vote(factories.item(later, 1), {"A": "for", "B": "against"})
    db.session.commit()
    return body


def test_the_edge_cases_of_the_vote_rules(db, edge_cases):
    records = assert_same(edge_cases)
    assert [r[0] for r in records] == ["A", "B", "V", "O"]
    assert assert_same(edge_cases, date(2012, 5, 3), date(2012, 5, 3)) == records
    assert assert_same(edge_cases, date(2012, 5, 4)) == []


def test_the_statements_do_not_grow_with_the_votes(db, edge_cases, published_demo):
    counts = []
    for body_id in (edge_cases.id, db.session.get(Meeting, published_demo).body_id):
        db.session.expire_all()
        body = db.session.get(Body, body_id)
        with count_queries(db) as statements:
            party_records(body)
        counts.append(len(statements))
    # The votes, the remarks alone and jointly, the parties, and the body's party order.
    assert max(counts) <= 5, counts
