"""Services for the record's frame: who sits in a body and who is present for an item;
and the secretary's preparation of meetings, agendas, items, attachments and attendance."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from meetings.locking import RecordLocked, ensure_editable, is_locked
from meetings.models import (
    AgendaItem,
    Attachment,
    Body,
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
from meetings.storage import is_pdf, store_file
from protokol.accounts.models import User
from protokol.extensions import db
from protokol.ordering import Positioned, compact, delete_from, move, next_position, ordered


@dataclass(frozen=True)
class SeatedMember:
    """A member as seated in a body on a given day: their party (None: independent)."""

    member: Member
    party: Party | None
    role: SeatRole

    @property
    def is_independent(self) -> bool:
        return self.party is None

    @property
    def label(self) -> str:
        """ "Mogens Lønborg (C)"; an independent's name stands alone."""
        if self.party is None:
            return self.member.name
        return f"{self.member.name} ({self.party.letter})"


def party_rank(body: Body) -> dict[int, int]:
    """Map party id → place in the body's order; parties outside it sort after."""
    return {bp.party_id: bp.position for bp in body.party_order}


def sort_parties(body: Body, parties: list[Party]) -> list[Party]:
    """Order parties the body's way; parties not in its order follow alphabetically."""
    rank = party_rank(body)
    return sorted(parties, key=lambda p: (rank.get(p.id, len(rank)), p.letter))


def seats_on(body: Body, day: date) -> list[Seat]:
    """The seats held in `body` on `day`."""
    return [s for s in body.seats if s.is_active_on(day)]


def seated_members(body: Body, day: date) -> dict[int, SeatedMember]:
    """Members seated in `body` on `day`, keyed by member id.

    A member with two overlapping seats (a data error) keeps the later-starting one.
    """
    result: dict[int, SeatedMember] = {}
    for seat in sorted(seats_on(body, day), key=lambda s: s.starts_on):
        result[seat.member_id] = SeatedMember(seat.member, seat.party, seat.role)
    return result


def body_size(body: Body, day: date) -> int:
    """The number of regular seats (substitutes not counted) in `body` on `day`."""
    return sum(1 for s in seats_on(body, day) if s.role != SeatRole.SUBSTITUTE)


def present_for_meeting(
    meeting: Meeting, seated: dict[int, SeatedMember] | None = None
) -> dict[int, SeatedMember]:
    """Members recorded present at the meeting (fremmøde), keyed by member id. `seated` is
    `seated_members` of the meeting's body and day, when the caller has it already."""
    if seated is None:
        seated = seated_members(meeting.body, meeting.date)
    return {
        a.member_id: seated[a.member_id]
        for a in meeting.attendance
        if a.is_present and a.member_id in seated
    }


def parties_present(body: Body, present: dict[int, SeatedMember]) -> list[Party]:
    """The parties with members among `present`, in the body's order."""
    return sort_parties(
        body, list({s.party.id: s.party for s in present.values() if s.party}.values())
    )


def present_for_item(
    item: AgendaItem, seated: dict[int, SeatedMember] | None = None
) -> dict[int, SeatedMember]:
    """Members taking part in `item`: the meeting's attendance with the item's exceptions
    (arrived late, left, inhabil) applied. `seated` as for `present_for_meeting`."""
    meeting = item.meeting
    if seated is None:
        seated = seated_members(meeting.body, meeting.date)
    present = present_for_meeting(meeting, seated)
    for exception in item.attendance:
        if exception.presence == ItemPresence.PRESENT:
            if exception.member_id in seated:
                present[exception.member_id] = seated[exception.member_id]
        else:
            present.pop(exception.member_id, None)
    return present


# --- preparation (forberedelse) ---------------------------------------------------------
#
# The secretary's changes to a meeting before and during it. Every function takes the
# acting user, checks that they manage the meeting's body and that the record is not
# locked (`meetings.locking`: approved or published minutes), changes the rows, and
# flushes; the caller commits. Refusals raise `PreparationError` (or its subclasses) and
# `meetings.locking.RecordLocked`.


class PreparationError(Exception):
    """A change cannot be made as asked. `message` is Danish, for the user; `field` names
    the form field it concerns, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(PreparationError):
    """The acting user does not manage the meeting's body."""


class WrongState(PreparationError):
    """The change is not possible in the meeting's present state."""


class FileTooLarge(PreparationError):
    """An attachment file is larger than allowed."""


#: States in which an agenda item may still be deleted.
ITEM_DELETABLE_STATES = frozenset({MeetingState.PLANNED, MeetingState.IN_SESSION})

