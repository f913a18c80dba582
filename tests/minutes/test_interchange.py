"""The meeting JSON format (`minutes/interchange.py`): export and import round trips that
lose nothing, and an all-or-nothing import that names the field and the reason of every
problem."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from reportlab.pdfgen import canvas

from meetings.models import (
    AgendaItem,
    Attachment,
    Body,
    Meeting,
    MeetingAttendance,
    Member,
    Party,
    Seat,
)
from meetings.storage import attachment_path
from minutes.interchange import (
    MeetingImportError,
    dumps,
    export_meeting,
    import_meeting,
    validate,
)
from minutes.models import ProtocolRemark
from minutes.render import render_minutes
from motions.models import Motion
from protokol.cli import DEMO_FILE, demo_data, load_demo
from votes.models import MemberVote, PartyVote, Vote

DEMO_PATH = Path(__file__).resolve().parents[2] / "protokol" / "demo" / DEMO_FILE
COUNTED = (
    Body,
    Party,
    Member,
    Seat,
    Meeting,
    MeetingAttendance,
    AgendaItem,
    Attachment,
    Motion,
    Vote,
    PartyVote,
    MemberVote,
    ProtocolRemark,
)


# --------------------------------------------------------------------------- helpers


def row_counts(db) -> dict[str, int]:
    """Rows per table, as the session sees them (pending objects are flushed first)."""
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in COUNTED
    }


def empty_database(db) -> None:
    """Delete every row, so that the next import starts from an empty database."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    db.session.expunge_all()


def attachments_dir(app) -> str:
    return app.config["ATTACHMENTS_DIR"]


def do_import(app, data: dict[str, Any]) -> Meeting:
    return import_meeting(data, attachments_dir=attachments_dir(app))


def do_export(app, meeting: Meeting, **kwargs) -> dict[str, Any]:
    return export_meeting(meeting, attachments_dir=attachments_dir(app), **kwargs)


