"""The OParl 1.1 objects, built from the record as the public may see it.

Mapping (see docs/open-data.md): the municipality is the one OParl Body; our bodies
(committees) and the parties are Organizations; a member is a Person, a seat a Membership;
an agenda item's case is a Paper (its amendments are Papers too) with one Consultation;
attachments and the frozen minutes PDFs are Files. Votes and protocol remarks, for which
OParl has no type, are the vendor properties `protokol:votes` and `protokol:remarks`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import g, url_for

from meetings.models import (
    AgendaItem,
    Attachment,
    Body,
    Meeting,
    MeetingState,
    Member,
    Party,
    Seat,
    SeatRole,
)
from meetings.services import SeatedMember, body_size, present_for_meeting, seated_members
from meetings.visibility import are_minutes_public, is_agenda_public, is_item_content_public
from minutes.context import build_decision, item_tallies
from minutes.models import PublishedMinutes, RemarkKind, RemarkStatus
from minutes.oparl.common import day, latest, local_time, stamp
from minutes.oparl.popolo import MOTION_KINDS, Links, VoteSummary, agenda_item_votes, summarize
from minutes.styles import StyleError, load_style
from motions.models import Motion, MotionKind
from protokol.extensions import db
from votes.services import Tally

OPARL = "https://schema.oparl.org/1.1/"
#: The key of the one OParl Body (the municipality) in its URL.
BODY_KEY = 1

SEAT_ROLES = {
    SeatRole.CHAIR: "Formand",
    SeatRole.VICE_CHAIR: "Næstformand",
    SeatRole.MEMBER: "Medlem",
    SeatRole.SUBSTITUTE: "Stedfortræder",
}
MEETING_STATES = {
    MeetingState.PLANNED: "planlagt",
    MeetingState.IN_SESSION: "i gang",
    MeetingState.CLOSED: "afholdt",
    MeetingState.APPROVED: "protokol godkendt",
    MeetingState.PUBLISHED: "protokol offentliggjort",
}


#: Stand-ins for integer path values while a URL template is built (see `url`).
_STAND_IN = 7_919_000_000_000


def url(endpoint: str, **values: Any) -> str:
    """The absolute URL of an OParl endpoint. A page names tens of thousands of objects:
    `url_for` builds each endpoint's URL once per request, with stand-ins for its integer
    values, and the rest are formatted from that template (ten times cheaper)."""
    if not all(type(v) is int for v in values.values()):
        return url_for(f"oparl.{endpoint}", _external=True, **values)
    templates: dict[tuple[str, ...], str] = g.setdefault("oparl_url_templates", {})
    key = (endpoint, *values)
    template = templates.get(key)
    if template is None:
        stand_ins = {name: _STAND_IN + n for n, name in enumerate(values)}
        template = url_for(f"oparl.{endpoint}", _external=True, **stand_ins)
        template = template.replace("{", "{{").replace("}", "}}")
        for name, stand_in in stand_ins.items():
            template = template.replace(str(stand_in), "{" + name + "}")
        templates[key] = template
    return template.format(**values)


def _base(kind: str, object_id: str, created: datetime, modified: datetime) -> dict[str, Any]:
    return {
        "id": object_id,
        "type": OPARL + kind,
        "created": stamp(created),
        "modified": stamp(modified),
    }


def links() -> Links:
    return Links(
        vote_event=lambda vote_id: url("vote_event", vote_id=vote_id),
        party=lambda party_id: url("party", party_id=party_id),
        person=lambda member_id: url("person", member_id=member_id),
        committee=lambda body_id: url("committee", body_id=body_id),
        meeting=lambda meeting_id: url("meeting", meeting_id=meeting_id),
        paper=paper_url,
        minutes=lambda meeting_id: url_for(
            "minutes.minutes_pdf", meeting_id=meeting_id, _external=True
        ),
    )


def paper_url(motion: Motion) -> str:
    """A motion's paper: the case itself for the recommendation, else its own paper."""
    if motion.kind == MotionKind.RECOMMENDATION:
        return url("paper", item_id=motion.item_id)
    return url("motion_paper", motion_id=motion.id)


def term_start(year: int, anchor: int) -> int:
    """The first year of the 4-year municipal term (valgperiode) that holds `year`."""
    return year - (year - anchor) % 4


@dataclass
class Term:
    """A legislative term (valgperiode), derived from the meetings' dates."""

    start_year: int
    created: datetime

    @property
    def end_year(self) -> int:
        return self.start_year + 3