Direction = Literal["up", "down"]


def lock_reason(meeting: Meeting) -> str | None:
    """Why the meeting's record can no longer change (None while it can)."""
    return str(RecordLocked(meeting)) if is_locked(meeting) else None


def check_editable(meeting: Meeting, actor: User) -> None:
    """Raise `NotAllowed` unless `actor` manages the meeting's body, and
    `meetings.locking.RecordLocked` once the minutes are approved (approved, published)."""
    if not actor.may_manage_body(meeting.body_id):
        raise NotAllowed(_l("Du har ikke adgang til at ændre møder i dette udvalg."))
    ensure_editable(meeting)


def _move(rows: Sequence[Positioned], row: Positioned, direction: Direction) -> None:
    """Swap `row` with its neighbour above or below; nothing at either end."""
    if direction not in ("up", "down"):
        raise PreparationError(_l("Vælg op eller ned."), field="direction")
    move(rows, row, -1 if direction == "up" else 1)


# --- meetings ----------------------------------------------------------------------------


def default_presence(seated: SeatedMember) -> bool:
    """Present by default, except substitutes (stedfortrædere), who are absent."""
    return seated.role != SeatRole.SUBSTITUTE


def _order_seated(body: Body, seated: Sequence[SeatedMember]) -> list[SeatedMember]:
    """In the body's party order, independents last, then by name."""
    rank = party_rank(body)

    def key(s: SeatedMember) -> tuple:
        if s.party is None:
            return (1, 0, "", s.member.name)
        return (0, rank.get(s.party.id, len(rank)), s.party.letter, s.member.name)

    return sorted(seated, key=key)


def _check_time_free(body: Body, starts_at: datetime, meeting: Meeting | None = None) -> None:
    query = sa.select(Meeting.id).where(Meeting.body_id == body.id, Meeting.starts_at == starts_at)
    if meeting is not None and meeting.id is not None:
        query = query.where(Meeting.id != meeting.id)
    if db.session.scalar(query) is not None:
        raise PreparationError(
            f"{body.name} har allerede et møde {starts_at:%d.%m.%Y kl. %H.%M}.", field="date"
        )


def _add_missing_attendance(meeting: Meeting) -> None:
    """An attendance row, with the default presence, for every seated member without one."""
    have = {a.member_id for a in meeting.attendance}
    for seated in _order_seated(
        meeting.body, list(seated_members(meeting.body, meeting.date).values())
    ):
        if seated.member.id not in have:
            meeting.attendance.append(
                MeetingAttendance(
                    meeting_id=meeting.id,
                    member=seated.member,
                    is_present=default_presence(seated),
                )
            )


def create_meeting(body: Body, starts_at: datetime, location: str, *, actor: User) -> Meeting:
    """Create a planned meeting with an attendance row for each member seated on its date."""
    if not actor.may_manage_body(body.id):
        raise NotAllowed(_l("Du har ikke adgang til at oprette møder i dette udvalg."))
    _check_time_free(body, starts_at)
    meeting = Meeting(body=body, starts_at=starts_at, location=location, state=MeetingState.PLANNED)
    db.session.add(meeting)
    _add_missing_attendance(meeting)
    db.session.flush()
    return meeting


def publish_agenda(meeting: Meeting, *, actor: User) -> Meeting:
    """Make a planned meeting's agenda public (offentliggør dagsordenen): from now on the
    public sees its items, and the open items' recommendation, case text and attachments.
    Opening the meeting publishes it at the latest (`minutes.lifecycle.start_meeting`)."""
    from protokol.models import utcnow

    check_editable(meeting, actor)
    if meeting.agenda_published_at is not None:
        raise WrongState(
            f"Dagsordenen blev offentliggjort {meeting.agenda_published_at:%d.%m.%Y kl. %H.%M}"
            " (UTC)."
        )
    if meeting.state != MeetingState.PLANNED:
        raise WrongState("Mødet er begyndt; dagsordenen er allerede offentlig.")
    if not meeting.items:
        raise WrongState("Dagsordenen har ingen punkter endnu.")
    meeting.agenda_published_at = utcnow()
    db.session.flush()
    return meeting


def update_meeting(meeting: Meeting, starts_at: datetime, location: str, *, actor: User) -> None:
    """Change a meeting's start and place. A known end moves with the start; members seated
    on a new date get an attendance row."""
    check_editable(meeting, actor)
    if starts_at != meeting.starts_at:
        _check_time_free(meeting.body, starts_at, meeting)
        if meeting.ends_at is not None:
            meeting.ends_at = meeting.ends_at + (starts_at - meeting.starts_at)
        meeting.starts_at = starts_at
    meeting.location = location
    _add_missing_attendance(meeting)
    db.session.flush()