def small_pdf(text: str = "Bilag til prøve") -> bytes:
    """A small but real one-page PDF."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def file_entry(data: bytes) -> dict[str, Any]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "content_base64": base64.b64encode(data).decode("ascii"),
    }


def rich_meeting_data(pdf: bytes) -> dict[str, Any]:
    """The demo meeting plus a member who left C to sit as løsgænger, and an item 15 with
    an attached file, item attendance (inhabil, absent), a split vote with member
    exceptions, motions decided without a vote, a custom and an omitted result sentence,
    an own final sentence, a joint, a personal and a submitted remark; and a closed
    item 16."""
    data = demo_data()
    data["members"].append(
        {
            "ref": "m10",
            "name": "Ivan Demo-Iversen",
            "seats": [
                {
                    "party": "C",
                    "role": "medlem",
                    "starts_on": "2010-01-01",
                    "ends_on": "2010-06-30",
                },
                {"party": None, "role": "medlem", "starts_on": "2010-07-01", "ends_on": None},
            ],
        }
    )
    meeting = data["meeting"]
    meeting["ends_at"] = "2010-12-06T18:05:00"
    meeting["attendance"].append({"member": "m10", "is_present": True, "note": "ankom kl. 16.10"})
    meeting["items"].append(
        {
            "number": 15,
            "title": "Puljen til foreningsliv 2011",
            "case_number": "2010-200001",
            "is_closed": False,
            "administration": "Beskæftigelses- og Integrationsforvaltningen",
            "summary": "Udvalget skal fordele puljen.\n\nAnden linje af resuméet.",
            "recommendation": [
                {
                    "lead_in": "Forvaltningen indstiller,",
                    "text": "at puljen fordeles som foreslået",
                },
                {"lead_in": "Forvaltningen indstiller,", "text": "at forvaltningen bemyndiges"},
            ],
            "sections": [
                {
                    "heading": "Økonomi",
                    "body": "| år | beløb |\n| --- | --- |\n| 2011 | 1.000 kr. |",
                },
            ],
            "attachments": [
                {
                    "number": 1,
                    "title": "Fordelingsnotat",
                    "file_name": "1 - Fordelingsnotat.pdf",
                    "file": file_entry(pdf),
                },
                {"number": 2, "title": "Ansøgninger", "file_name": "", "file": None},
            ],
            "signatories": ["Jens Demo-Hansen", "Lise Demo-Jensen"],
            "attendance": [
                {"member": "m3", "presence": "inhabil"},
                {"member": "m8", "presence": "absent"},
            ],
            "motions": [
                {
                    "kind": "recommendation",
                    "proposer": None,
                    "text": "",
                    "vote": {
                        "is_open": False,
                        "without_vote": None,
                        "parties": {
                            "A": "for",
                            "B": "for",
                            "F": "against",
                            "Ø": "against",
                            "V": "for",
                            "O": "for",
                            "C": "abstain",
                        },
                        "members": {"m2": "against", "m10": "for"},
                        "result": {
                            "mode": "custom",
                            "text": "Indstillingen blev vedtaget med et snævert flertal.",
                        },
                    },
                },
                {
                    "kind": "addition",
                    "proposer": {"party": "Ø"},
                    "text": "Puljen forhøjes med 100.000 kr.",
                    "vote": {
                        "is_open": False,
                        "without_vote": "rejected",
                        "parties": {},
                        "members": {},
                        "result": {"mode": "default", "text": ""},
                    },
                },
                {
                    "kind": "postponement",
                    "proposer": {"member": "m7", "party": "V"},
                    "text": "Sagen udsættes til næste møde.",
                    "vote": {
                        "is_open": False,
                        "without_vote": None,
                        "parties": {"A": "against", "V": "for"},
                        "members": {"m10": "not_voting"},
                        "result": {"mode": "omitted", "text": ""},
                    },
                },
                {
                    "kind": "procedural",
                    "proposer": {"name": "Formanden"},
                    "text": "Punktet behandles før punkt 14.",
                    "vote": None,
                },
            ],
            "decision": {"result_key": "", "result_text": "Puljen blev fordelt som indstillet."},
            "remarks": [
                {
                    "kind": "joint",
                    "party": "A",
                    "member": None,
                    "co_parties": [
                        {"party": "F", "is_confirmed": True},
                        {"party": "Ø", "is_confirmed": False},
                    ],
                    "status": "accepted",
                    "text": "Fælles bemærkning.\n\nAnden del.",
                },
                {
                    "kind": "personal",
                    "party": None,
                    "member": "m10",
                    "co_parties": [],
                    "status": "accepted",
                    "text": "Jeg stemte for.",
                },
                {
                    "kind": "party",
                    "party": "O",
                    "member": "m8",
                    "co_parties": [],
                    "status": "submitted",
                    "text": "Endnu ikke godkendt.",
                },
            ],
        }
    )
    meeting["items"].append(
        {
            "number": 16,
            "title": "Personalesag",
            "case_number": "2010-200002",
            "is_closed": True,
            "administration": "",
            "summary": "Fortroligt resumé.",
            "recommendation": [],
            "sections": [],
            "attachments": [],
            "signatories": [],
            "attendance": [],
            "motions": [],
            "decision": {"result_key": "approved", "result_text": ""},
            "remarks": [],
        }
    )
    return data


def assert_round_trip(app, db, data: dict[str, Any]) -> dict[str, Any]:
    """Import `data` and export it as A; into an empty database, import A and export it as
    B; A and B must be equal, as data and as text. Returns A."""
    a = do_export(app, do_import(app, data))
    text_a = dumps(a)
    empty_database(db)
    shutil.rmtree(attachments_dir(app), ignore_errors=True)
    assert sum(row_counts(db).values()) == 0
    meeting = do_import(app, a)
    db.session.commit()
    b = do_export(app, meeting)
    assert b == a
    assert dumps(b) == text_a
    return a


def import_errors(app, db, data: Any) -> list[tuple[str, str]]:
    """Import `data`, which must fail; return its errors after checking that nothing was
    added to the database."""
    before = row_counts(db)
    with pytest.raises(MeetingImportError) as info:
        do_import(app, data)
    assert not db.session.new
    assert row_counts(db) == before
    errors = info.value.errors
    assert errors, "an import error must name its problems"
    for pointer, reason in errors:
        assert (pointer == "" or pointer.startswith("/")) and reason, (pointer, reason)
        # The message names each problem too ("/" for the whole document).
        assert f"{pointer or '/'}: {reason}" in str(info.value)
    return errors


# --------------------------------------------------------------------------- round trips


def test_demo_export_is_the_demo_file(app, db):
    meeting_id, created = load_demo()
    assert created
    exported = do_export(app, db.session.get(Meeting, meeting_id))
    assert exported == demo_data()
    assert dumps(exported) == DEMO_PATH.read_text(encoding="utf-8")
    assert validate(exported) == []


def test_demo_round_trip_into_an_empty_database(app, db):
    meeting_id, _ = load_demo()
    a = do_export(app, db.session.get(Meeting, meeting_id))
    text_a = dumps(a)

    empty_database(db)
    assert sum(row_counts(db).values()) == 0
    meeting = do_import(app, a)
    db.session.commit()
    assert meeting.id is not None
    b = do_export(app, db.session.get(Meeting, meeting.id))

    assert b == a
    assert dumps(b) == text_a
    counts = row_counts(db)
    assert (counts["Meeting"], counts["Party"], counts["Member"], counts["Seat"]) == (1, 7, 9, 9)


def test_importing_the_same_meeting_twice_is_refused(app, db):
    meeting_id, _ = load_demo()
    a = do_export(app, db.session.get(Meeting, meeting_id))
    errors = import_errors(app, db, a)
    assert errors == [
        (
            "/meeting/starts_at",
            f"Beskæftigelses- og Integrationsudvalget already has a meeting at 2010-12-06 15:30 "
            f"(id {meeting_id})",
        )
    ]


def test_refused_duplicate_adds_no_new_party(app, db):
    """The duplicate check comes before anything is added, even a party the file is the
    first to name."""
    load_demo()
    data = demo_data()
    data["parties"].append({"letter": "Å", "name": "Alternativet"})
    data["body"]["party_order"].append("Å")
    errors = import_errors(app, db, data)
    assert [p for p, _ in errors] == ["/meeting/starts_at"]
    assert db.session.scalar(sa.select(Party).where(Party.letter == "Å")) is None


def test_round_trip_with_every_feature(app, db):
    pdf = small_pdf()
    a = assert_round_trip(app, db, rich_meeting_data(pdf))

    item = a["meeting"]["items"][1]
    assert item["number"] == 15
    members = {m["name"]: m for m in a["members"]}
    ivan = members["Ivan Demo-Iversen"]
    ref = {m["name"]: m["ref"] for m in a["members"]}
    assert [s["party"] for s in ivan["seats"]] == ["C", None]
    assert ivan["seats"][0]["ends_on"] == "2010-06-30"
    assert a["meeting"]["ends_at"] == "2010-12-06T18:05:00"
    assert {"member": ref["Ivan Demo-Iversen"], "is_present": True, "note": "ankom kl. 16.10"} in a[
        "meeting"
    ]["attendance"]

    # The attached file, byte for byte.
    attachment, no_file = item["attachments"]
    assert attachment["file"] == file_entry(pdf)
    assert base64.b64decode(attachment["file"]["content_base64"]) == pdf
    stored = attachment_path(attachments_dir(app), attachment["file"]["sha256"])
    assert stored.read_bytes() == pdf
    assert no_file == {"number": 2, "title": "Ansøgninger", "file_name": "", "file": None}

    # Item attendance: inhabil and absent.
    assert item["attendance"] == sorted(
        [
            {"member": ref["Carla Demo-Christensen"], "presence": "inhabil"},
            {"member": ref["Otto Demo-Olsen"], "presence": "absent"},
        ],
        key=lambda e: int(e["member"][1:]),
    )

    recommendation, addition, postponement, procedural = item["motions"]
    # A split vote: a member against the party line, and an independent's own vote.
    assert recommendation["proposer"] is None
    assert recommendation["vote"]["members"] == {
        ref["Bent Demo-Berg"]: "against",
        ref["Ivan Demo-Iversen"]: "for",
    }
    assert recommendation["vote"]["parties"] == {
        "A": "for",
        "B": "for",
        "F": "against",
        "Ø": "against",
        "V": "for",
        "O": "for",
        "C": "abstain",
    }
    assert recommendation["vote"]["result"] == {
        "mode": "custom",
        "text": "Indstillingen blev vedtaget med et snævert flertal.",
    }
    # Decided without a vote.
    assert addition["proposer"] == {"party": "Ø"}
    assert addition["vote"]["without_vote"] == "rejected"
    assert postponement["proposer"] == {"member": ref["Vagn Demo-Vestergaard"], "party": "V"}
    assert postponement["vote"]["members"] == {ref["Ivan Demo-Iversen"]: "not_voting"}
    assert postponement["vote"]["result"]["mode"] == "omitted"
    assert procedural == {
        "kind": "procedural",
        "proposer": {"name": "Formanden"},
        "text": "Punktet behandles før punkt 14.",
        "vote": None,
    }
    assert item["decision"] == {
        "result_key": "",
        "result_text": "Puljen blev fordelt som indstillet.",
    }

    joint, personal, submitted = item["remarks"]
    assert joint["kind"] == "joint" and joint["party"] == "A"
    assert joint["co_parties"] == [
        {"party": "F", "is_confirmed": True},
        {"party": "Ø", "is_confirmed": False},
    ]
    assert personal == {
        "kind": "personal",
        "party": None,
        "member": ref["Ivan Demo-Iversen"],
        "co_parties": [],
        "status": "accepted",
        "text": "Jeg stemte for.",
    }
    assert submitted["status"] == "submitted" and submitted["member"] == ref["Otto Demo-Olsen"]

    closed = a["meeting"]["items"][2]
    assert closed["is_closed"] is True and closed["summary"] == "Fortroligt resumé."


def namesakes_data() -> dict[str, Any]:
    """The demo with two members of the same name, both for A."""
    data = demo_data()
    data["members"][1]["name"] = "Anna Demo-Andersen"
    return data


def test_round_trip_keeps_two_members_of_the_same_name(app, db):
    a = assert_round_trip(app, db, namesakes_data())
    assert [m["name"] for m in a["members"][:2]] == ["Anna Demo-Andersen"] * 2
    assert [m["seats"][0]["role"] for m in a["members"][:2]] == ["formand", "medlem"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 9
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MeetingAttendance)) == 9


def test_second_meeting_reuses_both_members_of_the_same_name(app, db):
    first = do_import(app, namesakes_data())
    db.session.commit()
    data = namesakes_data()
    data["meeting"]["starts_at"] = "2011-01-10T15:30:00"
    second = do_import(app, data)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 9
    assert sorted(a.member_id for a in second.attendance) == sorted(
        a.member_id for a in first.attendance
    )
    assert do_export(app, second)["members"] == do_export(app, first)["members"]


def test_imported_features_are_counted_in_the_minutes(app, db):
    """What the file says is what the minutes count: the split vote, the inhabil and
    absent members, the independent, and the joint remark's confirmed parties."""
    meeting = do_import(app, rich_meeting_data(small_pdf()))
    db.session.commit()
    text = render_minutes(meeting, "txt", item_numbers=[15]).decode("utf-8")
    assert "For stemte: 4 (Anna Demo-Andersen (A), B, V, Ivan Demo-Iversen (løsgænger))" in text
    assert "Imod stemte: 3 (Bent Demo-Berg (A), F, Ø)" in text
    assert "Undlod: 1 (C)" in text
    assert "Indstillingen blev vedtaget med et snævert flertal." in text
    assert "Tillægsforslaget blev forkastet uden afstemning." in text
    assert "Puljen blev fordelt som indstillet." in text
    assert "Der var følgende fælles protokolbemærkning fra A og F:" in text
    assert "Der var følgende protokolbemærkning fra Ivan Demo-Iversen (løsgænger):" in text
    assert "Endnu ikke godkendt." not in text


