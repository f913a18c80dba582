"""The vote rules: counts derived from attendance and seats, party positions with member
exceptions, independents, the outcome by votes cast, quorum and the warnings."""

from __future__ import annotations

from datetime import date

import pytest

from meetings.models import ItemPresence, SeatRole
from motions.models import MotionKind
from votes.models import Outcome, Position
from votes.services import Tally, decide_outcome, tally

#: The seed's first vote on item 14: C's amendment, V, O and C for, the rest against.
SEED_VOTE = {"V": "for", "O": "for", "C": "for", "A": "against", "B": "against",
             "F": "against", "Ø": "against"}  # fmt: skip


def side(result: Tally, position: str) -> list[str]:
    """A side as the minutes list it: whole parties by letter, others by member name."""
    labels: list[str] = []
    for entry in result.sides[Position(position)].entries:
        if entry.party is not None and entry.is_whole_party:
            labels.append(entry.party.letter)
        else:
            labels.extend(m.member.name for m in entry.members)
    return labels


def counts(result: Tally) -> tuple[int, int, int]:
    return tuple(result.sides[Position(p)].count for p in ("for", "against", "abstain"))


@pytest.fixture
def seed_item(factories):
    """An item at a meeting of the seed's committee (A 3 seats, B F Ø V O C one each)."""
    return factories.item(factories.meeting())


def vote_on(factories, item, **kwargs):
    """A vote on a new motion on `item`."""
    motion = factories.motion(item)
    # `factories.vote` looks parties up before it adds the vote to the session; the
    # autoflush would find the half-built vote outside the session.
    with factories.session.no_autoflush:
        return factories.vote(motion, **kwargs)


# --- decide_outcome -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("for_count", "against_count", "outcome"),
    [
        (6, 3, Outcome.ADOPTED),
        (3, 6, Outcome.REJECTED),
        (1, 0, Outcome.ADOPTED),
        (4, 4, Outcome.REJECTED),
        (0, 0, Outcome.REJECTED),
    ],
)
def test_decide_outcome_is_a_simple_majority_and_a_tie_is_not_adopted(
    for_count, against_count, outcome
):
    assert decide_outcome(for_count, against_count) is outcome


# --- the seed's vote ------------------------------------------------------------------


def test_seed_vote_three_for_six_against_sides_in_body_order(factories, seed_item):
    result = tally(vote_on(factories, seed_item, parties=SEED_VOTE))

    assert counts(result) == (3, 6, 0)
    # The body's order is A B F Ø V O C, not the alphabet.
    assert side(result, "for") == ["V", "O", "C"]
    assert side(result, "against") == ["A", "B", "F", "Ø"]
    assert side(result, "abstain") == []
    assert all(e.is_whole_party for p in Position for e in result.sides[p].entries)
    assert result.outcome is Outcome.REJECTED
    assert result.votes_cast == 9
    assert result.body_size == 9
    assert len(result.present) == 9
    assert result.has_quorum
    assert result.not_voting == []
    assert result.unrecorded == []
    assert result.warnings == []
    assert result.is_without_vote is False


def test_seed_vote_reversed_is_adopted(factories, seed_item):
    reversed_vote = {p: ("against" if v == "for" else "for") for p, v in SEED_VOTE.items()}
    result = tally(vote_on(factories, seed_item, parties=reversed_vote))

    assert counts(result) == (6, 3, 0)
    assert side(result, "for") == ["A", "B", "F", "Ø"]
    assert side(result, "against") == ["V", "O", "C"]
    assert result.outcome is Outcome.ADOPTED


def test_party_outside_the_body_order_is_listed_after_it(factories):
    meeting = factories.meeting({"A": 1, "V": 1, "I": 1, "Å": 1}, order="V A")
    result = tally(
        vote_on(
            factories,
            factories.item(meeting),
            parties={"A": "for", "V": "for", "I": "for", "Å": "for"},
        )
    )
    # V and A in the body's order, then the parties outside it alphabetically.
    assert side(result, "for") == ["V", "A", "I", "Å"]


# --- split parties, independents, members not voting ----------------------------------


def test_split_party_is_listed_by_member_and_counted_right(factories, seed_item):
    result = tally(vote_on(factories, seed_item, parties=SEED_VOTE, members={"A 2": "for"}))

    assert counts(result) == (4, 5, 0)
    # A comes first in the body's order, so its member leads the side.
    assert side(result, "for") == ["A 2", "V", "O", "C"]
    assert side(result, "against") == ["A 1", "A 3", "B", "F", "Ø"]
    a_entries = [
        e
        for p in Position
        for e in result.sides[p].entries
        if e.party is not None and e.party.letter == "A"
    ]
    assert len(a_entries) == 2
    assert not any(e.is_whole_party for e in a_entries)
    assert result.outcome is Outcome.REJECTED


