"""The live console's recording services: party positions with member exceptions and
independents, optimistic locking on the vote version, idempotent requests, closing and
reopening, decided without a vote, the result sentence, the item's decision, the lock on
approved minutes, and the audit trail each change leaves."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from meetings.locking import RecordLocked
from meetings.models import ItemPresence, MeetingState
from motions.models import MotionKind
from motions.services import delete_motion
from protokol.audit import AuditAction, AuditEntry, set_actor
from protokol.models import utcnow
from tests.helpers import recorded_statements
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
from votes.services import (
    Tally,
    VoteConflict,
    VoteError,
    close_vote,
    open_vote,
    reopen_vote,
    set_decision,
    set_member_position,
    set_party_position,
    set_result_sentence,
    set_unrecorded_parties,
    set_without_vote,
    tally,
)

#: The order the secretary clicks in: the body's order.
BODY_ORDER = ("A", "B", "F", "Ø", "V", "O", "C")
#: The seed's first vote (C's amendment): V, O and C for, the rest against.
FIRST_VOTE = {"A": "against", "B": "against", "F": "against", "Ø": "against",
              "V": "for", "O": "for", "C": "for"}  # fmt: skip
#: The seed's second vote (B's amendment): the other way round.
SECOND_VOTE = {p: ("for" if v == "against" else "against") for p, v in FIRST_VOTE.items()}
#: Final result keys of the seed's style (kbh-udvalg-2010) used here.
KNOWN_KEYS = ("approved", "approved_as_amended", "rejected", "noted")


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def meeting(factories):
    """A meeting of the seed's committee: A 3 seats; B, F, Ø, V, O, C one each."""
    return factories.meeting()


@pytest.fixture
def item(factories, meeting):
    return factories.item(meeting, 14, title="Endeligt udkast til ny integrationspolitik")


@pytest.fixture
def secretary(db, make_user, meeting):
    """The body's secretary, who is the actor of every change (as the views set it)."""
    user = make_user("secretary", bodies=[meeting.body])
    set_actor(db.session, user)
    return user


@pytest.fixture
def admin(db, make_user):
    """An administrator as the actor, for tests that build their own meeting."""
    user = make_user("admin")
    set_actor(db.session, user)
    return user


@pytest.fixture
def new_vote(factories, item, secretary) -> Callable[..., Vote]:
    """new_vote(proposer="C 1") → the open vote on a new amendment on the item."""

    def make(proposer: str = "C 1", kind: MotionKind = MotionKind.AMENDMENT) -> Vote:
        motion = factories.motion(item, kind, proposer=proposer)
        return open_vote(motion, actor=secretary)

    return make


@pytest.fixture
def vote(new_vote) -> Vote:
    return new_vote()


def record(factories, vote: Vote, positions: dict[str, str | None], actor) -> None:
    """Record party positions one click at a time, with the version the page showed;
    every change moves the version by exactly one."""
    for letter, position in positions.items():
        before = vote.version
        set_party_position(
            vote,
            factories.party(letter),
            Position(position) if position else None,
            expected_version=before,
            actor=actor,
        )
        assert vote.version == before + 1, letter


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


def state(db, vote: Vote) -> dict:
    """The vote as stored, read back with plain SQL (not from the session's objects)."""
    row = (
        db.session.execute(sa.select(Vote.__table__).where(Vote.__table__.c.id == vote.id))
        .one()
        ._asdict()
    )
    row.pop("modified_at")
    parties = db.session.execute(
        sa.select(PartyVote.__table__.c.party_id, PartyVote.__table__.c.position)
        .where(PartyVote.__table__.c.vote_id == vote.id)
        .order_by(PartyVote.__table__.c.party_id)
    ).all()
    members = db.session.execute(
        sa.select(MemberVote.__table__.c.member_id, MemberVote.__table__.c.position)
        .where(MemberVote.__table__.c.vote_id == vote.id)
        .order_by(MemberVote.__table__.c.member_id)
    ).all()
    return {
        "vote": row,
        "parties": [tuple(r) for r in parties],
        "members": [tuple(r) for r in members],
    }


def audit_entries(db, since: int = 0, entity: str | None = None) -> list[AuditEntry]:
    query = sa.select(AuditEntry).where(AuditEntry.id > since).order_by(AuditEntry.id)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    return list(db.session.scalars(query))


def last_audit_id(db) -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEntry.id), 0)))


