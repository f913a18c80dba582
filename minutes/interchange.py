"""The JSON interchange format for a whole meeting (`minutes/schema/meeting.schema.json`,
described in `docs/json-format.md`): export, and an all-or-nothing import that names the
field and the reason of every error."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import sqlalchemy as sa

from meetings.locking import is_locked
from meetings.models import (
    AgendaItem,
    Attachment,
    Body,
    BodyParty,
    CaseSection,
    ItemAttendance,
    ItemPresence,
    ItemSignatory,
    Meeting,
    MeetingAttendance,
    MeetingState,
    Member,
    Party,
    RecommendationClause,
    Seat,
    SeatRole,
)
from meetings.storage import attachment_path, is_pdf, store_file
from minutes.models import ProtocolRemark, RemarkCoParty, RemarkKind, RemarkStatus
from minutes.search import index_meeting
from minutes.styles import StyleError, load_style
from motions.models import Motion, MotionKind
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

SCHEMA_PATH = Path(__file__).parent / "schema" / "meeting.schema.json"
FORMAT = "protokol.meeting"
VERSION = 1


class MeetingImportError(Exception):
    """The input cannot be imported; `errors` lists (JSON pointer, reason)."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p or '/'}: {m}" for p, m in errors))


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the format."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _pointer(path: Any) -> str:
    return "".join(f"/{p}" for p in path)


# --------------------------------------------------------------------------- export


def _member_order(body: Body):
    rank = {bp.party_id: bp.position for bp in body.party_order}

    def key(member: Member) -> tuple:
        seats = [s for s in member.seats if s.body_id == body.id]
        party = seats[-1].party if seats else None
        return (
            rank.get(party.id, len(rank)) if party else len(rank) + 1,
            party.letter if party else "",
            member.name,
            member.id,
        )

    return key


