"""The minutes as data: what each item's decision section says, built from the record.

Pure functions of the record (no Flask): the CLI, the views and the tests share them.
The dictionaries passed to a style's templates are documented in `docs/styles.md`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from meetings.models import AgendaItem, Body, Meeting
from meetings.services import (
    SeatedMember,
    body_size,
    present_for_item,
    present_for_meeting,
    seated_members,
    sort_parties,
)
from minutes.models import (
    Correction,
    MinutesApproval,
    ProtocolRemark,
    RemarkKind,
    RemarkStatus,
)
from minutes.oparl.queries import meeting_options
from minutes.styles import Style, load_style
from motions.models import Motion
from votes.models import ResultMode, Vote
from votes.services import Side, Tally, tally

_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")


@dataclass
class DecisionText:
    """An item's decision section: a heading and blocks (paragraphs; a newline inside a
    block is a line break)."""

    heading: str
    blocks: list[str]

    def as_text(self) -> str:
        return "\n\n".join([self.heading, *self.blocks]) + "\n"


@dataclass
class ItemMinutes:
    """One agenda item as the minutes show it."""

    item: AgendaItem
    #: A closed item in public minutes: number and title only.
    is_redacted: bool
    decision: DecisionText | None
    #: Corrections (addenda) appended after approval, oldest first.
    corrections: list[Correction] = field(default_factory=list)


@dataclass
class MeetingMinutes:
    """The minutes of a meeting (or of some of its items)."""

    meeting: Meeting
    style: Style
    items: list[ItemMinutes]
    is_public: bool
    present: list[SeatedMember] = field(default_factory=list)
    absent: list[SeatedMember] = field(default_factory=list)
    #: The members' approvals (the signature page), in the order given.
    approvals: list[MinutesApproval] = field(default_factory=list)
    #: Corrections to the minutes as a whole (not to one item).
    corrections: list[Correction] = field(default_factory=list)
    #: Not yet published: shown only to the people who work on it, marked UDKAST.
    is_draft: bool = False

    @property
    def title(self) -> str:
        title = f"{self.meeting.body.name}: beslutningsprotokol {self.meeting.date:%d.%m.%Y}"
        return f"UDKAST – {title}" if self.is_draft else title


def split_blocks(text: str) -> list[str]:
    """Split text into blocks at blank lines; trailing spaces go, line breaks stay."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = []
    for raw in _BLANK_LINES.split(text):
        block = "\n".join(line.rstrip() for line in raw.strip("\n").split("\n")).strip()
        if block:
            blocks.append(block)
    return blocks


def member_label(seated: SeatedMember | None, name: str, style: Style) -> str:
    """ "Mogens Lønborg (C)", or "Navn (løsgænger)" for an independent."""
    if seated is None:
        return name
    if seated.party is None:
        return f"{name} ({style.labels.get('independent', 'løsgænger')})"
    return f"{name} ({seated.party.letter})"


def side_context(side: Side, style: Style) -> dict[str, Any]:
    """A side of a vote for the style: its count and its labels in the body's order."""
    labels: list[str] = []
    for entry in side.entries:
        if entry.party is not None and entry.is_whole_party:
            labels.append(entry.party.letter)
        else:
            labels.extend(member_label(m, m.member.name, style) for m in entry.members)
    return {
        "count": side.count,
        "labels": labels,
        "parties": [e.party.letter for e in side.entries if e.party and e.is_whole_party],
        "members": [
            member_label(m, m.member.name, style)
            for e in side.entries
            if not (e.party and e.is_whole_party)
            for m in e.members
        ],
    }


def vote_context(result: Tally, style: Style) -> dict[str, Any]:
    sides = {p.value: side_context(s, style) for p, s in result.sides.items()}
    return {
        "without_vote": result.is_without_vote,
        "outcome": result.outcome.value if result.outcome else None,
        "sides": sides,
        "votes_cast": result.votes_cast,
        #: Whether any position is recorded (an empty vote prints no vote lines).
        "recorded": any(side.count for side in result.sides.values()),
        "present": len(result.present),
        "body_size": result.body_size,
        "not_voting": [member_label(m, m.member.name, style) for m in result.not_voting],
    }


