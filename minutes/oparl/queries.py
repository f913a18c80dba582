"""What each list of the API holds, and how it is loaded.

Each list is made of one or more `Source`s: a model, the joins and visibility conditions
(in SQL, so that counts and pages never include, or reveal, a hidden object), and the SQL
expressions of its `created` and `modified` time stamps (which the date filters use and
which the page shows). Pages load with `selectinload`/`joinedload`: a page costs the same
number of queries whatever it holds.

`modified` of an object is the latest change to it or to anything that decides what it
shows: an agenda item is modified when its meeting is (the agenda made public, the
minutes published), a meeting when any of its items is or a minutes PDF is frozen.
Deleted objects come from the audit trail (`protokol.audit`): its delete entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from meetings.models import (
    AgendaItem,
    Attachment,
    Body,
    Meeting,
    Member,
    Party,
    Seat,
)
from meetings.visibility import agenda_public_clause, minutes_public_clause
from minutes.models import ProtocolRemark, PublishedMinutes, RemarkCoParty
from minutes.oparl.common import ListQuery, greatest
from motions.models import Motion, MotionKind
from protokol.audit import AuditAction, AuditEntry
from protokol.extensions import db
from votes.models import MemberVote, PartyVote, Vote


def _max_of(column: Any, *where: Any) -> sa.ScalarSelect:
    return sa.select(sa.func.max(column)).where(*where).scalar_subquery()


def _newest(own: Any, *others: Any) -> sa.ColumnElement:
    """The latest of `own` (never NULL) and scalar subqueries (NULL when empty)."""
    return greatest(own, *(sa.func.coalesce(o, own) for o in others))


# --- loading --------------------------------------------------------------------------


def body_options() -> LoaderOption:
    """A committee with its seats and party order (who sits, for the vote counts)."""
    return joinedload(Meeting.body).options(
        selectinload(Body.seats).options(joinedload(Seat.party), joinedload(Seat.member)),
        selectinload(Body.party_order),
    )


def item_subtree(*, content: bool = False) -> list[LoaderOption]:
    """Everything an agenda item's serialization reads (relative to AgendaItem); with
    `content`, also what its case (Paper) shows: attachments, recommendation, case text."""
    return [
        *(
            [
                selectinload(AgendaItem.attachments),
                selectinload(AgendaItem.clauses),
                selectinload(AgendaItem.sections),
            ]
            if content
            else []
        ),
        selectinload(AgendaItem.attendance),
        selectinload(AgendaItem.decision),
        selectinload(AgendaItem.motions).options(
            joinedload(Motion.proposer_member),
            joinedload(Motion.proposer_party),
            selectinload(Motion.vote).options(
                selectinload(Vote.party_votes).joinedload(PartyVote.party),
                selectinload(Vote.member_votes).joinedload(MemberVote.member),
            ),
        ),
        selectinload(AgendaItem.remarks).options(
            joinedload(ProtocolRemark.party),
            joinedload(ProtocolRemark.member),
            selectinload(ProtocolRemark.co_parties).joinedload(RemarkCoParty.party),
        ),
    ]


def meeting_options(*item_extras: LoaderOption, content: bool = False) -> list[LoaderOption]:
    """A meeting with its body, attendance and items (`item_subtree`, with `content` and
    any `item_extras` for the items)."""
    return [
        body_options(),
        selectinload(Meeting.attendance),
        selectinload(Meeting.items).options(*item_subtree(content=content), *item_extras),
    ]


def item_options(*, content: bool = False) -> list[LoaderOption]:
    """For lists of agenda items, and (with `content`) of papers."""
    return [
        joinedload(AgendaItem.meeting).options(body_options(), selectinload(Meeting.attendance)),
        *item_subtree(content=content),
    ]


# --- time stamps ------------------------------------------------------------------------


def meeting_modified() -> sa.ColumnElement:
    return _newest(
        Meeting.modified_at,
        _max_of(AgendaItem.modified_at, AgendaItem.meeting_id == Meeting.id),
        _max_of(PublishedMinutes.created_at, PublishedMinutes.meeting_id == Meeting.id),
    )


def item_modified() -> sa.ColumnElement:
    return greatest(AgendaItem.modified_at, Meeting.modified_at)


def paper_modified() -> sa.ColumnElement:
    return _newest(
        item_modified(), _max_of(Attachment.modified_at, Attachment.item_id == AgendaItem.id)
    )


# --- sources ----------------------------------------------------------------------------


@dataclass
class Source:
    """One kind of row in a list: its rows, their visibility and time stamps."""

    model: Any
    created: sa.ColumnElement
    modified: sa.ColumnElement
    #: (target, on-clause) joins the conditions and time stamps need.
    joins: list[tuple[Any, Any]] = field(default_factory=list)
    where: list[Any] = field(default_factory=list)
    options: list[LoaderOption] = field(default_factory=list)
    #: Serializes a page's rows: (object, created, modified) → OParl objects.
    serialize: Callable[[list[Any]], list[dict[str, Any]]] | None = None
    #: For objects that embed a meeting's record: the column of their meeting's id; their
    #: JSON is then cached (`minutes.oparl.cache`), under this kind.
    meeting_key: Any = None
    cache_kind: str = ""

    def _joined(self, stmt: sa.Select) -> sa.Select:
        for target, onclause in self.joins:
            stmt = stmt.join(target, onclause)
        return stmt

    def _visible(self, stmt: sa.Select, query: ListQuery | None) -> sa.Select:
        """`stmt` joined, limited to the visible objects `query` asks for, by id."""
        clauses = [*self.where, *(query.clauses(self.created, self.modified) if query else [])]
        return self._joined(stmt).where(*clauses).order_by(self.model.id)

    def statement(self, query: ListQuery | None = None) -> sa.Select:
        """Rows of (object, created, modified), by id."""
        columns = (self.model, self.created.label("created"), self.modified.label("modified"))
        return self._visible(sa.select(*columns), query).options(*self.options)

    def count(self, query: ListQuery) -> int:
        stmt = self._joined(sa.select(sa.func.count()).select_from(self.model))
        return db.session.scalar(
            stmt.where(*self.where, *query.clauses(self.created, self.modified))
        )

    def rows(self, query: ListQuery, offset: int, limit: int) -> list[Any]:
        return list(db.session.execute(self.statement(query).offset(offset).limit(limit)))

    def keys(
        self, query: ListQuery | None = None, offset: int = 0, limit: int | None = None
    ) -> list[Any]:
        """A page (by default: all) as (id, meeting id, modified) rows, without loading
        the objects."""
        stmt = self._visible(sa.select(self.model.id, self.meeting_key, self.modified), query)
        return list(db.session.execute(stmt.offset(offset).limit(limit)))

    def rows_by_id(self, ids: list[int]) -> list[Any]:
        """The rows of these objects, if still visible, by id."""
        return list(db.session.execute(self.statement().where(self.model.id.in_(ids))))

    def one(self, object_id: int) -> Any | None:
        """The row of one visible object, or None."""
        return db.session.execute(self.statement().where(self.model.id == object_id)).first()


def committees() -> Source:
    return Source(
        Body,
        Body.created_at,
        _newest(Body.modified_at, _max_of(Seat.modified_at, Seat.body_id == Body.id)),
        options=[selectinload(Body.seats)],
    )


def parties() -> Source:
    return Source(Party, Party.created_at, Party.modified_at)


def persons() -> Source:
    return Source(
        Member,
        Member.created_at,
        _newest(Member.modified_at, _max_of(Seat.modified_at, Seat.member_id == Member.id)),
        options=[selectinload(Member.seats)],
    )


def memberships() -> Source:
    return Source(Seat, Seat.created_at, Seat.modified_at)


def meetings(*where: Any) -> Source:
    return Source(
        Meeting,
        Meeting.created_at,
        meeting_modified(),
        where=list(where),
        options=meeting_options(),
        meeting_key=Meeting.id,
        cache_kind="meeting",
    )


def agenda_items() -> Source:
    return Source(
        AgendaItem,
        AgendaItem.created_at,
        item_modified(),
        joins=[(Meeting, AgendaItem.meeting_id == Meeting.id)],
        where=[agenda_public_clause()],
        options=item_options(),
        meeting_key=AgendaItem.meeting_id,
        cache_kind="agendaItem",
    )


def _open_items(modified: sa.ColumnElement, *, content: bool = False) -> Source:
    """Agenda items whose content is public: the cases (papers) and consultations."""
    return Source(
        AgendaItem,
        AgendaItem.created_at,
        modified,
        joins=[(Meeting, AgendaItem.meeting_id == Meeting.id)],
        where=[agenda_public_clause(), AgendaItem.is_closed.is_(False)],
        options=item_options(content=content),
    )


def cases() -> Source:
    return _open_items(paper_modified(), content=True)


def consultations() -> Source:
    return _open_items(item_modified())


def motion_papers() -> Source:
    """Amendments and other motions (not the recommendation) of published open items."""
    return Source(
        Motion,
        Motion.created_at,
        greatest(Motion.modified_at, AgendaItem.modified_at, Meeting.modified_at),
        joins=[
            (AgendaItem, Motion.item_id == AgendaItem.id),
            (Meeting, AgendaItem.meeting_id == Meeting.id),
        ],
        where=[
            minutes_public_clause(),
            AgendaItem.is_closed.is_(False),
            Motion.kind != MotionKind.RECOMMENDATION,
        ],
        options=[
            joinedload(Motion.item).joinedload(AgendaItem.meeting),
            selectinload(Motion.vote),
        ],
    )


def attachment_files() -> Source:
    return Source(
        Attachment,
        Attachment.created_at,
        greatest(Attachment.modified_at, AgendaItem.modified_at, Meeting.modified_at),
        joins=[
            (AgendaItem, Attachment.item_id == AgendaItem.id),
            (Meeting, AgendaItem.meeting_id == Meeting.id),
        ],
        where=[
            agenda_public_clause(),
            AgendaItem.is_closed.is_(False),
            Attachment.sha256.is_not(None),
        ],
        options=[joinedload(Attachment.item).joinedload(AgendaItem.meeting)],
    )


def minutes_files() -> Source:
    """The frozen minutes PDFs of published meetings (never changed once made)."""
    return Source(
        PublishedMinutes,
        PublishedMinutes.created_at,
        PublishedMinutes.created_at,
        joins=[(Meeting, PublishedMinutes.meeting_id == Meeting.id)],
        where=[minutes_public_clause()],
    )


# --- deleted objects --------------------------------------------------------------------

#: Tables whose deleted rows are listed, with the OParl lists they belong to.
TOMBSTONE_LISTS = {
    "organization": ("bodies", "parties"),
    "person": ("members",),
    "membership": ("seats",),
    "meeting": ("meetings",),
    "agendaItem": ("agenda_items",),
    "paper": ("agenda_items",),
    "consultation": ("agenda_items",),
    "file": ("attachments",),
}
_MODELS = {
    "bodies": Body,
    "parties": Party,
    "members": Member,
    "seats": Seat,
    "meetings": Meeting,
    "agenda_items": AgendaItem,
    "attachments": Attachment,
}


def tombstones(entity: str) -> Source:
    """Deleted rows of one table, as the audit trail recorded their deletion.

    A row of a meeting is listed only while that meeting exists with a public agenda
    (a deleted meeting is listed itself); an attachment only while its item exists and
    is open. `created` is the time of the row's create entry, `modified` of its deletion.
    """
    model = _MODELS[entity]
    created_entry = sa.orm.aliased(AuditEntry)
    created = sa.func.coalesce(
        sa.select(sa.func.min(created_entry.created_at))
        .where(
            created_entry.entity == AuditEntry.entity,
            created_entry.entity_id == AuditEntry.entity_id,
            created_entry.action == AuditAction.CREATE,
        )
        .scalar_subquery(),
        AuditEntry.created_at,
    )
    where: list[Any] = [
        AuditEntry.action == AuditAction.DELETE,
        AuditEntry.entity == entity,
        ~sa.exists().where(model.id == AuditEntry.entity_id),
    ]
    if entity in ("agenda_items", "attachments"):
        where.append(AuditEntry.meeting_id.in_(sa.select(Meeting.id).where(agenda_public_clause())))
    if entity == "attachments":
        where.append(
            AuditEntry.item_id.in_(sa.select(AgendaItem.id).where(AgendaItem.is_closed.is_(False)))
        )
    return Source(AuditEntry, created, AuditEntry.created_at, where=where)
