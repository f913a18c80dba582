"""Votes as open data: one summary per vote from `votes.services.tally` (counts derived
from the members present), shown as a Popolo VoteEvent and, shorter, as the vendor
property `protokol:votes` on an OParl AgendaItem.

The options are Popolo's: "yes", "no", "abstain" (and "not voting" for members present
who took no part). A whole party's vote is one vote with the party as voter and the
number of its members as weight; a party that split, and an independent (løsgænger),
vote member by member.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meetings.models import Member, Party
from motions.models import Motion, MotionKind
from votes.models import Outcome, Position, Vote
from votes.services import Tally, tally

OPTIONS = {Position.FOR: "yes", Position.AGAINST: "no", Position.ABSTAIN: "abstain"}
RESULTS = {Outcome.ADOPTED: "pass", Outcome.REJECTED: "fail"}
#: Danish names of the motion kinds, as OParl paper types and Popolo classifications.
MOTION_KINDS = {
    MotionKind.RECOMMENDATION: "Indstilling",
    MotionKind.AMENDMENT: "Ændringsforslag",
    MotionKind.ADDITION: "Tillægsforslag",
    MotionKind.POSTPONEMENT: "Udsættelsesforslag",
    MotionKind.PROCEDURAL: "Forslag til forretningsordenen",
}


@dataclass
class GroupVote:
    """A party's part in a vote."""

    party: Party
    counts: dict[str, int] = field(default_factory=dict)
    #: (member, option) for every voting member of the party present.
    members: list[tuple[Member, str]] = field(default_factory=list)

    @property
    def option(self) -> str:
        """The party's option, or "split" when its members voted differently."""
        options = [o for o, n in self.counts.items() if n]
        return options[0] if len(options) == 1 else "split"


@dataclass
class VoteSummary:
    """What the public may know of one vote."""

    vote: Vote
    result: str | None
    is_without_vote: bool
    counts: dict[str, int]
    groups: list[GroupVote]
    #: Independents' votes: (member, option).
    independents: list[tuple[Member, str]]


def summarize(vote: Vote, counted: Tally | None = None) -> VoteSummary:
    """Counts, party results and votes of `vote`, derived by `tally` (`counted`, when the
    caller has it)."""
    if counted is None:
        counted = tally(vote)
    counts = {OPTIONS[p]: counted.sides[p].count for p in OPTIONS}
    if counted.not_voting:
        counts["not voting"] = len(counted.not_voting)
    groups: dict[int, GroupVote] = {}
    independents: list[tuple[Member, str]] = []
    for position, side in counted.sides.items():
        option = OPTIONS[position]
        for entry in side.entries:
            if entry.party is None:
                independents.extend((s.member, option) for s in entry.members)
                continue
            group = groups.setdefault(entry.party.id, GroupVote(entry.party))
            group.counts[option] = group.counts.get(option, 0) + entry.count
            group.members.extend((s.member, option) for s in entry.members)
    return VoteSummary(
        vote=vote,
        result=RESULTS.get(counted.outcome) if counted.outcome is not None else None,
        is_without_vote=vote.is_without_vote,
        counts=counts,
        groups=list(groups.values()),
        independents=independents,
    )


@dataclass
class Links:
    """How the serializers name other objects (absolute URLs)."""

    vote_event: Callable[[int], str]
    party: Callable[[int], str]
    person: Callable[[int], str]
    committee: Callable[[int], str]
    meeting: Callable[[int], str]
    paper: Callable[[Motion], str]
    minutes: Callable[[int], str]


def _counts(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [{"option": option, "value": value} for option, value in counts.items()]


def vote_event(summary: VoteSummary, links: Links, *, start: str | None) -> dict[str, Any]:
    """A Popolo VoteEvent."""
    vote = summary.vote
    motion = vote.motion
    meeting = motion.item.meeting
    votes: list[dict[str, Any]] = []
    for group in summary.groups:
        if group.option != "split":
            votes.append(
                {
                    "voter_id": links.party(group.party.id),
                    "voter": {"id": links.party(group.party.id), "name": group.party.name},
                    "option": group.option,
                    "weight": sum(group.counts.values()),
                    "group_id": links.party(group.party.id),
                }
            )
        else:
            votes.extend(
                {
                    "voter_id": links.person(member.id),
                    "voter": {"id": links.person(member.id), "name": member.name},
                    "option": option,
                    "group_id": links.party(group.party.id),
                }
                for member, option in group.members
            )
    votes.extend(
        {
            "voter_id": links.person(member.id),
            "voter": {"id": links.person(member.id), "name": member.name},
            "option": option,
            "group_id": None,
        }
        for member, option in summary.independents
    )
    event: dict[str, Any] = {
        "id": links.vote_event(vote.id),
        "identifier": str(vote.id),
        "organization_id": links.committee(meeting.body_id),
        "legislative_session_id": links.meeting(meeting.id),
        "motion_id": links.paper(motion),
        "motion": {
            "id": links.paper(motion),
            "organization_id": links.committee(meeting.body_id),
            "classification": MOTION_KINDS[motion.kind],
            "text": motion.text,
            "result": summary.result,
        },
        "classification": "without vote" if summary.is_without_vote else "vote",
        "start_date": start,
        "result": summary.result,
        "counts": _counts(summary.counts),
        "group_results": [
            {
                "group_id": links.party(g.party.id),
                "group": {
                    "id": links.party(g.party.id),
                    "name": g.party.name,
                    "identifier": g.party.letter,
                },
                "result": g.option,
                "counts": _counts(g.counts),
            }
            for g in summary.groups
        ],
        "votes": votes,
        "sources": [{"url": links.minutes(meeting.id), "note": "Beslutningsprotokol"}],
    }
    if motion.proposer_member_id is not None:
        event["motion"]["creator_id"] = links.person(motion.proposer_member_id)
    return event


def agenda_item_votes(
    motions: list[Motion], summaries: dict[int, VoteSummary], links: Links
) -> list[dict[str, Any]]:
    """The vendor property `protokol:votes`: per motion, its result and each party's."""
    result = []
    for motion in motions:
        vote = getattr(motion, "vote", None)
        summary = summaries.get(vote.id) if vote is not None else None
        entry: dict[str, Any] = {
            "motion": MOTION_KINDS[motion.kind],
            "paper": links.paper(motion),
            "voteEvent": links.vote_event(vote.id) if vote is not None else None,
            "result": summary.result if summary else None,
            "withoutVote": summary.is_without_vote if summary else False,
            "counts": summary.counts if summary else {},
            "parties": [
                {
                    "organization": links.party(g.party.id),
                    "shortName": g.party.letter,
                    "option": g.option,
                    "counts": g.counts,
                }
                for g in (summary.groups if summary else [])
            ],
            "independents": [
                {"person": links.person(m.id), "name": m.name, "option": option}
                for m, option in (summary.independents if summary else [])
            ],
        }
        if summary:
            entry["members"] = [
                {"person": links.person(m.id), "organization": links.party(g.party.id), "option": o}
                for g in summary.groups
                if g.option == "split"
                for m, o in g.members
            ]
        result.append(entry)
    return result