def motion_context(
    motion: Motion,
    seated: dict[int, SeatedMember],
    style: Style,
    *,
    present: dict[int, SeatedMember] | None = None,
    size: int | None = None,
    counted: Tally | None = None,
) -> dict[str, Any]:
    """A motion, its vote and its result sentence, for the style. `present` and `size` are
    the item's, passed on to `tally` when the caller has them; `counted` is the vote's
    tally when the caller has that already."""
    if motion.proposer_member is not None:
        member = motion.proposer_member
        proposer = {
            "kind": "member",
            "name": member.name,
            "party": seated[member.id].party.letter
            if member.id in seated and seated[member.id].party
            else None,
            "label": member_label(seated.get(member.id), member.name, style),
        }
    elif motion.proposer_party is not None:
        party = motion.proposer_party
        proposer = {"kind": "party", "name": party.name, "party": party.letter, "label": party.name}
    else:
        name = motion.proposer_name or motion.item.administration
        proposer = {"kind": "other", "name": name, "party": None, "label": name}

    vote = getattr(motion, "vote", None)
    vote_ctx = None
    result = None
    if vote is not None:
        if counted is None:
            counted = tally(vote, present=present, size=size)
        vote_ctx = vote_context(counted, style)
        if vote.result_mode == ResultMode.CUSTOM:
            result = vote.result_text.strip() or None
        elif vote.result_mode == ResultMode.DEFAULT and counted.outcome is not None:
            result = (
                style.result_sentence(
                    motion.kind.value, counted.outcome.value, without_vote=vote.is_without_vote
                )
                or None
            )
    return {
        "kind": motion.kind.value,
        "kind_label": style.labels.get(motion.kind.value, motion.kind.value),
        "proposer": proposer,
        "text": "\n\n".join(split_blocks(motion.text)),
        "vote": vote_ctx,
        "result": result,
    }


def remark_context(
    remark: ProtocolRemark, seated: dict[int, SeatedMember], style: Style
) -> dict[str, Any]:
    parties = []
    if remark.party is not None:
        parties.append(remark.party)
    if remark.kind == RemarkKind.JOINT:
        parties += [cp.party for cp in remark.co_parties if cp.is_confirmed]
    member = None
    if remark.member is not None:
        member = member_label(seated.get(remark.member.id), remark.member.name, style)
    body: Body = remark.item.meeting.body
    parties = sort_parties(body, parties)
    return {
        "kind": remark.kind.value,
        "parties": [p.letter for p in parties],
        "party_names": [p.name for p in parties],
        "member": member,
        "text": "\n\n".join(split_blocks(remark.text)),
    }


def motions_with_votes() -> LoaderOption:
    """Loads an item's motions with their proposers and votes (relative to `AgendaItem`):
    what `motion_context` and `item_tallies` read, one statement a collection."""
    return selectinload(AgendaItem.motions).options(
        joinedload(Motion.proposer_member),
        joinedload(Motion.proposer_party),
        joinedload(Motion.vote).options(
            selectinload(Vote.party_votes), selectinload(Vote.member_votes)
        ),
    )


def minutes_options() -> list[LoaderOption]:
    """Everything the minutes of a meeting read (relative to `Meeting`): the API's loading
    of a meeting with its items' case content (`minutes.oparl.queries`), and each item's
    signatories, one statement a collection."""
    return meeting_options(selectinload(AgendaItem.signatories), content=True)


def load_minutes_record(meeting: Meeting) -> None:
    """Load what `build_minutes` reads of `meeting` (`minutes_options`) in a fixed number
    of statements, instead of one lazy load per item and collection."""
    from protokol.extensions import db

    db.session.scalars(
        sa.select(Meeting).where(Meeting.id == meeting.id).options(*minutes_options())
    ).one()


def item_tallies(
    item: AgendaItem, seated: dict[int, SeatedMember] | None = None, size: int | None = None
) -> dict[int, Tally]:
    """The tally of each vote of the item, by vote id: the members present and the body's
    size computed once for all of them. `seated` as for `present_for_item`, `size` the
    body's on the meeting's day, when the caller has them."""
    votes = [m.vote for m in item.motions if getattr(m, "vote", None) is not None]
    if not votes:
        return {}
    meeting = item.meeting
    present = present_for_item(item, seated)
    if size is None:
        size = body_size(meeting.body, meeting.date)
    return {v.id: tally(v, present=present, size=size) for v in votes}


