"""The vote rules: counts derived from the members present, outcome by votes cast,
quorum, and warnings when a vote's record cannot be right."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from meetings.models import AgendaItem, Body, Member, Party
from meetings.services import (
    SeatedMember,
    body_size,
    parties_present,
    party_rank,
    present_for_item,
)
from motions.models import Motion
from protokol.extensions import db
from votes.models import (
    Decision,
    MemberPosition,
    MemberVote,
    Outcome,
    PartyVote,
    Position,
    ResultMode,
    Vote,
)

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
                _(
                    "%(party)s har stemt, men ingen af partiets medlemmer er til stede.",
                    party=pv.party.letter,
                )
            )
    for mv in vote.member_votes:
        if mv.member_id not in present:
            warnings.append(
                _("%(name)s har en stemme, men er ikke til stede.", name=mv.member.name)
            )
    return positions, warnings


def tally(
    vote: Vote, *, present: dict[int, SeatedMember] | None = None, size: int | None = None
) -> Tally:
    """Derive the counts, sides and outcome of `vote` from the item's attendance.

    `present` (`present_for_item` of the vote's item, not changed here) and `size`
    (`body_size` on the meeting's day) may be given when the caller tallies several votes
    of one item."""
    item = vote.motion.item
    body: Body = item.meeting.body
    if present is None:
        present = present_for_item(item)
    if size is None:
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
    not_voting = [
        s for s in present_list if positions.get(s.member.id) == MemberPosition.NOT_VOTING
    ]
    unrecorded = [s for s in present_list if s.member.id not in positions]

    if vote.is_without_vote:
        outcome = vote.outcome_without_vote
    elif (
        sides[Position.FOR].count + sides[Position.AGAINST].count + sides[Position.ABSTAIN].count
        == 0
    ):
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
            _(
                "Ikke beslutningsdygtigt: %(present)s af %(size)s medlemmer er til stede"
                " (mindst %(needed)s kræves).",
                present=len(present_list),
                size=size,
                needed=needed,
            ),
        )
    if not vote.is_without_vote and unrecorded:
        names = ", ".join(s.label for s in unrecorded)
        warnings.append(
            _(
                "Ingen stemme registreret for %(count)s til stede: %(names)s.",
                count=len(unrecorded),
                names=names,
            )
        )
    return result


# --------------------------------------------------------------------------- recording
# The live console's writes. Each takes the vote version the secretary saw: a change
# based on an older version is refused with `VoteConflict` (never a silent overwrite).
# A request that asks for the state the vote already has is accepted as it is, so a
# double click or a retried request does nothing twice.


class VoteError(ValueError):
    """A vote cannot be recorded as asked."""


class VoteConflict(VoteError):
    """The vote changed since the secretary saw it (optimistic locking)."""

    def __init__(self, vote: Vote):
        self.vote = vote
        super().__init__(
            _(
                "Afstemningen er netop ændret et andet sted. Siden viser nu den nyeste udgave;"
                " kontrollér den, og registrér igen."
            )
        )


def _check_version(vote: Vote, expected_version: int | None) -> None:
    from meetings.locking import ensure_editable

    ensure_editable(vote.motion.item.meeting)
    if expected_version is not None and expected_version != vote.version:
        raise VoteConflict(vote)


def _ensure_open(vote: Vote) -> None:
    if not vote.is_open:
        raise VoteError(_("Afstemningen er lukket. Genåbn den for at rette."))


def _delete_part(vote: Vote, part: PartyVote | MemberVote, collection: str) -> None:
    """Delete a party's or member's position through the session, not by dropping it from
    the collection: an orphan deleted by the flush is not in `session.deleted`, so the
    audit trail would miss it (and could not tell its vote any more). The flush writes the
    vote's row first when it is touched (`Vote.touch`)."""
    db.session.delete(part)
    db.session.flush()
    db.session.expire(vote, [collection])


def open_vote(motion: Motion, *, actor: Any) -> Vote:
    """Open the vote on `motion` (or return the one already there)."""
    from meetings.locking import ensure_editable

    ensure_editable(motion.item.meeting)
    existing = getattr(motion, "vote", None)
    if existing is not None:
        return existing
    vote = Vote(motion=motion, is_open=True)
    db.session.add(vote)
    db.session.flush()
    return vote


def set_party_position(
    vote: Vote,
    party: Party,
    position: Position | None,
    *,
    expected_version: int | None,
    actor: Any,
) -> Vote:
    """Record how `party` voted (None clears it)."""
    current = next((pv for pv in vote.party_votes if pv.party_id == party.id), None)
    if (current.position if current else None) == position:
        return vote
    _check_version(vote, expected_version)
    if not vote.is_open:
        raise VoteError(_("Afstemningen er lukket. Genåbn den for at rette."))
    vote.touch()
    if position is None:
        _delete_part(vote, current, "party_votes")
    elif current is None:
        vote.party_votes.append(PartyVote(party=party, position=position))
    else:
        current.position = position
    db.session.flush()
    return vote


def set_member_position(
    vote: Vote,
    member: Member,
    position: MemberPosition | None,
    *,
    expected_version: int | None,
    actor: Any,
) -> Vote:
    """Record a member's own position (a split from the party, or an independent's);
    None makes the member follow the party again."""
    current = next((mv for mv in vote.member_votes if mv.member_id == member.id), None)
    if (current.position if current else None) == position:
        return vote
    _check_version(vote, expected_version)
    if not vote.is_open:
        raise VoteError(_("Afstemningen er lukket. Genåbn den for at rette."))
    if position is not None and member.id not in present_for_item(vote.motion.item):
        raise VoteError(_("%(name)s er ikke til stede ved punktet.", name=member.name))
    vote.touch()
    if position is None:
        _delete_part(vote, current, "member_votes")
    elif current is None:
        vote.member_votes.append(MemberVote(member=member, position=position))
    else:
        current.position = position
    db.session.flush()
    return vote


def set_unrecorded_parties(
    vote: Vote, position: Position, *, expected_version: int | None, actor: Any
) -> Vote:
    """Give every present party without a recorded position `position` (nothing to do,
    as after a double click, when every present party has one)."""
    recorded = {pv.party_id for pv in vote.party_votes}
    parties = {
        p.id: p
        for p in parties_present(vote.motion.item.meeting.body, present_for_item(vote.motion.item))
    }
    missing = [party for party_id, party in parties.items() if party_id not in recorded]
    if not missing:
        return vote
    _check_version(vote, expected_version)
    _ensure_open(vote)
    for party in missing:
        vote.party_votes.append(PartyVote(party=party, position=position))
    vote.touch()
    db.session.flush()
    return vote


def close_vote(vote: Vote, *, expected_version: int | None, actor: Any) -> Vote:
    """Close the vote: the result is final (it can be reopened until the minutes are
    approved)."""
    if not vote.is_open:
        return vote
    _check_version(vote, expected_version)
    vote.is_open = False
    db.session.flush()
    return vote


def reopen_vote(vote: Vote, *, expected_version: int | None, actor: Any) -> Vote:
    """Reopen a closed vote to correct it."""
    if vote.is_open:
        return vote
    _check_version(vote, expected_version)
    vote.is_open = True
    db.session.flush()
    return vote


def set_without_vote(
    vote: Vote, outcome: Outcome | None, *, expected_version: int | None, actor: Any
) -> Vote:
    """Record the motion as decided without a vote (uden afstemning) with `outcome`;
    None returns to a counted vote."""
    wanted = (outcome is not None, outcome)
    if (vote.is_without_vote, vote.outcome_without_vote) == wanted:
        return vote
    _check_version(vote, expected_version)
    _ensure_open(vote)
    vote.is_without_vote, vote.outcome_without_vote = wanted
    db.session.flush()
    return vote


def set_result_sentence(
    vote: Vote, mode: ResultMode, text: str = "", *, expected_version: int | None, actor: Any
) -> Vote:
    """Choose the result sentence printed after the vote: the style's, one's own, or none."""
    text = text.strip()
    if mode == ResultMode.CUSTOM and not text:
        raise VoteError(_("Skriv den sætning, der skal stå efter afstemningen."))
    if len(text) > 2000:
        raise VoteError(_("Sætningen er for lang (højst 2000 tegn)."))
    if (vote.result_mode, vote.result_text) == (mode, text if mode == ResultMode.CUSTOM else ""):
        return vote
    _check_version(vote, expected_version)
    _ensure_open(vote)
    vote.result_mode = mode
    vote.result_text = text if mode == ResultMode.CUSTOM else ""
    db.session.flush()
    return vote


def set_decision(
    item: AgendaItem, result_key: str, result_text: str, *, actor: Any, known_keys: Iterable[str]
) -> Decision:
    """Set the item's final result: one of the style's standard sentences or one's own."""
    from meetings.locking import ensure_editable

    ensure_editable(item.meeting)
    result_text = result_text.strip()
    if result_key and result_key not in set(known_keys):
        raise VoteError(_("Ukendt standardsætning for beslutningen."))
    if len(result_text) > 5000:
        raise VoteError(_("Beslutningen er for lang (højst 5000 tegn)."))
    decision = getattr(item, "decision", None)
    if decision is None:
        decision = Decision(item=item)
        db.session.add(decision)
    decision.result_key = result_key
    decision.result_text = result_text
    db.session.flush()
    return decision