class Serializer:
    """Builds OParl objects; holds the settings and a page's prefetched minutes PDFs."""

    def __init__(self, config: Any):
        self.municipality: str = config["PROTOKOL_MUNICIPALITY"]
        self.website: str | None = config.get("PROTOKOL_MUNICIPALITY_WEBSITE") or None
        self.license: str | None = config.get("PROTOKOL_OPEN_DATA_LICENSE") or None
        self.term_anchor: int = int(config["PROTOKOL_TERM_ANCHOR_YEAR"])
        self.style_dirs = tuple(config["PROTOKOL_STYLE_DIRS"])
        self.links = links()
        self._minutes: dict[int, list[PublishedMinutes]] = {}
        #: Per meeting: who sits in its body on its day, and the body's size then.
        self._seated: dict[int, tuple[dict[int, SeatedMember], int]] = {}

    # --- prefetching -------------------------------------------------------------------

    def prefetch_minutes(self, meeting_ids: Iterable[int]) -> None:
        """Load the frozen minutes of these meetings in one query (newest first)."""
        wanted = {i for i in meeting_ids if i not in self._minutes}
        if not wanted:
            return
        for meeting_id in wanted:
            self._minutes[meeting_id] = []
        for published in db.session.scalars(
            sa.select(PublishedMinutes)
            .where(PublishedMinutes.meeting_id.in_(wanted))
            .order_by(PublishedMinutes.version.desc())
        ):
            self._minutes[published.meeting_id].append(published)

    def _seated_on(self, meeting: Meeting) -> tuple[dict[int, SeatedMember], int]:
        """The members seated at the meeting and the body's size, once per meeting."""
        found = self._seated.get(meeting.id)
        if found is None:
            found = (
                seated_members(meeting.body, meeting.date),
                body_size(meeting.body, meeting.date),
            )
            self._seated[meeting.id] = found
        return found

    def minutes_of(self, meeting: Meeting) -> list[PublishedMinutes]:
        self.prefetch_minutes([meeting.id])
        return self._minutes[meeting.id]

    # --- system, body, terms -----------------------------------------------------------

    def system(self, created: datetime, modified: datetime) -> dict[str, Any]:
        data = _base("System", url("system"), created, modified)
        data.update(
            {
                "oparlVersion": OPARL,
                "name": f"Protokol – {self.municipality}",
                "body": url("bodies"),
                "website": url_for("portal.home", _external=True),
            }
        )
        if self.license:
            data["license"] = self.license
        return data

    def body(self, created: datetime, modified: datetime, terms: list[Term]) -> dict[str, Any]:
        key = {"body_key": BODY_KEY}
        data = _base("Body", url("body", **key), created, modified)
        data.update(
            {
                "system": url("system"),
                "name": self.municipality,
                "classification": "Kommune",
                "organization": url("body_organizations", **key),
                "person": url("body_persons", **key),
                "meeting": url("body_meetings", **key),
                "paper": url("body_papers", **key),
                "agendaItem": url("body_agenda_items", **key),
                "consultation": url("body_consultations", **key),
                "file": url("body_files", **key),
                "membership": url("body_memberships", **key),
                "legislativeTermList": url("body_terms", **key),
                "legislativeTerm": [self.term(t) for t in terms],
                "web": url_for("portal.home", _external=True),
            }
        )
        if self.website:
            data["website"] = self.website
        if self.license:
            data["license"] = self.license
        return data

    def terms(self, meetings: Iterable[tuple[date, datetime]]) -> list[Term]:
        """The terms that hold a meeting: (meeting day, meeting created) pairs."""
        found: dict[int, datetime] = {}
        for meeting_day, created in meetings:
            start = term_start(meeting_day.year, self.term_anchor)
            found[start] = min(found.get(start, created), created)
        return [Term(start, found[start]) for start in sorted(found)]

    def term(self, term: Term) -> dict[str, Any]:
        data = _base(
            "LegislativeTerm",
            url("term", year=term.start_year),
            term.created,
            term.created,
        )
        data.update(
            {
                "body": url("body", body_key=BODY_KEY),
                "name": f"Valgperioden {term.start_year}–{term.end_year}",
                "startDate": date(term.start_year, 1, 1).isoformat(),
                "endDate": date(term.end_year, 12, 31).isoformat(),
            }
        )
        return data

    # --- organizations, persons, memberships -------------------------------------------

    def committee(self, body: Body, created: datetime, modified: datetime) -> dict[str, Any]:
        data = _base("Organization", url("committee", body_id=body.id), created, modified)
        data.update(
            {
                "body": url("body", body_key=BODY_KEY),
                "name": body.name,
                "organizationType": "Gremium",
                "classification": "Udvalg",
                "membership": [url("membership", seat_id=s.id) for s in body.seats],
                "meeting": url("committee_meetings", body_id=body.id),
                "web": url_for("portal.body", body_id=body.id, _external=True),
            }
        )
        return data

    def party(self, party: Party, created: datetime, modified: datetime) -> dict[str, Any]:
        data = _base("Organization", url("party", party_id=party.id), created, modified)
        data.update(
            {
                "body": url("body", body_key=BODY_KEY),
                "name": party.name,
                "shortName": party.letter,
                "organizationType": "Fraktion",
                "classification": "Parti",
            }
        )
        return data

    def person(self, member: Member, created: datetime, modified: datetime) -> dict[str, Any]:
        data = _base("Person", url("person", member_id=member.id), created, modified)
        data.update(
            {
                "body": url("body", body_key=BODY_KEY),
                "name": member.name,
                "membership": [
                    self.membership(s, s.created_at, s.modified_at, embedded=True)
                    for s in member.seats
                ],
            }
        )
        return data

    def membership(
        self, seat: Seat, created: datetime, modified: datetime, *, embedded: bool = False
    ) -> dict[str, Any]:
        data = _base("Membership", url("membership", seat_id=seat.id), created, modified)
        if not embedded:
            data["person"] = url("person", member_id=seat.member_id)
        data.update(
            {
                "organization": url("committee", body_id=seat.body_id),
                "role": SEAT_ROLES[seat.role],
                "votingRight": seat.role != SeatRole.SUBSTITUTE,
                "startDate": day(seat.starts_on),
            }
        )
        if seat.party_id is not None:
            data["onBehalfOf"] = url("party", party_id=seat.party_id)
        if seat.ends_on is not None:
            data["endDate"] = day(seat.ends_on)
        return data

    # --- meetings and agenda items -----------------------------------------------------

    def location(self, meeting: Meeting) -> dict[str, Any]:
        data = _base(
            "Location",
            url("location", meeting_id=meeting.id),
            meeting.created_at,
            meeting.modified_at,
        )
        data["description"] = meeting.location
        data["meetings"] = [url("meeting", meeting_id=meeting.id)]
        return data

    def meeting(self, meeting: Meeting, created: datetime, modified: datetime) -> dict[str, Any]:
        data = _base("Meeting", url("meeting", meeting_id=meeting.id), created, modified)
        data.update(
            {
                "name": f"{meeting.body.name}, møde {meeting.starts_at:%d.%m.%Y}",
                "meetingState": MEETING_STATES[meeting.state],
                "cancelled": False,
                "start": local_time(meeting.starts_at),
                "organization": [url("committee", body_id=meeting.body_id)],
                "web": url_for("portal.meeting", meeting_id=meeting.id, _external=True),
            }
        )
        if meeting.ends_at is not None:
            data["end"] = local_time(meeting.ends_at)
        if meeting.location:
            data["location"] = self.location(meeting)
        if is_agenda_public(meeting):
            data["agendaItem"] = [
                self.agenda_item(i, i.created_at, latest(i.modified_at, meeting.modified_at))
                for i in meeting.items
            ]
        if are_minutes_public(meeting):
            data["participant"] = [
                url("person", member_id=member_id) for member_id in present_for_meeting(meeting)
            ]
            versions = self.minutes_of(meeting)
            if versions:
                data["resultsProtocol"] = self.minutes_file(meeting, versions[0], versions)
        return data

    def _remarks(self, item: AgendaItem) -> list[dict[str, Any]]:
        remarks = []
        for remark in item.remarks:
            if remark.status != RemarkStatus.ACCEPTED:
                continue
            parties = [remark.party] if remark.party is not None else []
            if remark.kind == RemarkKind.JOINT:
                parties += [cp.party for cp in remark.co_parties if cp.is_confirmed]
            entry: dict[str, Any] = {
                "kind": remark.kind.value,
                "organization": [self.links.party(p.id) for p in parties],
                "shortName": [p.letter for p in parties],
                "text": remark.text,
            }
            if remark.kind == RemarkKind.PERSONAL and remark.member_id is not None:
                entry["person"] = self.links.person(remark.member_id)
            remarks.append(entry)
        return remarks

    def _resolution_text(
        self, item: AgendaItem, seated: dict[int, SeatedMember], tallies: dict[int, Tally]
    ) -> str | None:
        try:
            style = load_style(item.meeting.body.minutes_style, self.style_dirs)
        except StyleError:
            return None
        decision = build_decision(item, style, seated=seated, tallies=tallies)
        return decision.as_text().strip() if decision is not None else None

    def _result(self, item: AgendaItem) -> str | None:
        decision = getattr(item, "decision", None)
        if decision is None:
            return None
        if decision.result_text.strip():
            return decision.result_text.strip()
        try:
            style = load_style(item.meeting.body.minutes_style, self.style_dirs)
        except StyleError:
            return None
        return style.final_results.get(decision.result_key) or None

    def agenda_item(
        self, item: AgendaItem, created: datetime, modified: datetime
    ) -> dict[str, Any]:
        """An agenda item; a closed one by number and name only (`public: false`)."""
        data = _base("AgendaItem", url("agenda_item", item_id=item.id), created, modified)
        data.update(
            {
                "meeting": url("meeting", meeting_id=item.meeting_id),
                "number": str(item.number),
                "order": item.position,
                "name": item.title,
                "public": not item.is_closed,
            }
        )
        if not is_item_content_public(item):
            return data
        data["consultation"] = url("consultation", item_id=item.id)
        if are_minutes_public(item.meeting):
            result = self._result(item)
            if result:
                data["result"] = result
            seated, size = self._seated_on(item.meeting)
            tallies = item_tallies(item, seated, size)
            text = self._resolution_text(item, seated, tallies)
            if text:
                data["resolutionText"] = text
            summaries: dict[int, VoteSummary] = {
                m.vote.id: summarize(m.vote, tallies[m.vote.id])
                for m in item.motions
                if m.vote is not None
            }
            data["protokol:votes"] = agenda_item_votes(item.motions, summaries, self.links)
            data["protokol:remarks"] = self._remarks(item)
        return data

    # --- papers, consultations, files --------------------------------------------------

    def case(self, item: AgendaItem, created: datetime, modified: datetime) -> dict[str, Any]:
        """The case of an open agenda item as a Paper (reference: the case number)."""
        meeting = item.meeting
        data = _base("Paper", url("paper", item_id=item.id), created, modified)
        data.update(
            {
                "body": url("body", body_key=BODY_KEY),
                "name": item.title,
                "date": day(meeting.date),
                "paperType": "Sag",
                "underDirectionOf": [url("committee", body_id=meeting.body_id)],
                "consultation": [
                    self.consultation(item, created, latest(item.modified_at, meeting.modified_at))
                ],
                "protokol:summary": item.summary,
                "protokol:recommendation": [
                    {"leadIn": c.lead_in, "text": c.text} for c in item.clauses
                ],
                "protokol:caseText": [
                    {"heading": s.heading, "text": s.body} for s in item.sections
                ],
            }
        )
        if item.case_number:
            data["reference"] = item.case_number
        if item.administration:
            data["protokol:administration"] = item.administration
        files = [
            self.attachment(
                a, a.created_at, latest(a.modified_at, item.modified_at, meeting.modified_at)
            )
            for a in item.attachments
            if a.sha256
        ]
        if files:
            data["auxiliaryFile"] = files
        if are_minutes_public(meeting):
            motions = [m for m in item.motions if m.kind != MotionKind.RECOMMENDATION]
            if motions:
                data["subordinatedPaper"] = [paper_url(m) for m in motions]
        return data

    def motion_paper(self, motion: Motion, created: datetime, modified: datetime) -> dict[str, Any]:
        """An amendment (or another motion) as a Paper under its case."""
        item = motion.item
        kind = MOTION_KINDS[motion.kind]
        data = _base("Paper", url("motion_paper", motion_id=motion.id), created, modified)
        case = url("paper", item_id=item.id)
        data.update(
            {
                "body": url("body", body_key=BODY_KEY),
                "name": f"{kind}: {item.title}",
                "date": day(item.meeting.date),
                "paperType": kind,
                "superordinatedPaper": [case],
                "relatedPaper": [case],
                "protokol:text": motion.text,
            }
        )
        if motion.proposer_member_id is not None:
            data["originatorPerson"] = [url("person", member_id=motion.proposer_member_id)]
        if motion.proposer_party_id is not None:
            data["originatorOrganization"] = [url("party", party_id=motion.proposer_party_id)]
        if motion.proposer_name:
            data["protokol:proposer"] = motion.proposer_name
        if getattr(motion, "vote", None) is not None:
            data["protokol:voteEvent"] = url("vote_event", vote_id=motion.vote.id)
        return data

    def consultation(
        self, item: AgendaItem, created: datetime, modified: datetime
    ) -> dict[str, Any]:
        data = _base("Consultation", url("consultation", item_id=item.id), created, modified)
        data.update(
            {
                "paper": url("paper", item_id=item.id),
                "agendaItem": url("agenda_item", item_id=item.id),
                "meeting": url("meeting", meeting_id=item.meeting_id),
                "organization": [url("committee", body_id=item.meeting.body_id)],
                "role": "Behandling",
            }
        )
        return data

    def attachment(
        self, attachment: Attachment, created: datetime, modified: datetime
    ) -> dict[str, Any]:
        """An attachment (bilag) with a file, as a File."""
        data = _base("File", url("file", attachment_id=attachment.id), created, modified)
        address = url_for(
            "meetings.download_attachment", attachment_id=attachment.id, _external=True
        )
        item = attachment.item
        data.update(
            {
                "name": attachment.title,
                "fileName": attachment.file_name or f"bilag-{attachment.number}.pdf",
                "mimeType": "application/pdf",
                "accessUrl": address,
                "downloadUrl": address,
                "agendaItem": [url("agenda_item", item_id=item.id)],
                "paper": [url("paper", item_id=item.id)],
                "meeting": [url("meeting", meeting_id=item.meeting_id)],
                "protokol:sha256Checksum": attachment.sha256,
            }
        )
        if attachment.size is not None:
            data["size"] = attachment.size
        return data

    def minutes_file(
        self,
        meeting: Meeting,
        published: PublishedMinutes,
        versions: list[PublishedMinutes] | None = None,
    ) -> dict[str, Any]:
        """A frozen minutes PDF. The newest version's `accessUrl` is the meeting's minutes
        address; `downloadUrl` is always this version's own, whose bytes never change."""
        versions = versions if versions is not None else self.minutes_of(meeting)
        is_latest = bool(versions) and versions[0].id == published.id
        version_url = url_for(
            "minutes.minutes_pdf_version",
            meeting_id=meeting.id,
            version=published.version,
            _external=True,
        )
        data = _base(
            "File",
            url("minutes_file", meeting_id=meeting.id, version=published.version),
            published.created_at,
            published.created_at,
        )
        data.update(
            {
                "name": f"Beslutningsprotokol, version {published.version}",
                "fileName": (
                    f"beslutningsprotokol-{meeting.date:%Y-%m-%d}-{meeting.id}"
                    f"-v{published.version}.pdf"
                ),
                "mimeType": "application/pdf",
                "date": day(published.created_at.date()),
                "size": published.size,
                "accessUrl": self.links.minutes(meeting.id) if is_latest else version_url,
                "downloadUrl": version_url,
                "meeting": [url("meeting", meeting_id=meeting.id)],
                "protokol:sha256Checksum": published.sha256,
                "protokol:version": published.version,
                "protokol:reason": published.reason,
            }
        )
        return data

    def deleted(self, kind: str, object_id: str, created: datetime, modified: datetime):
        data = _base(kind, object_id, created, modified)
        data["deleted"] = True
        return data


#: The OParl type and URL of a deleted row, by table.
def tombstone_ids(entity: str, entity_id: int, list_name: str) -> tuple[str, str]:
    if entity == "bodies":
        return "Organization", url("committee", body_id=entity_id)
    if entity == "parties":
        return "Organization", url("party", party_id=entity_id)
    if entity == "members":
        return "Person", url("person", member_id=entity_id)
    if entity == "seats":
        return "Membership", url("membership", seat_id=entity_id)
    if entity == "meetings":
        return "Meeting", url("meeting", meeting_id=entity_id)
    if entity == "attachments":
        return "File", url("file", attachment_id=entity_id)
    if list_name == "paper":
        return "Paper", url("paper", item_id=entity_id)
    if list_name == "consultation":
        return "Consultation", url("consultation", item_id=entity_id)
    return "AgendaItem", url("agenda_item", item_id=entity_id)