def export_meeting(
    meeting: Meeting, *, include_files: bool = True, attachments_dir: str | None = None
) -> dict[str, Any]:
    """The whole meeting as a dictionary in the interchange format (deterministic)."""
    body = meeting.body
    members: dict[int, Member] = {s.member_id: s.member for s in body.seats}
    for a in meeting.attendance:
        members[a.member_id] = a.member
    for item in meeting.items:
        for a in item.attendance:
            members[a.member_id] = a.member
        for m in item.motions:
            if m.proposer_member:
                members[m.proposer_member.id] = m.proposer_member
            if m.vote:
                for mv in m.vote.member_votes:
                    members[mv.member_id] = mv.member
        for r in item.remarks:
            if r.member:
                members[r.member.id] = r.member
    ordered = sorted(members.values(), key=_member_order(body))
    ref = {m.id: f"m{i}" for i, m in enumerate(ordered, start=1)}

    parties: dict[int, Party] = {bp.party_id: bp.party for bp in body.party_order}
    extra: dict[int, Party] = {}

    def letter(party: Party) -> str:
        if party.id not in parties:
            extra[party.id] = party
        return party.letter

    def iso(value: date | datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    member_list = []
    for m in ordered:
        seats = sorted(
            (s for s in m.seats if s.body_id == body.id), key=lambda s: (s.starts_on, s.id)
        )
        member_list.append(
            {
                "ref": ref[m.id],
                "name": m.name,
                "seats": [
                    {
                        "party": letter(s.party) if s.party else None,
                        "role": s.role.value,
                        "starts_on": iso(s.starts_on),
                        "ends_on": iso(s.ends_on),
                    }
                    for s in seats
                ],
            }
        )

    rank = {bp.party_id: bp.position for bp in body.party_order}

    def party_key(party: Party) -> tuple:
        return (rank.get(party.id, len(rank)), party.letter)

    items = []
    for item in meeting.items:
        motions = []
        for motion in item.motions:
            proposer: dict[str, str] = {}
            if motion.proposer_member:
                proposer["member"] = ref[motion.proposer_member.id]
            if motion.proposer_party:
                proposer["party"] = letter(motion.proposer_party)
            if motion.proposer_name:
                proposer["name"] = motion.proposer_name
            vote = motion.vote
            motions.append(
                {
                    "kind": motion.kind.value,
                    "proposer": proposer or None,
                    "text": motion.text,
                    "vote": None
                    if vote is None
                    else {
                        "is_open": vote.is_open,
                        "without_vote": vote.outcome_without_vote.value
                        if vote.is_without_vote and vote.outcome_without_vote
                        else None,
                        "parties": {
                            letter(pv.party): pv.position.value
                            for pv in sorted(vote.party_votes, key=lambda pv: party_key(pv.party))
                        },
                        "members": {
                            ref[mv.member_id]: mv.position.value
                            for mv in sorted(
                                vote.member_votes, key=lambda mv: int(ref[mv.member_id][1:])
                            )
                        },
                        "result": {"mode": vote.result_mode.value, "text": vote.result_text},
                    },
                }
            )
        attachments = []
        for a in item.attachments:
            file = None
            if a.sha256 and include_files and attachments_dir:
                data = attachment_path(attachments_dir, a.sha256).read_bytes()
                file = {
                    "sha256": a.sha256,
                    "size": len(data),
                    "content_base64": base64.b64encode(data).decode("ascii"),
                }
            attachments.append(
                {"number": a.number, "title": a.title, "file_name": a.file_name, "file": file}
            )
        decision = getattr(item, "decision", None)
        items.append(
            {
                "number": item.number,
                "title": item.title,
                "case_number": item.case_number,
                "is_closed": item.is_closed,
                "administration": item.administration,
                "summary": item.summary,
                "recommendation": [{"lead_in": c.lead_in, "text": c.text} for c in item.clauses],
                "sections": [{"heading": s.heading, "body": s.body} for s in item.sections],
                "attachments": attachments,
                "signatories": [s.name for s in item.signatories],
                "attendance": sorted(
                    (
                        {"member": ref[a.member_id], "presence": a.presence.value}
                        for a in item.attendance
                    ),
                    key=lambda a: int(a["member"][1:]),
                ),
                "motions": motions,
                "decision": None
                if decision is None
                else {
                    "result_key": decision.result_key,
                    "result_text": decision.result_text,
                },
                "remarks": [
                    {
                        "kind": r.kind.value,
                        "party": letter(r.party) if r.party else None,
                        "member": ref[r.member.id] if r.member else None,
                        "co_parties": [
                            {"party": letter(cp.party), "is_confirmed": cp.is_confirmed}
                            for cp in r.co_parties
                        ],
                        "status": r.status.value,
                        "text": r.text,
                    }
                    for r in item.remarks
                ],
            }
        )

    all_parties = list(parties.values()) + sorted(extra.values(), key=lambda p: p.letter)
    return {
        "format": FORMAT,
        "version": VERSION,
        "body": {
            "name": body.name,
            "genitive_name": body.genitive_name,
            "minutes_style": body.minutes_style,
            "party_order": [bp.party.letter for bp in body.party_order],
        },
        "parties": [{"letter": p.letter, "name": p.name} for p in all_parties],
        "members": member_list,
        "meeting": {
            "starts_at": iso(meeting.starts_at),
            "ends_at": iso(meeting.ends_at),
            "location": meeting.location,
            "state": meeting.state.value,
            "attendance": sorted(
                (
                    {"member": ref[a.member_id], "is_present": a.is_present, "note": a.note}
                    for a in meeting.attendance
                ),
                key=lambda a: int(a["member"][1:]),
            ),
            "items": items,
        },
    }


def dumps(data: dict[str, Any]) -> str:
    """Serialise an export: UTF-8 text, two-space indent, stable key order."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------- import


def _unencodable(value: Any, path: list) -> list[tuple[list, str]]:
    """Every text in `value` that is not valid Unicode: JSON may write a lone surrogate
    ("\\udcff"), which no database can store."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return [(path, "not valid Unicode text (a lone surrogate)")]
        return []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    found = []
    for key, item in items:
        found += _unencodable(key, path) + _unencodable(item, [*path, key])
    return found


def validate(data: Any, *, style_dirs: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Every problem with `data` as (JSON pointer, reason); empty when it can be imported."""
    validator = jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [
        (_pointer(e.absolute_path), e.message)
        for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if errors:
        return errors
    errors = [(_pointer(path), reason) for path, reason in _unencodable(data, [])]
    if errors:
        return errors

    letters = [p["letter"] for p in data["parties"]]
    refs = [m["ref"] for m in data["members"]]
    known_letters, known_refs = set(letters), set(refs)

    def dup(values: list, where: str, what: str) -> None:
        seen: set = set()
        for i, v in enumerate(values):
            if v in seen:
                errors.append((f"{where}/{i}", f"duplicate {what} {v!r}"))
            seen.add(v)

    def need_party(value: str | None, where: str) -> None:
        if value is not None and value not in known_letters:
            errors.append((where, f"unknown party {value!r}; list it under /parties"))

    def need_member(value: str | None, where: str) -> None:
        if value is not None and value not in known_refs:
            errors.append((where, f"unknown member {value!r}; list it under /members"))

    dup(letters, "/parties", "party letter")
    dup(refs, "/members", "member ref")
    for i, letter in enumerate(data["body"]["party_order"]):
        need_party(letter, f"/body/party_order/{i}")
    try:
        load_style(data["body"]["minutes_style"], style_dirs)
    except StyleError as exc:
        errors.append(("/body/minutes_style", str(exc)))

    for i, member in enumerate(data["members"]):
        for j, seat in enumerate(member["seats"]):
            where = f"/members/{i}/seats/{j}"
            need_party(seat["party"], f"{where}/party")
            starts, ends = _date(seat["starts_on"]), _date(seat["ends_on"])
            if starts is None:
                errors.append((f"{where}/starts_on", "not a valid date"))
            if seat["ends_on"] is not None and ends is None:
                errors.append((f"{where}/ends_on", "not a valid date"))
            if starts and ends and ends < starts:
                errors.append((f"{where}/ends_on", "ends before the seat starts"))

    meeting = data["meeting"]
    starts_at, ends_at = _datetime(meeting["starts_at"]), _datetime(meeting["ends_at"])
    if starts_at is None:
        errors.append(("/meeting/starts_at", "not a valid date and time"))
    if meeting["ends_at"] is not None and ends_at is None:
        errors.append(("/meeting/ends_at", "not a valid date and time"))
    if starts_at and ends_at and ends_at < starts_at:
        errors.append(("/meeting/ends_at", "ends before the meeting starts"))
    dup([a["member"] for a in meeting["attendance"]], "/meeting/attendance", "member")
    for i, a in enumerate(meeting["attendance"]):
        need_member(a["member"], f"/meeting/attendance/{i}/member")
    dup([it["number"] for it in meeting["items"]], "/meeting/items", "item number")

    for i, item in enumerate(meeting["items"]):
        w = f"/meeting/items/{i}"
        dup([a["number"] for a in item["attachments"]], f"{w}/attachments", "attachment number")
        for j, att in enumerate(item["attachments"]):
            file = att["file"]
            if file is None:
                continue
            try:
                content = base64.b64decode(file["content_base64"], validate=True)
            except (binascii.Error, ValueError):
                errors.append((f"{w}/attachments/{j}/file/content_base64", "not valid base64"))
                continue
            if hashlib.sha256(content).hexdigest() != file["sha256"]:
                errors.append((f"{w}/attachments/{j}/file/sha256", "does not match the content"))
            if len(content) != file["size"]:
                errors.append((f"{w}/attachments/{j}/file/size", "does not match the content"))
            if not is_pdf(content):
                errors.append((f"{w}/attachments/{j}/file/content_base64", "is not a PDF file"))
        dup([a["member"] for a in item["attendance"]], f"{w}/attendance", "member")
        for j, a in enumerate(item["attendance"]):
            need_member(a["member"], f"{w}/attendance/{j}/member")
        for j, motion in enumerate(item["motions"]):
            mw = f"{w}/motions/{j}"
            proposer = motion["proposer"]
            if proposer is None and motion["kind"] != MotionKind.RECOMMENDATION.value:
                errors.append(
                    (f"{mw}/proposer", "a motion other than the recommendation needs a proposer")
                )
            if proposer:
                need_member(proposer.get("member"), f"{mw}/proposer/member")
                need_party(proposer.get("party"), f"{mw}/proposer/party")
            vote = motion["vote"]
            if vote is None:
                continue
            for letter in vote["parties"]:
                need_party(letter, f"{mw}/vote/parties/{letter}")
            for ref in vote["members"]:
                need_member(ref, f"{mw}/vote/members/{ref}")
            if (
                vote["result"]["mode"] == ResultMode.CUSTOM.value
                and not vote["result"]["text"].strip()
            ):
                errors.append((f"{mw}/vote/result/text", "a custom result needs its sentence"))
        for j, remark in enumerate(item["remarks"]):
            rw = f"{w}/remarks/{j}"
            need_party(remark["party"], f"{rw}/party")
            need_member(remark["member"], f"{rw}/member")
            for k, cp in enumerate(remark["co_parties"]):
                need_party(cp["party"], f"{rw}/co_parties/{k}/party")
            if remark["kind"] == RemarkKind.PERSONAL.value and remark["member"] is None:
                errors.append((f"{rw}/member", "a personal remark needs its member"))
            if remark["kind"] != RemarkKind.PERSONAL.value and remark["party"] is None:
                errors.append((f"{rw}/party", f"a {remark['kind']} remark needs its party"))
            if remark["kind"] == RemarkKind.JOINT.value and not remark["co_parties"]:
                errors.append((f"{rw}/co_parties", "a joint remark needs at least one more party"))
    return errors


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value is not None else None
    except ValueError:
        return None


def _datetime(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value is not None else None
    except ValueError:
        return None


def import_meeting(data: Any, *, attachments_dir: str, style_dirs: tuple[str, ...] = ()) -> Meeting:
    """Create the meeting described by `data` (adds and flushes; the caller commits).

    The body, parties and members are matched by name, letter and name; what is missing
    is created. Raises `MeetingImportError` naming every problem; nothing is added then.
    """
    errors = validate(data, style_dirs=style_dirs)
    if errors:
        raise MeetingImportError(errors)
    session = db.session

    # Refuse a meeting that is already there before anything is added (all or nothing).
    b = data["body"]
    body = session.scalar(sa.select(Body).where(Body.name == b["name"]))
    starts_at = datetime.fromisoformat(data["meeting"]["starts_at"])
    if body is not None:
        existing = session.scalar(
            sa.select(Meeting).where(Meeting.body_id == body.id, Meeting.starts_at == starts_at)
        )
        if existing is not None:
            reason = (
                f"{body.name} already has a meeting at {starts_at:%Y-%m-%d %H:%M}"
                f" (id {existing.id})"
            )
            if is_locked(existing):
                reason += (
                    "; its minutes are approved and locked, so it cannot be replaced:"
                    " corrections are appended as addenda"
                )
            raise MeetingImportError([("/meeting/starts_at", reason)])

    parties: dict[str, Party] = {}
    for p in data["parties"]:
        party = session.scalar(sa.select(Party).where(Party.letter == p["letter"]))
        if party is None:
            party = Party(letter=p["letter"], name=p["name"])
            session.add(party)
        parties[p["letter"]] = party

    if body is None:
        body = Body(
            name=b["name"], genitive_name=b["genitive_name"], minutes_style=b["minutes_style"]
        )
        session.add(body)
    ordered_ids = {bp.party_id for bp in body.party_order}
    for letter in b["party_order"]:
        party = parties[letter]
        if party.id is None or party.id not in ordered_ids:
            body.party_order.append(BodyParty(party=party, position=len(body.party_order)))
            if party.id is not None:
                ordered_ids.add(party.id)
    session.flush()

    members: dict[str, Member] = {}
    for m in data["members"]:
        # Match members who were in the body before this import, each to one ref only, so
        # that two members of the same name stay two.
        taken = [x.id for x in members.values() if x.id is not None]
        with session.no_autoflush:
            member = session.scalar(
                sa.select(Member)
                .join(Seat)
                .where(Member.name == m["name"], Seat.body_id == body.id, Member.id.not_in(taken))
                .order_by(Member.id)
                .limit(1)
            )
        if member is None:
            member = Member(name=m["name"])
            session.add(member)
        members[m["ref"]] = member
        have = {(s.starts_on) for s in member.seats if s.body_id == body.id}
        for s in m["seats"]:
            starts_on = date.fromisoformat(s["starts_on"])
            if starts_on in have:
                continue
            member.seats.append(
                Seat(
                    body=body,
                    party=parties[s["party"]] if s["party"] else None,
                    role=SeatRole(s["role"]),
                    starts_on=starts_on,
                    ends_on=date.fromisoformat(s["ends_on"]) if s["ends_on"] else None,
                )
            )
    session.flush()

    mt = data["meeting"]
    meeting = Meeting(
        body=body,
        starts_at=starts_at,
        ends_at=datetime.fromisoformat(mt["ends_at"]) if mt["ends_at"] else None,
        location=mt["location"],
        state=MeetingState(mt["state"]),
    )
    session.add(meeting)
    for a in mt["attendance"]:
        meeting.attendance.append(
            MeetingAttendance(
                member=members[a["member"]], is_present=a["is_present"], note=a["note"]
            )
        )
    for position, it in enumerate(mt["items"]):
        item = AgendaItem(
            number=it["number"],
            position=position,
            title=it["title"],
            case_number=it["case_number"],
            is_closed=it["is_closed"],
            administration=it["administration"],
            summary=it["summary"],
        )
        meeting.items.append(item)
        item.clauses = [
            RecommendationClause(position=i, lead_in=c["lead_in"], text=c["text"])
            for i, c in enumerate(it["recommendation"])
        ]
        item.sections = [
            CaseSection(position=i, heading=s["heading"], body=s["body"])
            for i, s in enumerate(it["sections"])
        ]
        item.signatories = [
            ItemSignatory(position=i, name=n) for i, n in enumerate(it["signatories"])
        ]
        for a in it["attendance"]:
            item.attendance.append(
                ItemAttendance(member=members[a["member"]], presence=ItemPresence(a["presence"]))
            )
        for att in it["attachments"]:
            sha256 = size = None
            if att["file"] is not None:
                sha256, size = store_file(
                    attachments_dir, base64.b64decode(att["file"]["content_base64"])
                )
            item.attachments.append(
                Attachment(
                    number=att["number"],
                    title=att["title"],
                    file_name=att["file_name"],
                    sha256=sha256,
                    size=size,
                )
            )
        for position_m, mo in enumerate(it["motions"]):
            proposer = mo["proposer"] or {}
            motion = Motion(
                position=position_m,
                kind=MotionKind(mo["kind"]),
                proposer_member=members[proposer["member"]] if "member" in proposer else None,
                proposer_party=parties[proposer["party"]] if "party" in proposer else None,
                proposer_name=proposer.get("name", ""),
                text=mo["text"],
            )
            item.motions.append(motion)
            v = mo["vote"]
            if v is not None:
                motion.vote = Vote(
                    is_open=v["is_open"],
                    is_without_vote=v["without_vote"] is not None,
                    outcome_without_vote=Outcome(v["without_vote"]) if v["without_vote"] else None,
                    result_mode=ResultMode(v["result"]["mode"]),
                    result_text=v["result"]["text"],
                    party_votes=[
                        PartyVote(party=parties[letter], position=Position(pos))
                        for letter, pos in v["parties"].items()
                    ],
                    member_votes=[
                        MemberVote(member=members[ref], position=MemberPosition(pos))
                        for ref, pos in v["members"].items()
                    ],
                )
        if it["decision"] is not None:
            item.decision = Decision(
                result_key=it["decision"]["result_key"], result_text=it["decision"]["result_text"]
            )
        for position_r, r in enumerate(it["remarks"]):
            item.remarks.append(
                ProtocolRemark(
                    position=position_r,
                    kind=RemarkKind(r["kind"]),
                    party=parties[r["party"]] if r["party"] else None,
                    member=members[r["member"]] if r["member"] else None,
                    status=RemarkStatus(r["status"]),
                    text=r["text"],
                    co_parties=[
                        RemarkCoParty(
                            party=parties[cp["party"]], position=k, is_confirmed=cp["is_confirmed"]
                        )
                        for k, cp in enumerate(r["co_parties"])
                    ],
                )
            )
    session.flush()
    # A meeting imported with published minutes is searchable at once.
    index_meeting(meeting, style_dirs=style_dirs)
    return meeting