def test_member_exception_that_agrees_with_the_party_keeps_it_whole(factories, seed_item):
    result = tally(vote_on(factories, seed_item, parties=SEED_VOTE, members={"A 1": "against"}))

    assert side(result, "against") == ["A", "B", "F", "Ø"]
    assert counts(result) == (3, 6, 0)


def test_independent_votes_on_their_own_and_is_listed_after_the_parties(factories):
    meeting = factories.meeting({"A": 2, "V": 2, None: 1})
    result = tally(
        vote_on(
            factories,
            factories.item(meeting),
            parties={"A": "against", "V": "for"},
            members={"Løsgænger 1": "for"},
        )
    )

    assert counts(result) == (3, 2, 0)
    assert side(result, "for") == ["V", "Løsgænger 1"]
    independent = result.sides[Position.FOR].entries[-1]
    assert independent.party is None
    assert independent.is_whole_party is False
    assert [m.member.name for m in independent.members] == ["Løsgænger 1"]
    assert result.outcome is Outcome.ADOPTED
    assert result.warnings == []


def test_independent_without_own_position_is_unrecorded(factories):
    meeting = factories.meeting({"A": 2, None: 1})
    result = tally(vote_on(factories, factories.item(meeting), parties={"A": "for"}))

    assert counts(result) == (2, 0, 0)
    assert [s.member.name for s in result.unrecorded] == ["Løsgænger 1"]
    assert result.warnings == ["Ingen stemme registreret for 1 til stede: Løsgænger 1."]


def test_not_voting_absent_and_disqualified_members_are_not_counted(factories):
    meeting = factories.meeting({"A": 4, "V": 3, "O": 1, "C": 1}, absent=("A 2",))
    item = factories.item(meeting)
    factories.absent_for_item(item, "A 3")  # left before the item
    factories.absent_for_item(item, "V 2", ItemPresence.DISQUALIFIED)  # inhabil
    result = tally(
        vote_on(
            factories,
            item,
            parties={"A": "for", "V": "against", "O": "against", "C": "abstain"},
            members={"A 4": "not_voting"},
        )
    )

    # A: A 1 only (A 2 absent, A 3 left, A 4 not voting); V: V 1 and V 3 (V 2 inhabil).
    assert counts(result) == (1, 3, 1)
    assert side(result, "for") == ["A"]
    assert side(result, "against") == ["V", "O"]
    assert side(result, "abstain") == ["C"]
    assert [m.member.name for m in result.sides[Position.AGAINST].entries[0].members] == [
        "V 1",
        "V 3",
    ]
    assert [s.member.name for s in result.not_voting] == ["A 4"]
    assert {s.member.name for s in result.present} == {"A 1", "A 4", "C 1", "O 1", "V 1", "V 3"}
    assert result.unrecorded == []
    assert result.votes_cast == 4
    assert result.outcome is Outcome.REJECTED
    # 6 of 9 present: quorum; nobody without a position.
    assert result.has_quorum
    assert result.warnings == []


def test_member_arriving_late_is_counted_for_the_item(factories):
    meeting = factories.meeting(absent=("A 3",))
    item = factories.item(meeting)
    factories.absent_for_item(item, "A 3", ItemPresence.PRESENT)
    result = tally(vote_on(factories, item, parties=SEED_VOTE))

    assert counts(result) == (3, 6, 0)
    assert len(result.present) == 9
    assert "A 3" in {s.member.name for s in result.present}

    # On another item, before the member arrived, A had two votes.
    earlier = factories.item(meeting)
    assert counts(tally(vote_on(factories, earlier, parties=SEED_VOTE))) == (3, 5, 0)


def test_own_vote_of_a_member_not_present_is_not_counted_and_warned(factories):
    meeting = factories.meeting(absent=("A 3",))
    result = tally(
        vote_on(factories, factories.item(meeting), parties=SEED_VOTE, members={"A 3": "for"})
    )

    assert counts(result) == (3, 5, 0)
    assert side(result, "against") == ["A", "B", "F", "Ø"]
    assert result.warnings == ["A 3 har en stemme, men er ikke til stede."]


# --- the outcome ------------------------------------------------------------------------