# --- agenda items ------------------------------------------------------------------------


def next_item_number(meeting: Meeting) -> int:
    """The number after the highest on the agenda (1 on an empty agenda)."""
    return max((i.number for i in meeting.items), default=0) + 1


def _check_item_number_free(meeting: Meeting, number: int, item: AgendaItem | None = None) -> None:
    if any(i.number == number and i is not item for i in meeting.items):
        raise PreparationError(
            _l("Der er allerede et punkt nummer %(number)s på dagsordenen.", number=number),
            field="number",
        )


def add_item(
    meeting: Meeting,
    *,
    title: str,
    number: int | None = None,
    case_number: str = "",
    is_closed: bool = False,
    actor: User,
) -> AgendaItem:
    """Add an item at the end of the agenda; the number defaults to the next free one."""
    check_editable(meeting, actor)
    number = number or next_item_number(meeting)
    _check_item_number_free(meeting, number)
    item = AgendaItem(
        # The id as well as the relationship: the lock in `meetings.locking` finds the
        # meeting of a new row by `audit_scope()`, which reads `meeting_id`.
        meeting_id=meeting.id,
        number=number,
        position=next_position(meeting.items),
        title=title,
        case_number=case_number,
        is_closed=is_closed,
    )
    meeting.items.append(item)
    db.session.flush()
    return item


def update_item(
    item: AgendaItem,
    *,
    number: int,
    title: str,
    case_number: str,
    administration: str,
    summary: str,
    is_closed: bool,
    actor: User,
) -> None:
    """Change an item's number, title, case number, administration, summary and closedness."""
    check_editable(item.meeting, actor)
    _check_item_number_free(item.meeting, number, item)
    item.number = number
    item.title = title
    item.case_number = case_number
    item.administration = administration
    item.summary = summary
    item.is_closed = is_closed
    db.session.flush()


def set_item_closed(item: AgendaItem, is_closed: bool, *, actor: User) -> None:
    """Mark an item closed (lukket punkt) or open."""
    check_editable(item.meeting, actor)
    item.is_closed = is_closed
    db.session.flush()


def move_item(item: AgendaItem, direction: Direction, *, actor: User) -> None:
    """Move an item one place up or down the agenda (its number is kept)."""
    check_editable(item.meeting, actor)
    _move(item.meeting.items, item, direction)
    db.session.flush()


def renumber_items(meeting: Meeting, *, actor: User) -> None:
    """Number the items 1..n in agenda order.

    Numbers are unique per meeting at every moment (PostgreSQL checks each row), so items
    move to a number no one holds; only a cycle (2 ↔ 1) passes through a spare number.
    """
    check_editable(meeting, actor)
    items = ordered(meeting.items)
    targets = {id(item): n for n, item in enumerate(items, start=1)}
    pending = [item for item in items if item.number != targets[id(item)]]
    while pending:
        held = {item.number for item in meeting.items}
        movable = [item for item in pending if targets[id(item)] not in held]
        if movable:
            for item in movable:
                item.number = targets[id(item)]
        else:
            pending[0].number = max(held | set(targets.values())) + 1
        db.session.flush()
        pending = [item for item in pending if item.number != targets[id(item)]]
    compact(meeting.items)
    db.session.flush()


def delete_item(item: AgendaItem, *, actor: User) -> None:
    """Delete an item with everything under it; only while the meeting is planned or in
    session."""
    meeting = item.meeting
    check_editable(meeting, actor)
    if meeting.state not in ITEM_DELETABLE_STATES:
        raise WrongState(_l("Punkter kan kun slettes, mens mødet er planlagt eller i gang."))
    delete_from(meeting, "items", item)
    compact(meeting.items)
    db.session.flush()


# --- recommendation clauses and case sections -----------------------------------------


def add_clause(item: AgendaItem, lead_in: str, text: str, *, actor: User) -> RecommendationClause:
    """Add a recommendation clause at the end."""
    check_editable(item.meeting, actor)
    clause = RecommendationClause(position=next_position(item.clauses), lead_in=lead_in, text=text)
    item.clauses.append(clause)
    db.session.flush()
    return clause


def update_clause(clause: RecommendationClause, lead_in: str, text: str, *, actor: User) -> None:
    """Change a clause's lead-in and text."""
    check_editable(clause.item.meeting, actor)
    clause.lead_in = lead_in
    clause.text = text
    db.session.flush()