def changed_elsewhere(db, vote: Vote) -> None:
    """Another secretary's change: any write to the vote row moves its version."""
    vote.modified_at = utcnow()
    db.session.flush()


# --------------------------------------------------------------------------- the seed


def test_seed_votes_recorded_party_by_party(db, factories, item, new_vote, secretary):
    first = new_vote("C 1")
    second = new_vote("B 1")
    assert (first.version, second.version) == (1, 1)
    assert first.is_open and second.is_open

    record(factories, first, {p: FIRST_VOTE[p] for p in BODY_ORDER}, secretary)
    record(factories, second, {p: SECOND_VOTE[p] for p in BODY_ORDER}, secretary)
    db.session.commit()

    result = tally(first)
    assert counts(result) == (3, 6, 0)
    assert side(result, "for") == ["V", "O", "C"]
    assert side(result, "against") == ["A", "B", "F", "Ø"]
    assert result.outcome is Outcome.REJECTED
    assert result.unrecorded == [] and result.warnings == []

    result = tally(second)
    assert counts(result) == (6, 3, 0)
    assert side(result, "for") == ["A", "B", "F", "Ø"]
    assert side(result, "against") == ["V", "O", "C"]
    assert result.outcome is Outcome.ADOPTED

    # Seven clicks, seven versions; one row per party, as stored.
    assert state(db, first)["vote"]["version"] == 8
    assert len(state(db, first)["parties"]) == 7
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PartyVote)) == 14


def test_open_vote_twice_returns_the_same_vote(db, factories, item, vote, secretary):
    assert open_vote(vote.motion, actor=secretary) is vote
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1


def test_a_party_can_be_corrected_and_cleared(db, factories, vote, secretary):
    record(factories, vote, FIRST_VOTE, secretary)
    record(factories, vote, {"A": "for", "B": None}, secretary)
    db.session.commit()

    result = tally(vote)
    assert side(result, "for") == ["A", "V", "O", "C"]
    assert side(result, "against") == ["F", "Ø"]
    assert [s.member.name for s in result.unrecorded] == ["B 1"]
    assert factories.party("B").id not in dict(state(db, vote)["parties"])


# --------------------------------------------------------------------------- lock order


#: A statement that writes a row of a vote or of its parts.
VOTE_WRITE = re.compile(r"\s*(INSERT INTO|UPDATE|DELETE FROM) (votes|party_votes|member_votes)\b")


@pytest.fixture
def writes(db) -> Callable[[Callable[[], object]], list[tuple[str, str]]]:
    """writes(change) → the rows `change` wrote to the vote tables, in order: (verb, table)."""

    def capture(change: Callable[[], object]) -> list[tuple[str, str]]:
        with recorded_statements(db) as statements:
            change()
        matches = (VOTE_WRITE.match(statement) for statement in statements)
        return [(m.group(1).split()[0], m.group(2)) for m in matches if m]

    return capture


@pytest.mark.parametrize(
    ("before", "after", "verb"),
    [(None, "for", "INSERT"), ("for", "against", "UPDATE"), ("for", None, "DELETE")],
)
def test_a_position_write_takes_the_vote_row_first(
    db, factories, vote, writes, before, after, verb
):
    """Every write to a vote writes (so locks, on PostgreSQL) the vote's row before its
    parts' rows: two writers to one vote wait for each other in the same order, never
    deadlock, and the second fails on the version."""
    party, member = factories.party("A"), factories.members["A 2"]
    if before is not None:
        set_party_position(vote, party, Position(before), expected_version=None, actor=None)
        set_member_position(vote, member, MemberPosition(before), expected_version=None, actor=None)
    version = vote.version

    on_party = writes(
        lambda: set_party_position(
            vote, party, Position(after) if after else None, expected_version=version, actor=None
        )
    )
    on_member = writes(
        lambda: set_member_position(
            vote,
            member,
            MemberPosition(after) if after else None,
            expected_version=version + 1,
            actor=None,
        )
    )

    assert on_party == [("UPDATE", "votes"), (verb, "party_votes")]
    assert on_member == [("UPDATE", "votes"), (verb, "member_votes")]
    assert vote.version == version + 2