def decision_context(
    item: AgendaItem,
    style: Style,
    *,
    seated: dict[int, SeatedMember] | None = None,
    size: int | None = None,
    tallies: dict[int, Tally] | None = None,
) -> dict[str, Any]:
    """Everything a style's templates see for one item's decision section. `seated`
    (`seated_members`) and `size` (`body_size`) are the meeting's, `tallies` the item's
    (`item_tallies`), when the caller has them."""
    meeting = item.meeting
    if seated is None:
        seated = seated_members(meeting.body, meeting.date)
    motions = item.motions
    if tallies is None:
        tallies = item_tallies(item, seated, size)
    decision = getattr(item, "decision", None)
    final = None
    if decision is not None:
        final = decision.result_text.strip() or style.final_results.get(decision.result_key)
    remarks = [r for r in item.remarks if r.status == RemarkStatus.ACCEPTED]
    return {
        "body": {"name": meeting.body.name, "genitive_name": meeting.body.genitive_name},
        "meeting": {
            "starts_at": meeting.starts_at,
            "date": meeting.date,
            "location": meeting.location,
        },
        "item": {"number": item.number, "title": item.title, "case_number": item.case_number},
        "motions": [
            motion_context(
                m,
                seated,
                style,
                counted=tallies.get(m.vote.id) if getattr(m, "vote", None) is not None else None,
            )
            for m in motions
        ],
        "decision": {"result": final or None},
        "remarks": [remark_context(r, seated, style) for r in remarks],
    }


def has_decision(context: dict[str, Any]) -> bool:
    return bool(context["motions"] or context["decision"]["result"] or context["remarks"])


def build_decision(
    item: AgendaItem,
    style: Style,
    *,
    seated: dict[int, SeatedMember] | None = None,
    size: int | None = None,
    tallies: dict[int, Tally] | None = None,
) -> DecisionText | None:
    """Render the item's decision section in `style`; None when nothing is recorded.
    `seated`, `size` and `tallies` as for `decision_context`."""
    context = decision_context(item, style, seated=seated, size=size, tallies=tallies)
    if not has_decision(context):
        return None
    heading = " ".join(style.render("heading.txt.j2", context).split())
    return DecisionText(heading, split_blocks(style.render("decision.txt.j2", context)))


def build_minutes(
    meeting: Meeting,
    *,
    item_numbers: list[int] | None = None,
    is_public: bool = True,
    style_dirs: tuple[str, ...] | list[str] = (),
    style_name: str | None = None,
) -> MeetingMinutes:
    """The minutes of `meeting` (or of the items numbered `item_numbers`).

    Public minutes show closed items (lukkede punkter) by number and title only.
    """
    style = load_style(style_name or meeting.body.minutes_style, tuple(style_dirs))
    items = [i for i in meeting.items if item_numbers is None or i.number in item_numbers]
    from protokol.extensions import db

    all_corrections = list(
        db.session.scalars(
            sa.select(Correction)
            .where(Correction.meeting_id == meeting.id)
            .order_by(Correction.created_at, Correction.id)
        )
    )
    approvals = list(
        db.session.scalars(
            sa.select(MinutesApproval)
            .where(MinutesApproval.meeting_id == meeting.id)
            .options(joinedload(MinutesApproval.member))
            .order_by(MinutesApproval.created_at, MinutesApproval.id)
        )
    )
    seated = seated_members(meeting.body, meeting.date)
    size = body_size(meeting.body, meeting.date)
    result = []
    for item in items:
        redacted = is_public and item.is_closed
        decision = None if redacted else build_decision(item, style, seated=seated, size=size)
        item_corrections = [c for c in all_corrections if c.item_id == item.id]
        result.append(ItemMinutes(item, redacted, decision, [] if redacted else item_corrections))
    present = present_for_meeting(meeting, seated)
    rank = {bp.party_id: bp.position for bp in meeting.body.party_order}

    def order(s: SeatedMember) -> tuple[int, str]:
        return (rank.get(s.party.id, len(rank)) if s.party else len(rank) + 1, s.member.name)

    return MeetingMinutes(
        meeting=meeting,
        style=style,
        items=result,
        is_public=is_public,
        approvals=approvals,
        corrections=[c for c in all_corrections if c.item_id is None],
        present=sorted(present.values(), key=order),
        absent=sorted(
            (
                s
                for mid, s in seated.items()
                if mid not in present and s.role.value != "stedfortraeder"
            ),
            key=order,
        ),
    )
