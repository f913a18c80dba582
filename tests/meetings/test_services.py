"""Who sits in a body and who is present for an item: party order, seats on a day,
attendance with the item's exceptions, and the body's size."""

from __future__ import annotations

from datetime import date

from meetings.models import ItemPresence, Seat, SeatRole
from meetings.services import (
    body_size,
    party_rank,
    present_for_item,
    present_for_meeting,
    seated_members,
    seats_on,
    sort_parties,
)

MEETING_DAY = date(2010, 12, 6)


def names(members: dict) -> list[str]:
    return sorted(s.member.name for s in members.values())


# --- party order ------------------------------------------------------------------------


def test_party_rank_maps_party_ids_to_the_body_order(factories):
    body = factories.body(order="A B F Ø V O C")
    rank = party_rank(body)

    by_letter = {factories.party(letter).id: letter for letter in "ABFØVOC"}
    assert {by_letter[pid]: place for pid, place in rank.items()} == {
        "A": 0, "B": 1, "F": 2, "Ø": 3, "V": 4, "O": 5, "C": 6,
    }  # fmt: skip


def test_sort_parties_follows_the_body_order_not_the_alphabet(factories):
    body = factories.body(order="A B F Ø V O C")
    parties = [factories.party(letter) for letter in "CABOVØF"]

    assert [p.letter for p in sort_parties(body, parties)] == list("ABFØVOC")


def test_sort_parties_puts_unknown_parties_after_alphabetically(factories):
    body = factories.body(order="V A")
    parties = [factories.party(letter) for letter in ("Å", "A", "I", "V", "B")]

    assert [p.letter for p in sort_parties(body, parties)] == ["V", "A", "B", "I", "Å"]


def test_sort_parties_with_an_empty_body_order_is_alphabetical(factories):
    body = factories.body(order="")
    parties = [factories.party(letter) for letter in ("O", "C", "A")]

    assert party_rank(body) == {}
    assert [p.letter for p in sort_parties(body, parties)] == ["A", "C", "O"]


def test_sort_parties_of_two_bodies_differ(factories):
    first = factories.body("Første udvalg", order="A V")
    second = factories.body("Andet udvalg", order="V A")
    parties = [factories.party("A"), factories.party("V")]

    assert [p.letter for p in sort_parties(first, parties)] == ["A", "V"]
    assert [p.letter for p in sort_parties(second, parties)] == ["V", "A"]


def test_ordered_parties_is_the_body_order(factories):
    body = factories.body(order="A B F Ø V O C")
    assert [p.letter for p in body.ordered_parties] == list("ABFØVOC")


# --- seats on a day ---------------------------------------------------------------------


def test_seated_members_on_a_day_with_party_role_and_label(factories):
    body = factories.body()
    factories.member(body, "Formand", "A", role=SeatRole.CHAIR)
    factories.member(body, "Løsgænger", None)
    factories.member(body, "Stedfortræder", "V", role=SeatRole.SUBSTITUTE)
    factories.member(body, "Gået", "O", ends_on=date(2010, 11, 30))
    factories.member(body, "Kommende", "C", starts_on=date(2010, 12, 7))

    seated = seated_members(body, MEETING_DAY)

    assert names(seated) == ["Formand", "Løsgænger", "Stedfortræder"]
    chair = seated[factories.members["Formand"].id]
    assert chair.party.letter == "A"
    assert chair.role is SeatRole.CHAIR
    assert chair.label == "Formand (A)"
    assert not chair.is_independent
    independent = seated[factories.members["Løsgænger"].id]
    assert independent.party is None
    assert independent.is_independent
    assert independent.label == "Løsgænger"
    assert seated[factories.members["Stedfortræder"].id].role is SeatRole.SUBSTITUTE


def test_seats_are_held_on_their_first_and_last_day(factories):
    body = factories.body()
    factories.member(body, "Kort", "A", starts_on=date(2010, 12, 6), ends_on=date(2010, 12, 6))

    assert names(seated_members(body, date(2010, 12, 5))) == []
    assert names(seated_members(body, date(2010, 12, 6))) == ["Kort"]
    assert names(seated_members(body, date(2010, 12, 7))) == []
    assert len(seats_on(body, date(2010, 12, 6))) == 1


def test_member_changing_party_is_seated_with_the_seat_of_the_day(factories):
    body = factories.body()
    member = factories.member(body, "Skifter", "A", ends_on=date(2010, 6, 30))
    member.seats.append(Seat(body=body, party=None, starts_on=date(2010, 7, 1)))
    factories.session.flush()

    assert seated_members(body, date(2010, 3, 1))[member.id].party.letter == "A"
    assert seated_members(body, MEETING_DAY)[member.id].is_independent