def test_the_rest_takes_the_vote_row_first(db, factories, vote, writes):
    set_party_position(vote, factories.party("A"), Position.FOR, expected_version=None, actor=None)

    written = writes(
        lambda: set_unrecorded_parties(
            vote, Position.AGAINST, expected_version=vote.version, actor=None
        )
    )

    assert written[0] == ("UPDATE", "votes")
    assert written[1:] and set(written[1:]) == {("INSERT", "party_votes")}  # one a row, or one
    assert len(vote.party_votes) == 7


def test_withdrawing_a_motion_takes_the_vote_row_first(db, factories, vote, writes):
    """Deleting a motion deletes its vote's positions and its vote: the vote's row is
    written first here too, so a recording at the same moment cannot deadlock with it."""
    set_party_position(vote, factories.party("A"), Position.FOR, expected_version=None, actor=None)
    set_member_position(
        vote, factories.members["A 2"], MemberPosition.AGAINST, expected_version=None, actor=None
    )

    written = writes(lambda: delete_motion(vote.motion, actor=None))

    assert written[0] == ("UPDATE", "votes")
    assert {("DELETE", "party_votes"), ("DELETE", "member_votes")} <= set(written)
    assert written.index(("DELETE", "votes")) > written.index(("DELETE", "party_votes"))


# --------------------------------------------------------------------------- versions


def test_two_sessions_at_the_same_version_the_second_change_is_refused(db, factories, vote):
    set_actor(db.session, None)
    seen = vote.version  # both secretaries' pages show this version
    set_party_position(vote, factories.party("A"), Position.FOR, expected_version=seen, actor=None)
    db.session.commit()
    saved = state(db, vote)
    audit_before = last_audit_id(db)

    with pytest.raises(VoteConflict) as caught:
        set_party_position(
            vote, factories.party("B"), Position.AGAINST, expected_version=seen, actor=None
        )
    assert caught.value.vote is vote
    assert "ændret et andet sted" in str(caught.value)
    # Nor does the second secretary overwrite the first one's party.
    with pytest.raises(VoteConflict):
        set_party_position(
            vote, factories.party("A"), Position.AGAINST, expected_version=seen, actor=None
        )
    db.session.commit()

    assert state(db, vote) == saved
    assert vote.version == seen + 1
    assert audit_entries(db, audit_before) == []


def test_a_session_holding_an_older_row_cannot_write_it(db, factories, vote, secretary):
    """The database's version check backs the services' one: a second session that loaded
    the vote at version N cannot save over a change made meanwhile."""
    db.session.commit()
    other = Session(db.engine)
    try:
        stale = other.get(Vote, vote.id)
        assert stale.version == 1
        set_party_position(
            vote, factories.party("A"), Position.FOR, expected_version=1, actor=secretary
        )
        db.session.commit()

        stale.is_open = False
        with pytest.raises(StaleDataError):
            other.flush()
        other.rollback()
    finally:
        other.close()
    assert state(db, vote)["vote"]["is_open"] is True
    assert state(db, vote)["vote"]["version"] == 2


#: Every versioned change: (name, setup, change). `setup` brings the vote to where the
#: change makes sense; `change(vote, factories, version)` makes it.
CHANGES = [
    (
        "party",
        None,
        lambda v, f, n: set_party_position(
            v, f.party("A"), Position.FOR, expected_version=n, actor=None
        ),
    ),
    (
        "clear party",
        lambda v, f: set_party_position(
            v, f.party("A"), Position.FOR, expected_version=None, actor=None
        ),
        lambda v, f, n: set_party_position(v, f.party("A"), None, expected_version=n, actor=None),
    ),
    (
        "member",
        None,
        lambda v, f, n: set_member_position(
            v, f.members["A 2"], MemberPosition.AGAINST, expected_version=n, actor=None
        ),
    ),
    (
        "rest",
        None,
        lambda v, f, n: set_unrecorded_parties(v, Position.AGAINST, expected_version=n, actor=None),
    ),
    ("close", None, lambda v, f, n: close_vote(v, expected_version=n, actor=None)),
    (
        "reopen",
        lambda v, f: close_vote(v, expected_version=None, actor=None),
        lambda v, f, n: reopen_vote(v, expected_version=n, actor=None),
    ),
    (
        "without vote",
        None,
        lambda v, f, n: set_without_vote(v, Outcome.ADOPTED, expected_version=n, actor=None),
    ),
    (
        "result sentence",
        None,
        lambda v, f, n: set_result_sentence(v, ResultMode.OMITTED, expected_version=n, actor=None),
    ),
]


