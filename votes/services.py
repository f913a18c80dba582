"""The vote rules: counts derived from the members present, outcome by votes cast,
quorum, and warnings when a vote's record cannot be right."""

from __future__ import annotations

from dataclasses import dataclass, field

from meetings.models import Body, Party
from meetings.services import SeatedMember, body_size, party_rank, present_for_item
from votes.models import MemberPosition, Outcome, Position, Vote

#: The order in which the sides are listed.
POSITIONS = (Position.FOR, Position.AGAINST, Position.ABSTAIN)


@dataclass
class SideEntry:
    """One group on a side: a whole party, or the named members of a split party or an
    independent (`party` None)."""

    party: Party | None
    members: list[SeatedMember]
    #: True when every voting member of the party present is on this side.
    is_whole_party: bool

    @property
    def count(self) -> int:
        return len(self.members)


@dataclass
class Side:
    """Everyone who voted one way."""

    position: Position
    entries: list[SideEntry] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(e.count for e in self.entries)


@dataclass
class Tally:
    """The derived result of a vote."""

    sides: dict[Position, Side]
    #: Members present for the item.
    present: list[SeatedMember]
    #: Regular seats in the body on the meeting's day.
    body_size: int
    #: Present members who took no part in the vote.
    not_voting: list[SeatedMember]
    #: Present members for whom no position is recorded (neither party nor own).
    unrecorded: list[SeatedMember]
    outcome: Outcome | None
    is_without_vote: bool
    warnings: list[str]

    @property
    def has_quorum(self) -> bool:
        """Beslutningsdygtig: at least half the members are present."""
        return 2 * len(self.present) >= self.body_size

    @property
    def votes_cast(self) -> int:
        return self.sides[Position.FOR].count + self.sides[Position.AGAINST].count


def decide_outcome(for_count: int, against_count: int) -> Outcome:
    """Simple majority of votes cast: abstentions do not count, a tie is not adopted."""
    return Outcome.ADOPTED if for_count > against_count else Outcome.REJECTED


def member_positions(
    vote: Vote, present: dict[int, SeatedMember]
) -> tuple[dict[int, MemberPosition], list[str]]:
    """Each present member's position: their own if recorded, else their party's.

    Returns the positions (members without any are left out) and warnings about recorded
    positions that cannot count (a party with no one present, a member not present).
    """
    warnings: list[str] = []
    by_party = {pv.party_id: pv.position for pv in vote.party_votes}
    own = {mv.member_id: mv.position for mv in vote.member_votes}
    positions: dict[int, MemberPosition] = {}
    for member_id, seated in present.items():
        if member_id in own:
            positions[member_id] = own[member_id]
        elif seated.party is not None and seated.party.id in by_party:
            positions[member_id] = MemberPosition(by_party[seated.party.id].value)
    present_parties = {s.party.id for s in present.values() if s.party is not None}
    for pv in vote.party_votes:
        if pv.party_id not in present_parties:
            warnings.append(
                f"{pv.party.letter} har stemt, men ingen af partiets medlemmer er til stede."
            )
    for mv in vote.member_votes:
        if mv.member_id not in present:
            warnings.append(f"{mv.member.name} har en stemme, men er ikke til stede.")
    return positions, warnings


def tally(vote: Vote) -> Tally:
    """Derive the counts, sides and outcome of `vote` from the item's attendance."""
    item = vote.motion.item
    body: Body = item.meeting.body
    present = present_for_item(item)
    size = body_size(body, item.meeting.date)
    positions, warnings = member_positions(vote, present)

    sides = {p: Side(p) for p in POSITIONS}
    rank = party_rank(body)
    by_party: dict[int, list[SeatedMember]] = {}
    independents: list[SeatedMember] = []
    for member_id, seated in present.items():
        if positions.get(member_id) in (None, MemberPosition.NOT_VOTING):
            continue
        if seated.party is None:
            independents.append(seated)
        else:
            by_party.setdefault(seated.party.id, []).append(seated)

    def party_sort_key(members: list[SeatedMember]) -> tuple[int, str]:
        party = members[0].party
        assert party is not None
        return (rank.get(party.id, len(rank)), party.letter)

    for members in sorted(by_party.values(), key=party_sort_key):
        party = members[0].party
        groups: dict[Position, list[SeatedMember]] = {}
        for seated in sorted(members, key=lambda s: s.member.name):
            groups.setdefault(Position(positions[seated.member.id].value), []).append(seated)
        is_whole = len(groups) == 1
        for position, group in groups.items():
            sides[position].entries.append(SideEntry(party, group, is_whole))
    for seated in sorted(independents, key=lambda s: s.member.name):
        position = Position(positions[seated.member.id].value)
        sides[position].entries.append(SideEntry(None, [seated], False))

    present_list = sorted(present.values(), key=lambda s: s.member.name)
    not_voting = [s for s in present_list if positions.get(s.member.id) == MemberPosition.NOT_VOTING]
    unrecorded = [s for s in present_list if s.member.id not in positions]

    if vote.is_without_vote:
        outcome = vote.outcome_without_vote
    elif sides[Position.FOR].count + sides[Position.AGAINST].count + sides[
        Position.ABSTAIN
    ].count == 0:
        outcome = None
    else:
        outcome = decide_outcome(sides[Position.FOR].count, sides[Position.AGAINST].count)

    result = Tally(
        sides=sides,
        present=present_list,
        body_size=size,
        not_voting=not_voting,
        unrecorded=unrecorded,
        outcome=outcome,
        is_without_vote=vote.is_without_vote,
        warnings=warnings,
    )
    if not result.has_quorum:
        needed = (size + 1) // 2
        warnings.insert(
            0,
            f"Ikke beslutningsdygtigt: {len(present_list)} af {size} medlemmer er til stede"
            f" (mindst {needed} kræves).",
        )
    if not vote.is_without_vote and unrecorded:
        names = ", ".join(s.label for s in unrecorded)
        warnings.append(f"Ingen stemme registreret for {len(unrecorded)} til stede: {names}.")
    return result