def move_clause(clause: RecommendationClause, direction: Direction, *, actor: User) -> None:
    """Move a clause one place up or down (this changes its number)."""
    check_editable(clause.item.meeting, actor)
    _move(clause.item.clauses, clause, direction)
    db.session.flush()


def delete_clause(clause: RecommendationClause, *, actor: User) -> None:
    """Delete a clause; the ones after it move up."""
    item = clause.item
    check_editable(item.meeting, actor)
    delete_from(item, "clauses", clause)
    compact(item.clauses)
    db.session.flush()


def add_section(item: AgendaItem, heading: str, body: str, *, actor: User) -> CaseSection:
    """Add a case section at the end."""
    check_editable(item.meeting, actor)
    section = CaseSection(position=next_position(item.sections), heading=heading, body=body)
    item.sections.append(section)
    db.session.flush()
    return section


def update_section(section: CaseSection, heading: str, body: str, *, actor: User) -> None:
    """Change a case section's heading and body."""
    check_editable(section.item.meeting, actor)
    section.heading = heading
    section.body = body
    db.session.flush()


def move_section(section: CaseSection, direction: Direction, *, actor: User) -> None:
    """Move a case section one place up or down."""
    check_editable(section.item.meeting, actor)
    _move(section.item.sections, section, direction)
    db.session.flush()


def delete_section(section: CaseSection, *, actor: User) -> None:
    """Delete a case section."""
    item = section.item
    check_editable(item.meeting, actor)
    delete_from(item, "sections", section)
    compact(item.sections)
    db.session.flush()


def set_signatories(item: AgendaItem, names: Sequence[str], *, actor: User) -> None:
    """Make the item's signatories `names`, in order (rows are kept and renamed where they
    can be, so the audit trail shows what changed)."""
    check_editable(item.meeting, actor)
    existing = ordered(item.signatories)
    for position, name in enumerate(names):
        if position < len(existing):
            row = existing[position]
            if row.name != name:
                row.name = name
            if row.position != position:
                row.position = position
        else:
            item.signatories.append(ItemSignatory(position=position, name=name))
    db.session.flush()
    for row in existing[len(names) :]:
        delete_from(item, "signatories", row)


# --- attachments (bilag) ---------------------------------------------------------------

#: Letters kept in file names besides ASCII: Latin-1 and Latin Extended-A (æ, ø, å, é, ü…).
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f]")
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{n}" for n in range(1, 10)}
    | {f"LPT{n}" for n in range(1, 10)}
)
MAX_FILE_NAME = 200


def clean_file_name(name: str, fallback: str = "bilag") -> str:
    """A safe file name to offer for download, like `werkzeug.utils.secure_filename` but
    keeping Danish and other Latin letters: "../Udkast til politik (æøå).PDF" →
    "Udkast_til_politik_æøå.pdf". Always ends in ".pdf"."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _NAME_UNSAFE.sub("", "_".join(name.split()))
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    stem = stem.strip("._-")[:MAX_FILE_NAME].strip("._-")
    if stem.split(".")[0].upper() in _WINDOWS_DEVICES:
        stem = f"_{stem}"
    return f"{stem or fallback}.pdf"


def format_size(size: int) -> str:
    """ "15 MB", "2,5 MB", "300 kB", "12 bytes"."""
    if size >= 1024 * 1024:
        value, unit = size / (1024 * 1024), "MB"
    elif size >= 1024:
        value, unit = size / 1024, "kB"
    else:
        return f"{size} bytes"
    text = f"{value:.1f}".replace(".", ",")
    return f"{text.removesuffix(',0')} {unit}"


def next_attachment_number(item: AgendaItem) -> int:
    """The number after the item's highest attachment number (1 for the first)."""
    return max((a.number for a in item.attachments), default=0) + 1


def _check_attachment_number_free(
    item: AgendaItem, number: int, attachment: Attachment | None = None
) -> None:
    if any(a.number == number and a is not attachment for a in item.attachments):
        raise PreparationError(
            _l("Punktet har allerede et bilag nummer %(number)s.", number=number), field="number"
        )