@pytest.mark.parametrize(("setup", "change"), [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_every_change_on_a_stale_version_is_refused(db, factories, vote, setup, change):
    if setup:
        setup(vote, factories)
    seen = vote.version
    changed_elsewhere(db, vote)
    db.session.commit()
    saved = state(db, vote)

    with pytest.raises(VoteConflict):
        change(vote, factories, seen)
    db.session.commit()
    assert state(db, vote) == saved


@pytest.mark.parametrize(("setup", "change"), [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_the_same_request_twice_is_accepted_and_the_version_moves_once(
    db, factories, vote, setup, change
):
    if setup:
        setup(vote, factories)
    seen = vote.version
    change(vote, factories, seen)
    db.session.commit()
    after_first = state(db, vote)
    assert after_first["vote"]["version"] == seen + 1
    audit_before = last_audit_id(db)

    # A double click or a retried request: the same change with the version the page showed.
    change(vote, factories, seen)
    db.session.commit()
    assert state(db, vote) == after_first
    assert audit_entries(db, audit_before) == []


def test_expected_version_none_skips_the_check(db, factories, vote):
    changed_elsewhere(db, vote)
    set_party_position(vote, factories.party("A"), Position.FOR, expected_version=None, actor=None)
    assert [pv.position for pv in vote.party_votes] == [Position.FOR]


# --------------------------------------------------------------------------- members


def test_member_exceptions_split_the_party(db, factories, vote, secretary):
    record(factories, vote, FIRST_VOTE, secretary)
    version = vote.version
    set_member_position(
        vote,
        factories.members["A 2"],
        MemberPosition.FOR,
        expected_version=version,
        actor=secretary,
    )
    assert vote.version == version + 1

    result = tally(vote)
    assert counts(result) == (4, 5, 0)
    assert side(result, "for") == ["A 2", "V", "O", "C"]
    assert side(result, "against") == ["A 1", "A 3", "B", "F", "Ø"]
    assert result.outcome is Outcome.REJECTED

    set_member_position(
        vote,
        factories.members["A 3"],
        MemberPosition.NOT_VOTING,
        expected_version=vote.version,
        actor=secretary,
    )
    result = tally(vote)
    assert counts(result) == (4, 4, 0)
    assert [s.member.name for s in result.not_voting] == ["A 3"]
    assert result.outcome is Outcome.REJECTED  # a tie is not adopted

    # None: A 2 follows the party again.
    set_member_position(
        vote, factories.members["A 2"], None, expected_version=vote.version, actor=secretary
    )
    db.session.commit()
    result = tally(vote)
    assert counts(result) == (3, 5, 0)
    # A's voting members (A 1, A 2) are on one side again: the whole party, by letter.
    assert side(result, "against") == ["A", "B", "F", "Ø"]
    assert [mv.member.name for mv in vote.member_votes] == ["A 3"]
    assert len(state(db, vote)["members"]) == 1


def test_independent_votes_as_a_member(db, factories, admin):
    meeting = factories.meeting({"A": 3, "B": 1, "F": 1, "Ø": 1, "V": 1, "O": 1, "C": 1, None: 1})
    item = factories.item(meeting)
    vote = open_vote(factories.motion(item, proposer="C 1"), actor=admin)
    record(factories, vote, FIRST_VOTE, admin)

    result = tally(vote)
    assert [s.member.name for s in result.unrecorded] == ["Løsgænger 1"]
    assert any("Løsgænger 1" in w for w in result.warnings)

    set_member_position(
        vote,
        factories.members["Løsgænger 1"],
        MemberPosition.ABSTAIN,
        expected_version=vote.version,
        actor=admin,
    )
    result = tally(vote)
    assert counts(result) == (3, 6, 1)
    assert side(result, "abstain") == ["Løsgænger 1"]
    [entry] = result.sides[Position.ABSTAIN].entries
    assert entry.party is None
    assert result.unrecorded == [] and result.warnings == []


@pytest.mark.parametrize("how", ["absent from the meeting", "inhabil for the item"])
def test_member_not_present_is_refused(db, factories, admin, how):
    if how == "absent from the meeting":
        item = factories.item(factories.meeting(absent=("A 1",)))
    else:
        item = factories.item(factories.meeting())
        factories.absent_for_item(item, "A 1", ItemPresence.DISQUALIFIED)
    vote = open_vote(factories.motion(item, proposer="C 1"), actor=admin)
    db.session.commit()
    saved = state(db, vote)

    with pytest.raises(VoteError, match="A 1 er ikke til stede ved punktet"):
        set_member_position(
            vote,
            factories.members["A 1"],
            MemberPosition.FOR,
            expected_version=vote.version,
            actor=admin,
        )
    db.session.rollback()
    assert state(db, vote) == saved


# --------------------------------------------------------------------------- the rest


def test_rest_gives_every_unrecorded_present_party_the_position(db, factories, admin):
    item = factories.item(factories.meeting(absent=("B 1",)))
    vote = open_vote(factories.motion(item, proposer="C 1"), actor=admin)
    record(factories, vote, {"V": "for", "O": "for", "C": "for"}, admin)
    version = vote.version

    set_unrecorded_parties(vote, Position.AGAINST, expected_version=version, actor=admin)
    db.session.commit()
    assert vote.version == version + 1

    positions = {pv.party.letter: pv.position.value for pv in vote.party_votes}
    # B has nobody present and is left out; the parties already recorded keep theirs.
    assert positions == {"V": "for", "O": "for", "C": "for",
                         "A": "against", "F": "against", "Ø": "against"}  # fmt: skip
    result = tally(vote)
    assert counts(result) == (3, 5, 0)
    assert result.unrecorded == [] and result.warnings == []


def test_rest_leaves_independents_alone(db, factories, admin):
    meeting = factories.meeting({"A": 1, "V": 1, None: 1}, order="A V")
    vote = open_vote(factories.motion(factories.item(meeting), proposer="A 1"), actor=admin)
    set_unrecorded_parties(vote, Position.FOR, expected_version=vote.version, actor=admin)
    result = tally(vote)
    assert side(result, "for") == ["A", "V"]
    assert [s.member.name for s in result.unrecorded] == ["Løsgænger 1"]


# --------------------------------------------------------------------------- closing


def test_closed_vote_refuses_changes_until_reopened(db, factories, vote, secretary):
    record(factories, vote, FIRST_VOTE, secretary)
    close_vote(vote, expected_version=vote.version, actor=secretary)
    db.session.commit()
    assert vote.is_open is False
    saved = state(db, vote)

    refused = [
        lambda: set_party_position(
            vote, factories.party("A"), Position.FOR, expected_version=vote.version, actor=secretary
        ),
        lambda: set_party_position(
            vote, factories.party("A"), None, expected_version=vote.version, actor=secretary
        ),
        lambda: set_member_position(
            vote,
            factories.members["A 2"],
            MemberPosition.FOR,
            expected_version=vote.version,
            actor=secretary,
        ),
        lambda: set_without_vote(
            vote, Outcome.ADOPTED, expected_version=vote.version, actor=secretary
        ),
        lambda: set_result_sentence(
            vote,
            ResultMode.CUSTOM,
            "Forslaget faldt.",
            expected_version=vote.version,
            actor=secretary,
        ),
    ]
    for change in refused:
        with pytest.raises(VoteError, match="Afstemningen er lukket"):
            change()
        db.session.rollback()
        assert state(db, vote) == saved

    # Asking for what is already recorded is still fine on a closed vote.
    set_party_position(
        vote, factories.party("A"), Position.AGAINST, expected_version=vote.version, actor=secretary
    )
    close_vote(vote, expected_version=vote.version, actor=secretary)
    assert state(db, vote) == saved

    reopen_vote(vote, expected_version=vote.version, actor=secretary)
    set_party_position(
        vote, factories.party("A"), Position.FOR, expected_version=vote.version, actor=secretary
    )
    db.session.commit()
    assert vote.is_open is True
    assert counts(tally(vote)) == (6, 3, 0)
    assert state(db, vote)["vote"]["version"] == saved["vote"]["version"] + 2


def test_rest_on_a_closed_vote_is_refused(db, factories, vote, secretary):
    record(factories, vote, {"V": "for"}, secretary)
    close_vote(vote, expected_version=vote.version, actor=secretary)
    with pytest.raises(VoteError, match="Afstemningen er lukket"):
        set_unrecorded_parties(
            vote, Position.AGAINST, expected_version=vote.version, actor=secretary
        )


# --------------------------------------------------------------------------- without a vote


def test_without_vote(db, factories, vote, secretary):
    set_without_vote(vote, Outcome.ADOPTED, expected_version=vote.version, actor=secretary)
    db.session.commit()
    assert (vote.is_without_vote, vote.outcome_without_vote) == (True, Outcome.ADOPTED)
    result = tally(vote)
    assert result.outcome is Outcome.ADOPTED
    assert result.is_without_vote
    # Nobody's position is missing when there was no vote.
    assert not any("Ingen stemme registreret" in w for w in result.warnings)

    set_without_vote(vote, Outcome.REJECTED, expected_version=vote.version, actor=secretary)
    assert tally(vote).outcome is Outcome.REJECTED

    # Positions recorded meanwhile do not decide it.
    record(factories, vote, {p: "for" for p in BODY_ORDER}, secretary)
    assert tally(vote).outcome is Outcome.REJECTED

    # None: back to a counted vote.
    set_without_vote(vote, None, expected_version=vote.version, actor=secretary)
    db.session.commit()
    assert (vote.is_without_vote, vote.outcome_without_vote) == (False, None)
    assert tally(vote).outcome is Outcome.ADOPTED


# --------------------------------------------------------------------------- result sentence


def test_result_sentence_modes(db, factories, vote, secretary):
    assert (vote.result_mode, vote.result_text) == (ResultMode.DEFAULT, "")

    for text in ("", "   \n "):
        with pytest.raises(VoteError, match="Skriv den sætning"):
            set_result_sentence(
                vote, ResultMode.CUSTOM, text, expected_version=vote.version, actor=secretary
            )
    with pytest.raises(VoteError, match="for lang"):
        set_result_sentence(
            vote, ResultMode.CUSTOM, "x" * 2001, expected_version=vote.version, actor=secretary
        )
    assert (vote.result_mode, vote.result_text, vote.version) == (ResultMode.DEFAULT, "", 1)

    set_result_sentence(
        vote,
        ResultMode.CUSTOM,
        "  Forslaget faldt.  ",
        expected_version=vote.version,
        actor=secretary,
    )
    assert (vote.result_mode, vote.result_text) == (ResultMode.CUSTOM, "Forslaget faldt.")

    # Omitted (as after the seed's adopted amendment) keeps no text.
    set_result_sentence(
        vote, ResultMode.OMITTED, "ignored", expected_version=vote.version, actor=secretary
    )
    assert (vote.result_mode, vote.result_text) == (ResultMode.OMITTED, "")

    set_result_sentence(vote, ResultMode.DEFAULT, expected_version=vote.version, actor=secretary)
    db.session.commit()
    assert state(db, vote)["vote"]["result_mode"] == "default"
    assert state(db, vote)["vote"]["result_text"] == ""
    assert vote.version == 4


# --------------------------------------------------------------------------- decision


def test_decision_with_a_standard_sentence_or_own_text(db, factories, item, secretary):
    decision = set_decision(item, "approved_as_amended", "", actor=secretary, known_keys=KNOWN_KEYS)
    db.session.commit()
    assert item.decision is decision
    assert (decision.result_key, decision.result_text) == ("approved_as_amended", "")

    set_decision(
        item, "", "  Udvalget anbefalede indstillingen.  ", actor=secretary, known_keys=KNOWN_KEYS
    )
    db.session.commit()
    assert (item.decision.result_key, item.decision.result_text) == (
        "",
        "Udvalget anbefalede indstillingen.",
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 1


def test_decision_with_an_unknown_key_is_refused(db, factories, item, secretary):
    set_decision(item, "approved", "", actor=secretary, known_keys=KNOWN_KEYS)
    db.session.commit()

    with pytest.raises(VoteError, match="Ukendt standardsætning"):
        set_decision(item, "approved_by_acclamation", "", actor=secretary, known_keys=KNOWN_KEYS)
    with pytest.raises(VoteError, match="for lang"):
        set_decision(item, "", "x" * 5001, actor=secretary, known_keys=KNOWN_KEYS)
    db.session.rollback()
    assert db.session.scalars(sa.select(Decision.result_key)).all() == ["approved"]


# --------------------------------------------------------------------------- the lock


@pytest.fixture
def recorded(db, factories, item, vote, secretary) -> Vote:
    """A vote with the seed's first vote recorded, a split, a decision, and a second motion
    without a vote; committed."""
    record(factories, vote, FIRST_VOTE, secretary)
    set_member_position(
        vote,
        factories.members["A 2"],
        MemberPosition.ABSTAIN,
        expected_version=vote.version,
        actor=secretary,
    )
    factories.motion(item, proposer="B 1")
    set_decision(item, "approved", "", actor=secretary, known_keys=KNOWN_KEYS)
    db.session.commit()
    return vote


LOCKED_CHANGES = {
    "open vote": lambda v, f: open_vote(v.motion.item.motions[1], actor=None),
    "party": lambda v, f: set_party_position(
        v, f.party("A"), Position.FOR, expected_version=v.version, actor=None
    ),
    "clear party": lambda v, f: set_party_position(
        v, f.party("A"), None, expected_version=v.version, actor=None
    ),
    "member": lambda v, f: set_member_position(
        v, f.members["A 2"], MemberPosition.FOR, expected_version=v.version, actor=None
    ),
    "member follows party": lambda v, f: set_member_position(
        v, f.members["A 2"], None, expected_version=v.version, actor=None
    ),
    "close": lambda v, f: close_vote(v, expected_version=v.version, actor=None),
    "without vote": lambda v, f: set_without_vote(
        v, Outcome.ADOPTED, expected_version=v.version, actor=None
    ),
    "result sentence": lambda v, f: set_result_sentence(
        v, ResultMode.OMITTED, expected_version=v.version, actor=None
    ),
    "decision": lambda v, f: set_decision(
        v.motion.item, "rejected", "", actor=None, known_keys=KNOWN_KEYS
    ),
}


@pytest.mark.parametrize("locked_state", [MeetingState.APPROVED, MeetingState.PUBLISHED])
@pytest.mark.parametrize("name", list(LOCKED_CHANGES))
def test_everything_is_refused_when_the_minutes_are_approved(
    db, factories, meeting, recorded, locked_state, name
):
    meeting.state = locked_state
    db.session.commit()
    saved = state(db, recorded)
    audit_before = last_audit_id(db)

    with pytest.raises(RecordLocked, match="er godkendt og kan ikke ændres"):
        LOCKED_CHANGES[name](recorded, factories)
    db.session.rollback()

    assert state(db, recorded) == saved
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1
    assert db.session.scalars(sa.select(Decision.result_key)).all() == ["approved"]
    assert audit_entries(db, audit_before) == []


@pytest.mark.parametrize("locked_state", [MeetingState.APPROVED, MeetingState.PUBLISHED])
def test_rest_and_reopen_are_refused_when_the_minutes_are_approved(
    db, factories, meeting, secretary, locked_state
):
    item = factories.item(meeting)
    partial = open_vote(factories.motion(item, proposer="C 1"), actor=secretary)
    record(factories, partial, {"V": "for"}, secretary)
    closed = open_vote(factories.motion(item, proposer="B 1"), actor=secretary)
    close_vote(closed, expected_version=closed.version, actor=secretary)
    meeting.state = locked_state
    db.session.commit()
    saved = (state(db, partial), state(db, closed))

    with pytest.raises(RecordLocked):
        set_unrecorded_parties(
            partial, Position.AGAINST, expected_version=partial.version, actor=secretary
        )
    db.session.rollback()
    with pytest.raises(RecordLocked):
        reopen_vote(closed, expected_version=closed.version, actor=secretary)
    db.session.rollback()
    assert (state(db, partial), state(db, closed)) == saved


# --------------------------------------------------------------------------- audit trail


def test_party_change_writes_an_update_entry_with_before_after_and_actor(
    db, factories, meeting, item, vote, secretary
):
    set_party_position(
        vote, factories.party("V"), Position.FOR, expected_version=vote.version, actor=secretary
    )
    db.session.commit()
    party_vote = vote.party_votes[0]

    [created] = audit_entries(db, entity="party_votes")
    assert created.action is AuditAction.CREATE
    assert created.before is None
    assert created.after == {
        "id": party_vote.id,
        "vote_id": vote.id,
        "party_id": factories.party("V").id,
        "position": "for",
    }
    assert (created.actor_id, created.actor_label) == (secretary.id, secretary.email)
    assert (created.meeting_id, created.item_id) == (meeting.id, item.id)

    since = last_audit_id(db)
    set_party_position(
        vote, factories.party("V"), Position.AGAINST, expected_version=vote.version, actor=secretary
    )
    db.session.commit()

    [entry] = audit_entries(db, since)
    assert entry.action is AuditAction.UPDATE
    assert entry.entity == "party_votes"
    assert entry.entity_id == party_vote.id
    assert entry.before == {"position": "for"}
    assert entry.after == {"position": "against"}
    assert entry.item_id == item.id
    assert entry.meeting_id == meeting.id
    assert entry.actor_id == secretary.id
    assert entry.actor_label == secretary.email
    # The vote's version and timestamp moved, but they are bookkeeping, not record content.
    assert audit_entries(db, since, "votes") == []


def test_clearing_a_position_writes_a_delete_entry(db, factories, item, vote, secretary):
    record(factories, vote, {"V": "for"}, secretary)
    set_member_position(
        vote,
        factories.members["A 2"],
        MemberPosition.AGAINST,
        expected_version=vote.version,
        actor=secretary,
    )
    db.session.commit()
    party_vote, member_vote = vote.party_votes[0], vote.member_votes[0]
    since = last_audit_id(db)

    set_party_position(
        vote, factories.party("V"), None, expected_version=vote.version, actor=secretary
    )
    set_member_position(
        vote, factories.members["A 2"], None, expected_version=vote.version, actor=secretary
    )
    db.session.commit()

    assert vote.party_votes == [] and vote.member_votes == []
    entries = audit_entries(db, since)
    assert [(e.action, e.entity, e.entity_id) for e in entries] == [
        (AuditAction.DELETE, "party_votes", party_vote.id),
        (AuditAction.DELETE, "member_votes", member_vote.id),
    ]
    assert entries[0].before["position"] == "for"
    assert entries[1].before["position"] == "against"
    assert all(e.after is None for e in entries)
    assert all(e.item_id == item.id and e.actor_id == secretary.id for e in entries)


def test_vote_changes_are_audited(db, factories, item, vote, secretary):
    since = last_audit_id(db)
    set_without_vote(vote, Outcome.REJECTED, expected_version=vote.version, actor=secretary)
    set_result_sentence(
        vote, ResultMode.CUSTOM, "Forslaget faldt.", expected_version=vote.version, actor=secretary
    )
    close_vote(vote, expected_version=vote.version, actor=secretary)
    db.session.commit()

    entries = audit_entries(db, since, "votes")
    assert [(e.action, e.before, e.after) for e in entries] == [
        (
            AuditAction.UPDATE,
            {"is_without_vote": False, "outcome_without_vote": None},
            {"is_without_vote": True, "outcome_without_vote": "rejected"},
        ),
        (
            AuditAction.UPDATE,
            {"result_mode": "default", "result_text": ""},
            {"result_mode": "custom", "result_text": "Forslaget faldt."},
        ),
        (AuditAction.UPDATE, {"is_open": True}, {"is_open": False}),
    ]
    assert all(e.entity_id == vote.id and e.item_id == item.id for e in entries)
    assert all(e.actor_label == secretary.email for e in entries)


def test_member_exception_and_decision_are_audited(db, factories, item, vote, secretary):
    since = last_audit_id(db)
    set_member_position(
        vote,
        factories.members["A 2"],
        MemberPosition.NOT_VOTING,
        expected_version=vote.version,
        actor=secretary,
    )
    set_decision(item, "approved", "", actor=secretary, known_keys=KNOWN_KEYS)
    db.session.commit()
    set_decision(item, "approved_as_amended", "", actor=secretary, known_keys=KNOWN_KEYS)
    db.session.commit()

    entries = audit_entries(db, since)
    assert [(e.action, e.entity) for e in entries] == [
        (AuditAction.CREATE, "member_votes"),
        (AuditAction.CREATE, "decisions"),
        (AuditAction.UPDATE, "decisions"),
    ]
    assert entries[0].after["position"] == "not_voting"
    assert entries[0].after["member_id"] == factories.members["A 2"].id
    assert entries[2].before == {"result_key": "approved"}
    assert entries[2].after == {"result_key": "approved_as_amended"}
    assert all(e.item_id == item.id and e.actor_id == secretary.id for e in entries)


def test_changes_without_an_actor_are_the_command_line(db, factories, vote):
    set_actor(db.session, None)
    since = last_audit_id(db)
    set_party_position(
        vote, factories.party("A"), Position.FOR, expected_version=vote.version, actor=None
    )
    db.session.commit()
    [entry] = audit_entries(db, since)
    assert (entry.actor_id, entry.actor_label) == (None, "kommandolinje")