def test_seated_members_only_of_the_body(factories):
    body = factories.body("Første udvalg")
    other = factories.body("Andet udvalg")
    factories.member(body, "Her", "A")
    factories.member(other, "Der", "A")

    assert names(seated_members(body, MEETING_DAY)) == ["Her"]
    assert names(seated_members(other, MEETING_DAY)) == ["Der"]


# --- body size ----------------------------------------------------------------------------


def test_body_size_counts_regular_seats_held_on_the_day(factories):
    body = factories.body()
    factories.member(body, "Formand", "A", role=SeatRole.CHAIR)
    factories.member(body, "Næstformand", "V", role=SeatRole.VICE_CHAIR)
    factories.member(body, "Medlem", "O")
    factories.member(body, "Løsgænger", None)
    factories.member(body, "Stedfortræder", "A", role=SeatRole.SUBSTITUTE)
    factories.member(body, "Gået", "C", ends_on=date(2010, 11, 30))
    factories.member(body, "Kommende", "C", starts_on=date(2011, 1, 1))

    assert body_size(body, MEETING_DAY) == 4
    assert body_size(body, date(2010, 11, 30)) == 5
    assert body_size(body, date(2011, 1, 1)) == 5


def test_body_size_of_the_seed_committee_is_nine(factories):
    meeting = factories.meeting()
    assert body_size(meeting.body, meeting.date) == 9


def test_body_size_of_an_empty_body_is_zero(factories):
    assert body_size(factories.body(), MEETING_DAY) == 0


# --- presence -----------------------------------------------------------------------------


def test_present_for_meeting_follows_the_attendance(factories):
    meeting = factories.meeting({"A": 2, "V": 1}, absent=("A 2",))
    assert names(present_for_meeting(meeting)) == ["A 1", "V 1"]


def test_present_for_item_is_the_meeting_attendance_without_exceptions(factories):
    meeting = factories.meeting(absent=("B 1",))
    item = factories.item(meeting)

    present = present_for_item(item)

    assert names(present) == ["A 1", "A 2", "A 3", "C 1", "F 1", "O 1", "V 1", "Ø 1"]
    a1 = present[factories.members["A 1"].id]
    assert a1.party.letter == "A"
    assert a1.label == "A 1 (A)"


def test_present_for_item_applies_the_item_exceptions(factories):
    meeting = factories.meeting({"A": 3, "V": 2}, absent=("V 2",))
    item = factories.item(meeting)
    factories.absent_for_item(item, "A 1")  # left
    factories.absent_for_item(item, "A 2", ItemPresence.DISQUALIFIED)  # inhabil
    factories.absent_for_item(item, "V 2", ItemPresence.PRESENT)  # arrived late

    assert names(present_for_item(item)) == ["A 3", "V 1", "V 2"]
    # The meeting's attendance itself is unchanged.
    assert names(present_for_meeting(meeting)) == ["A 1", "A 2", "A 3", "V 1"]


def test_item_exceptions_apply_to_their_item_only(factories):
    meeting = factories.meeting({"A": 2}, absent=("A 2",))
    first = factories.item(meeting)
    second = factories.item(meeting)
    factories.absent_for_item(first, "A 1", ItemPresence.DISQUALIFIED)
    factories.absent_for_item(second, "A 2", ItemPresence.PRESENT)

    assert names(present_for_item(first)) == []
    assert names(present_for_item(second)) == ["A 1", "A 2"]


def test_present_for_item_ignores_members_without_a_seat_that_day(factories):
    body = factories.body()
    factories.member(body, "Gået", "A", ends_on=date(2010, 11, 30))
    meeting = factories.meeting({"V": 1}, body=body)
    item = factories.item(meeting)
    # Recorded as attending and as arriving for the item, but no longer seated.
    factories.absent_for_item(item, "Gået", ItemPresence.PRESENT)

    assert names(present_for_meeting(meeting)) == ["V 1"]
    assert names(present_for_item(item)) == ["V 1"]


def test_present_substitute_is_present_for_the_item(factories):
    body = factories.body()
    factories.member(body, "Stedfortræder", "A", role=SeatRole.SUBSTITUTE)
    meeting = factories.meeting({"A": 2}, body=body, absent=("A 2",))

    present = present_for_item(factories.item(meeting))

    assert names(present) == ["A 1", "Stedfortræder"]
    assert present[factories.members["Stedfortræder"].id].role is SeatRole.SUBSTITUTE