def test_export_without_files_leaves_the_content_out(app, db):
    pdf = small_pdf()
    meeting = do_import(app, rich_meeting_data(pdf))
    exported = do_export(app, meeting, include_files=False)
    attachment = exported["meeting"]["items"][1]["attachments"][0]
    assert attachment == {
        "number": 1,
        "title": "Fordelingsnotat",
        "file_name": "1 - Fordelingsnotat.pdf",
        "file": None,
    }
    assert validate(exported) == []


def test_second_meeting_of_the_same_body_reuses_body_parties_and_members(app, db):
    first_id, _ = load_demo()
    before = row_counts(db)
    first = db.session.get(Meeting, first_id)
    member_ids = {m.name: m.id for m in db.session.scalars(sa.select(Member))}
    party_ids = {p.letter: p.id for p in db.session.scalars(sa.select(Party))}

    data = demo_data()
    data["meeting"]["starts_at"] = "2011-01-10T15:30:00"
    second = do_import(app, data)
    db.session.commit()

    after = row_counts(db)
    assert after["Meeting"] == before["Meeting"] + 1 == 2
    for model in ("Body", "Party", "Member", "Seat"):
        assert after[model] == before[model], model
    assert second.body_id == first.body_id
    assert len(second.body.party_order) == 7
    assert {a.member.name: a.member_id for a in second.attendance} == member_ids
    assert {p.letter: p.id for p in db.session.scalars(sa.select(Party))} == party_ids
    # Both meetings export with the same frame.
    one, two = do_export(app, first), do_export(app, second)
    for key in ("body", "parties", "members"):
        assert one[key] == two[key]