def test_tie_is_rejected(factories):
    meeting = factories.meeting({"A": 2, "V": 2})
    result = tally(
        vote_on(factories, factories.item(meeting), parties={"A": "for", "V": "against"})
    )

    assert counts(result) == (2, 2, 0)
    assert result.outcome is Outcome.REJECTED


def test_abstentions_do_not_count_toward_the_outcome(factories):
    meeting = factories.meeting({"A": 2, "V": 1, "O": 5})
    result = tally(
        vote_on(
            factories,
            factories.item(meeting),
            parties={"A": "for", "V": "against", "O": "abstain"},
        )
    )

    assert counts(result) == (2, 1, 5)
    assert result.votes_cast == 3
    # 2 for against 1: adopted although far fewer than half the members voted for.
    assert result.outcome is Outcome.ADOPTED


def test_only_abstentions_is_not_adopted(factories):
    meeting = factories.meeting({"A": 2, "V": 1})
    result = tally(
        vote_on(factories, factories.item(meeting), parties={"A": "abstain", "V": "abstain"})
    )
    assert counts(result) == (0, 0, 3)
    assert result.outcome is Outcome.REJECTED


def test_no_positions_at_all_has_no_outcome(factories, seed_item):
    result = tally(vote_on(factories, seed_item))

    assert counts(result) == (0, 0, 0)
    assert result.outcome is None
    assert len(result.unrecorded) == 9
    assert result.warnings == [
        "Ingen stemme registreret for 9 til stede: "
        "A 1 (A), A 2 (A), A 3 (A), B 1 (B), C 1 (C), F 1 (F), O 1 (O), V 1 (V), Ø 1 (Ø)."
    ]


def test_everyone_not_voting_has_no_outcome(factories):
    meeting = factories.meeting({"A": 1, "V": 1})
    result = tally(
        vote_on(
            factories, factories.item(meeting), members={"A 1": "not_voting", "V 1": "not_voting"}
        )
    )
    assert result.outcome is None
    assert [s.member.name for s in result.not_voting] == ["A 1", "V 1"]
    assert result.unrecorded == []
    assert result.warnings == []


@pytest.mark.parametrize("outcome", [Outcome.ADOPTED, Outcome.REJECTED])
def test_decided_without_a_vote_takes_the_recorded_outcome(factories, seed_item, outcome):
    result = tally(
        vote_on(factories, seed_item, is_without_vote=True, outcome_without_vote=outcome)
    )

    assert result.is_without_vote is True
    assert result.outcome is outcome
    assert counts(result) == (0, 0, 0)
    # Nobody is expected to have a recorded position when there was no vote.
    assert result.warnings == []


def test_without_vote_outcome_wins_over_recorded_positions(factories, seed_item):
    result = tally(
        vote_on(
            factories,
            seed_item,
            parties=SEED_VOTE,
            is_without_vote=True,
            outcome_without_vote=Outcome.ADOPTED,
        )
    )
    assert result.outcome is Outcome.ADOPTED


# --- quorum -------------------------------------------------------------------------------


def test_four_of_nine_present_is_not_a_quorum_and_warns(factories):
    meeting = factories.meeting(absent=("A 1", "A 2", "A 3", "B 1", "F 1"))
    result = tally(
        vote_on(
            factories,
            factories.item(meeting),
            parties={"Ø": "for", "V": "for", "O": "for", "C": "for"},
        )
    )

    assert len(result.present) == 4
    assert result.body_size == 9
    assert result.has_quorum is False
    assert result.outcome is Outcome.ADOPTED  # the count stands; the warning says why not
    assert result.warnings == [
        "Ikke beslutningsdygtigt: 4 af 9 medlemmer er til stede (mindst 5 kræves)."
    ]


def test_five_of_nine_present_is_a_quorum(factories):
    meeting = factories.meeting(absent=("A 1", "A 2", "A 3", "B 1"))
    result = tally(
        vote_on(
            factories,
            factories.item(meeting),
            parties={"F": "for", "Ø": "for", "V": "for", "O": "for", "C": "for"},
        )
    )
    assert len(result.present) == 5
    assert result.has_quorum
    assert result.warnings == []


def test_exactly_half_present_is_a_quorum(factories):
    meeting = factories.meeting({"A": 4, "V": 4}, absent=("V 1", "V 2", "V 3", "V 4"))
    result = tally(vote_on(factories, factories.item(meeting), parties={"A": "for"}))

    assert len(result.present) == 4
    assert result.body_size == 8
    assert result.has_quorum
    assert result.warnings == []