def add_attachment(
    item: AgendaItem,
    *,
    data: bytes,
    file_name: str,
    title: str = "",
    number: int | None = None,
    directory: str | os.PathLike,
    max_bytes: int,
    actor: User,
) -> Attachment:
    """Attach a PDF file: checked by its content and size, stored by its checksum in
    `directory`; the title defaults to the file name."""
    check_editable(item.meeting, actor)
    if len(data) > max_bytes:
        raise FileTooLarge(
            _l("Filen er for stor. Et bilag må højst fylde %(size)s.", size=format_size(max_bytes)),
            field="file",
        )
    if not data:
        raise PreparationError(_l("Filen er tom."), field="file")
    if not is_pdf(data):
        raise PreparationError(
            _l("Filen er ikke en PDF-fil. Kun PDF-filer kan vedhæftes som bilag."), field="file"
        )
    number = number or next_attachment_number(item)
    _check_attachment_number_free(item, number)
    shown = clean_file_name(file_name, fallback=f"bilag-{number}")
    title = title or shown[:-4].replace("_", " ")
    sha256, size = store_file(directory, data)
    attachment = Attachment(
        number=number, title=title[:500], file_name=shown, sha256=sha256, size=size
    )
    item.attachments.append(attachment)
    db.session.flush()
    return attachment


def update_attachment(attachment: Attachment, number: int, title: str, *, actor: User) -> None:
    """Change an attachment's number and title."""
    item = attachment.item
    check_editable(item.meeting, actor)
    _check_attachment_number_free(item, number, attachment)
    attachment.number = number
    attachment.title = title
    db.session.flush()


def delete_attachment(attachment: Attachment, *, actor: User) -> None:
    """Remove an attachment from its item. The stored file stays: files are shared by
    content, and the audit trail refers to the checksum."""
    item = attachment.item
    check_editable(item.meeting, actor)
    delete_from(item, "attachments", attachment)


def may_download(attachment: Attachment, user: User | None) -> bool:
    """Everyone may download the attachments of open items; those of closed items only
    admins and the body's secretaries."""
    if not attachment.item.is_closed:
        return True
    return user is not None and user.may_manage_body(attachment.item.meeting.body_id)


# --- attendance (fremmøde) ---------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRow:
    """A seated member's recorded (or default) attendance, and their item exception."""

    seated: SeatedMember
    is_present: bool
    note: str
    #: The exception for the chosen item, if any.
    item_presence: ItemPresence | None = None


def attendance_rows(meeting: Meeting, item: AgendaItem | None = None) -> list[AttendanceRow]:
    """The members seated on the meeting's date in the body's order, with their attendance
    (the default where none is recorded) and, given an item, its exceptions."""
    recorded = {a.member_id: a for a in meeting.attendance}
    exceptions = {e.member_id: e.presence for e in item.attendance} if item else {}
    rows = []
    for seated in _order_seated(
        meeting.body, list(seated_members(meeting.body, meeting.date).values())
    ):
        row = recorded.get(seated.member.id)
        rows.append(
            AttendanceRow(
                seated=seated,
                is_present=row.is_present if row else default_presence(seated),
                note=row.note if row else "",
                item_presence=exceptions.get(seated.member.id),
            )
        )
    return rows


def set_attendance(meeting: Meeting, entries: dict[int, tuple[bool, str]], *, actor: User) -> None:
    """Record who attended (member id → (present, note)); only seated members."""
    check_editable(meeting, actor)
    seated = seated_members(meeting.body, meeting.date)
    unknown = set(entries) - set(seated)
    if unknown:
        raise PreparationError(_l("Der er medlemmer på listen, som ikke har sæde i udvalget."))
    recorded = {a.member_id: a for a in meeting.attendance}
    for member_id, (is_present, note) in entries.items():
        row = recorded.get(member_id)
        if row is None:
            meeting.attendance.append(
                MeetingAttendance(
                    meeting_id=meeting.id,
                    member=seated[member_id].member,
                    is_present=is_present,
                    note=note,
                )
            )
            continue
        if row.is_present != is_present:
            row.is_present = is_present
        if row.note != note:
            row.note = note
    db.session.flush()


def set_item_attendance(
    item: AgendaItem, presences: dict[int, ItemPresence | None], *, actor: User
) -> None:
    """Record the item's exceptions (member id → presence; None: as at the meeting)."""
    meeting = item.meeting
    check_editable(meeting, actor)
    seated = seated_members(meeting.body, meeting.date)
    if set(presences) - set(seated):
        raise PreparationError(_l("Der er medlemmer på listen, som ikke har sæde i udvalget."))
    recorded: dict[int, ItemAttendance] = {e.member_id: e for e in item.attendance}
    for member_id, presence in presences.items():
        row = recorded.get(member_id)
        if presence is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            item.attendance.append(
                ItemAttendance(member=seated[member_id].member, presence=presence)
            )
        elif row.presence != presence:
            row.presence = presence
    db.session.flush()
    db.session.expire(item, ["attendance"])