def test_new_seat_of_a_known_member_is_added_to_the_member(app, db):
    load_demo()
    data = demo_data()
    data["meeting"]["starts_at"] = "2011-03-07T15:30:00"
    data["members"][8]["seats"][0]["ends_on"] = "2011-01-31"
    data["members"][8]["seats"].append(
        {"party": None, "role": "medlem", "starts_on": "2011-02-01", "ends_on": None}
    )
    do_import(app, data)
    db.session.commit()
    lonborg = db.session.scalars(sa.select(Member).where(Member.name == "Mogens Lønborg")).one()
    assert [
        (s.party.letter if s.party else None, s.starts_on.isoformat()) for s in lonborg.seats
    ] == [("C", "2010-01-01"), (None, "2011-02-01")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 9


def test_another_body_reuses_the_parties(app, db):
    load_demo()
    data = demo_data()
    data["body"]["name"] = "Kultur- og Fritidsudvalget"
    data["body"]["genitive_name"] = "Kultur- og Fritidsudvalgets"
    do_import(app, data)
    db.session.commit()
    counts = row_counts(db)
    assert (counts["Body"], counts["Party"], counts["Meeting"]) == (2, 7, 2)


# --------------------------------------------------------------------------- validation


def demo_item(data: dict[str, Any]) -> dict[str, Any]:
    return data["meeting"]["items"][0]


def _wrong_format(d):
    d["format"] = "protokol.meting"


def _missing_key(d):
    del d["meeting"]["location"]


def _extra_key(d):
    d["body"]["colour"] = "rød"


def _bad_seat_date(d):
    d["members"][0]["seats"][0]["starts_on"] = "2010-13-45"


def _bad_meeting_time(d):
    d["meeting"]["starts_at"] = "2010-13-45T15:30:00"


def _time_with_offset(d):
    d["meeting"]["starts_at"] = "2010-12-06T15:30:00+01:00"


def _meeting_ends_before_it_starts(d):
    d["meeting"]["ends_at"] = "2010-12-06T15:29:59"


def _seat_ends_before_it_starts(d):
    d["members"][2]["seats"][0]["ends_on"] = "2009-12-31"


def _unknown_party_in_party_order(d):
    d["body"]["party_order"].append("Å")


def _unknown_party_in_vote(d):
    demo_item(d)["motions"][1]["vote"]["parties"]["Å"] = "for"


def _bad_position_in_vote(d):
    demo_item(d)["motions"][1]["vote"]["parties"]["Ø"] = "maybe"


def _unknown_member_in_vote(d):
    demo_item(d)["motions"][0]["vote"]["members"]["m12"] = "for"


def _unknown_party_of_seat(d):
    d["members"][0]["seats"][0]["party"] = "X"


def _unknown_member_in_attendance(d):
    d["meeting"]["attendance"][0]["member"] = "m99"


def _unknown_member_in_item_attendance(d):
    demo_item(d)["attendance"] = [{"member": "m99", "presence": "inhabil"}]


def _unknown_proposer(d):
    demo_item(d)["motions"][0]["proposer"] = {"member": "m42"}


def _unknown_proposer_party(d):
    demo_item(d)["motions"][0]["proposer"] = {"party": "Å"}


def _duplicate_member_ref(d):
    d["members"][1]["ref"] = "m1"
    d["meeting"]["attendance"].pop(1)


def _duplicate_party_letter(d):
    d["parties"].append({"letter": "A", "name": "Socialdemokraterne"})


def _duplicate_attendance(d):
    d["meeting"]["attendance"][1]["member"] = "m1"


def _duplicate_item_number(d):
    d["meeting"]["items"].append(copy.deepcopy(demo_item(d)))


def _duplicate_attachment_number(d):
    demo_item(d)["attachments"][1]["number"] = 1


def _amendment_without_proposer(d):
    demo_item(d)["motions"][0]["proposer"] = None


def _empty_proposer(d):
    demo_item(d)["motions"][0]["proposer"] = {}


def _personal_remark_without_member(d):
    remark = demo_item(d)["remarks"][0]
    remark["kind"], remark["party"], remark["member"] = "personal", None, None


def _party_remark_without_party(d):
    demo_item(d)["remarks"][0]["party"] = None


def _joint_remark_without_co_parties(d):
    demo_item(d)["remarks"][0]["kind"] = "joint"


def _unknown_remark_party(d):
    demo_item(d)["remarks"][0]["party"] = "Å"


def _unknown_co_party(d):
    remark = demo_item(d)["remarks"][0]
    remark["kind"] = "joint"
    remark["co_parties"] = [
        {"party": "C", "is_confirmed": True},
        {"party": "Å", "is_confirmed": True},
    ]


def _custom_result_without_text(d):
    demo_item(d)["motions"][0]["vote"]["result"] = {"mode": "custom", "text": "  "}


def _sha256_mismatch(d):
    entry = file_entry(small_pdf())
    entry["sha256"] = hashlib.sha256(b"something else").hexdigest()
    demo_item(d)["attachments"][0]["file"] = entry


def _size_mismatch(d):
    entry = file_entry(small_pdf())
    entry["size"] += 1
    demo_item(d)["attachments"][0]["file"] = entry


def _not_a_pdf(d):
    demo_item(d)["attachments"][0]["file"] = file_entry(b"GIF89a not a PDF at all")


def _unknown_minutes_style(d):
    d["body"]["minutes_style"] = "no-such-style"


INVALID = {
    "wrong format": (_wrong_format, "/format", "'protokol.meeting' was expected"),
    "missing key": (_missing_key, "/meeting", "'location' is a required property"),
    "extra key": (
        _extra_key,
        "/body",
        "Additional properties are not allowed ('colour' was unexpected)",
    ),
    "bad seat date": (
        _bad_seat_date,
        "/members/0/seats/0/starts_on",
        "'2010-13-45' is not a 'date'",
    ),
    "bad meeting time": (_bad_meeting_time, "/meeting/starts_at", "not a valid date and time"),
    "time with offset": (
        _time_with_offset,
        "/meeting/starts_at",
        "'2010-12-06T15:30:00+01:00' does not match "
        + repr(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"),
    ),
    "meeting ends before it starts": (
        _meeting_ends_before_it_starts,
        "/meeting/ends_at",
        "ends before the meeting starts",
    ),
    "seat ends before it starts": (
        _seat_ends_before_it_starts,
        "/members/2/seats/0/ends_on",
        "ends before the seat starts",
    ),
    "unknown party in party_order": (
        _unknown_party_in_party_order,
        "/body/party_order/7",
        "unknown party 'Å'; list it under /parties",
    ),
    "unknown party in a vote": (
        _unknown_party_in_vote,
        "/meeting/items/0/motions/1/vote/parties/Å",
        "unknown party 'Å'; list it under /parties",
    ),
    "bad position in a vote": (
        _bad_position_in_vote,
        "/meeting/items/0/motions/1/vote/parties/Ø",
        "'maybe' is not one of ['for', 'against', 'abstain']",
    ),
    "unknown member in a vote": (
        _unknown_member_in_vote,
        "/meeting/items/0/motions/0/vote/members/m12",
        "unknown member 'm12'; list it under /members",
    ),
    "unknown party of a seat": (
        _unknown_party_of_seat,
        "/members/0/seats/0/party",
        "unknown party 'X'; list it under /parties",
    ),
    "unknown member in attendance": (
        _unknown_member_in_attendance,
        "/meeting/attendance/0/member",
        "unknown member 'm99'; list it under /members",
    ),
    "unknown member in item attendance": (
        _unknown_member_in_item_attendance,
        "/meeting/items/0/attendance/0/member",
        "unknown member 'm99'; list it under /members",
    ),
    "unknown proposer": (
        _unknown_proposer,
        "/meeting/items/0/motions/0/proposer/member",
        "unknown member 'm42'; list it under /members",
    ),
    "unknown proposer party": (
        _unknown_proposer_party,
        "/meeting/items/0/motions/0/proposer/party",
        "unknown party 'Å'; list it under /parties",
    ),
    "duplicate member ref": (_duplicate_member_ref, "/members/1", "duplicate member ref 'm1'"),
    "duplicate party letter": (_duplicate_party_letter, "/parties/7", "duplicate party letter 'A'"),
    "duplicate attendance": (
        _duplicate_attendance,
        "/meeting/attendance/1",
        "duplicate member 'm1'",
    ),
    "duplicate item number": (
        _duplicate_item_number,
        "/meeting/items/1",
        "duplicate item number 14",
    ),
    "duplicate attachment number": (
        _duplicate_attachment_number,
        "/meeting/items/0/attachments/1",
        "duplicate attachment number 1",
    ),
    "amendment without proposer": (
        _amendment_without_proposer,
        "/meeting/items/0/motions/0/proposer",
        "None is not of type 'object'",
    ),
    "empty proposer": (
        _empty_proposer,
        "/meeting/items/0/motions/0/proposer",
        "{} should be non-empty",
    ),
    "personal remark without member": (
        _personal_remark_without_member,
        "/meeting/items/0/remarks/0/member",
        "None is not of type 'string'",
    ),
    "party remark without party": (
        _party_remark_without_party,
        "/meeting/items/0/remarks/0/party",
        "None is not of type 'string'",
    ),
    "joint remark without co_parties": (
        _joint_remark_without_co_parties,
        "/meeting/items/0/remarks/0/co_parties",
        "a joint remark needs at least one more party",
    ),
    "unknown remark party": (
        _unknown_remark_party,
        "/meeting/items/0/remarks/0/party",
        "unknown party 'Å'; list it under /parties",
    ),
    "unknown co-party": (
        _unknown_co_party,
        "/meeting/items/0/remarks/0/co_parties/1/party",
        "unknown party 'Å'; list it under /parties",
    ),
    "custom result without text": (
        _custom_result_without_text,
        "/meeting/items/0/motions/0/vote/result/text",
        "a custom result needs its sentence",
    ),
    "attachment sha256 mismatch": (
        _sha256_mismatch,
        "/meeting/items/0/attachments/0/file/sha256",
        "does not match the content",
    ),
    "attachment size mismatch": (
        _size_mismatch,
        "/meeting/items/0/attachments/0/file/size",
        "does not match the content",
    ),
    "attachment not a PDF": (
        _not_a_pdf,
        "/meeting/items/0/attachments/0/file/content_base64",
        "is not a PDF file",
    ),
    "unknown minutes style": (
        _unknown_minutes_style,
        "/body/minutes_style",
        "no minutes style named 'no-such-style'",
    ),
}


@pytest.mark.parametrize(("change", "pointer", "reason"), INVALID.values(), ids=INVALID.keys())
def test_invalid_file_names_pointer_and_reason_and_imports_nothing(
    app, db, change, pointer, reason
):
    data = demo_data()
    change(data)
    errors = import_errors(app, db, data)
    assert (pointer, reason) in errors, errors
    assert validate(data) == errors


@pytest.mark.parametrize(("change", "pointer", "reason"), INVALID.values(), ids=INVALID.keys())
def test_invalid_file_leaves_an_existing_database_as_it_was(app, db, change, pointer, reason):
    load_demo()
    data = demo_data()
    data["meeting"]["starts_at"] = "2011-01-10T15:30:00"
    change(data)
    errors = import_errors(app, db, data)
    assert (pointer, reason) in errors, errors
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 1


def test_every_problem_is_reported_at_once(app, db):
    data = demo_data()
    _meeting_ends_before_it_starts(data)
    _unknown_member_in_attendance(data)
    _joint_remark_without_co_parties(data)
    _not_a_pdf(data)
    pointers = {p for p, _ in import_errors(app, db, data)}
    assert pointers >= {
        "/meeting/ends_at",
        "/meeting/attendance/0/member",
        "/meeting/items/0/remarks/0/co_parties",
        "/meeting/items/0/attachments/0/file/content_base64",
    }


@pytest.mark.parametrize("data", [None, [], "protokol.meeting", 1])
def test_not_an_object_is_refused(app, db, data):
    errors = import_errors(app, db, data)
    assert errors[0][0] == ""  # the whole document


def test_a_lone_surrogate_in_a_text_is_a_validation_error(app, db):
    """Found by tests/protokol/test_fuzz_cli.py: JSON can write "\\udcff", which no database
    stores; the import was a UnicodeEncodeError traceback."""
    data = demo_data()
    data["meeting"]["items"][0]["title"] = "Integration \udcff"
    data["body"]["name"] = "\udcff"

    errors = validate(data)

    assert errors == [
        ("/body/name", "not valid Unicode text (a lone surrogate)"),
        ("/meeting/items/0/title", "not valid Unicode text (a lone surrogate)"),
    ]
    with pytest.raises(MeetingImportError):
        import_meeting(data, attachments_dir=app.config["ATTACHMENTS_DIR"])