def test_members_leaving_for_the_item_can_break_the_quorum(factories):
    meeting = factories.meeting({"A": 4, "V": 4}, absent=("V 1", "V 2", "V 3", "V 4"))
    item = factories.item(meeting)
    factories.absent_for_item(item, "A 4", ItemPresence.DISQUALIFIED)
    result = tally(vote_on(factories, item, parties={"A": "for"}))

    assert len(result.present) == 3
    assert result.has_quorum is False
    assert result.warnings[0] == (
        "Ikke beslutningsdygtigt: 3 af 8 medlemmer er til stede (mindst 4 kræves)."
    )


def test_substitutes_are_not_counted_in_the_body_size(factories):
    body = factories.body()
    factories.member(body, "Stedfortræder A", "A", role=SeatRole.SUBSTITUTE)
    factories.member(body, "Stedfortræder V", "V", role=SeatRole.SUBSTITUTE)
    meeting = factories.meeting({"A": 2, "V": 2}, body=body, absent=("Stedfortræder V",))
    result = tally(
        vote_on(factories, factories.item(meeting), parties={"A": "for", "V": "against"})
    )

    assert result.body_size == 4
    # A's substitute is present and votes with the party.
    assert counts(result) == (3, 2, 0)
    assert result.has_quorum


def test_seat_that_ended_before_the_meeting_does_not_count(factories):
    body = factories.body()
    factories.member(
        body, "Tidligere A", "A", starts_on=date(2006, 1, 1), ends_on=date(2010, 6, 30)
    )
    factories.member(body, "Senere A", "A", starts_on=date(2011, 1, 1))
    meeting = factories.meeting({"A": 2, "V": 2}, body=body)
    result = tally(
        vote_on(
            factories,
            factories.item(meeting),
            parties={"A": "for", "V": "against"},
            members={"Tidligere A": "against"},
        )
    )

    assert result.body_size == 4
    assert {s.member.name for s in result.present} == {"A 1", "A 2", "V 1", "V 2"}
    assert counts(result) == (2, 2, 0)
    assert side(result, "for") == ["A"]
    assert result.warnings == ["Tidligere A har en stemme, men er ikke til stede."]


def test_seat_ending_on_the_meeting_day_counts(factories):
    body = factories.body()
    factories.member(body, "Sidste dag", "A", ends_on=date(2010, 12, 6))
    meeting = factories.meeting({"V": 1}, body=body)
    result = tally(
        vote_on(factories, factories.item(meeting), parties={"A": "for", "V": "against"})
    )
    assert result.body_size == 2
    assert counts(result) == (1, 1, 0)


# --- warnings -----------------------------------------------------------------------------


def test_present_members_without_a_position_are_warned_about(factories, seed_item):
    vote = SEED_VOTE | {}
    del vote["O"]
    result = tally(vote_on(factories, seed_item, parties=vote))

    assert counts(result) == (2, 6, 0)
    assert [s.label for s in result.unrecorded] == ["O 1 (O)"]
    assert result.warnings == ["Ingen stemme registreret for 1 til stede: O 1 (O)."]


def test_party_vote_for_a_party_with_nobody_present_is_warned_about(factories):
    meeting = factories.meeting(absent=("O 1",))
    result = tally(vote_on(factories, factories.item(meeting), parties=SEED_VOTE))

    assert counts(result) == (2, 6, 0)
    assert side(result, "for") == ["V", "C"]
    assert result.warnings == ["O har stemt, men ingen af partiets medlemmer er til stede."]


def test_quorum_warning_comes_first(factories):
    meeting = factories.meeting(absent=("A 1", "A 2", "A 3", "B 1", "F 1"))
    result = tally(vote_on(factories, factories.item(meeting), parties={"A": "for", "V": "for"}))

    assert result.warnings == [
        "Ikke beslutningsdygtigt: 4 af 9 medlemmer er til stede (mindst 5 kræves).",
        "A har stemt, men ingen af partiets medlemmer er til stede.",
        "Ingen stemme registreret for 3 til stede: C 1 (C), O 1 (O), Ø 1 (Ø).",
    ]


def test_recommendation_vote_is_tallied_like_any_other(factories, seed_item):
    motion = factories.motion(seed_item, MotionKind.RECOMMENDATION)
    with factories.session.no_autoflush:
        vote = factories.vote(
            motion,
            parties={
                "A": "for",
                "B": "for",
                "F": "for",
                "Ø": "for",
                "V": "against",
                "O": "abstain",
                "C": "against",
            },
        )
    result = tally(vote)
    assert counts(result) == (6, 2, 1)
    assert side(result, "against") == ["V", "C"]
    assert result.outcome is Outcome.ADOPTED
