"""The record's frame: bodies (udvalg), parties, members and their seats, meetings,
attendance, and agenda items (dagsordenspunkter) with their recommendation and case text.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from protokol.audit import Audited, parent_scope
from protokol.extensions import db
from protokol.models import TimestampMixin, enum_column


class SeatRole(enum.StrEnum):
    """A member's role in a body."""

    CHAIR = "formand"
    VICE_CHAIR = "naestformand"
    MEMBER = "medlem"
    SUBSTITUTE = "stedfortraeder"


class ApprovalRule(enum.StrEnum):
    """Who must approve a body's minutes before the secretary can close the approval."""

    #: Every member who attended approves or records a reservation (forbehold).
    ALL_ATTENDING = "all_attending"
    #: The chair approves, and the secretary closes (Copenhagen's Borgerrepræsentation).
    CHAIR_AND_SECRETARY = "chair_and_secretary"


class MeetingState(enum.StrEnum):
    """Where a meeting is in its life; states only move forward."""

    PLANNED = "planned"
    IN_SESSION = "in_session"
    CLOSED = "closed"
    APPROVED = "approved"
    PUBLISHED = "published"


class ItemPresence(enum.StrEnum):
    """A member's presence for one agenda item where it differs from the meeting's."""

    PRESENT = "present"
    ABSENT = "absent"
    #: Inhabil: disqualified from the item, takes no part in it.
    DISQUALIFIED = "inhabil"


class Body(Audited, TimestampMixin, db.Model):
    """A council or committee (udvalg, Borgerrepræsentationen)."""

    __tablename__ = "bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "Beskæftigelses- og Integrationsudvalget".
    name: Mapped[str] = mapped_column(sa.String(200), unique=True, nullable=False)
    #: Genitive form used in headings: "Beskæftigelses- og Integrationsudvalgets".
    genitive_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    #: Name of the minutes style (a folder of templates) the body's minutes use.
    minutes_style: Mapped[str] = mapped_column(
        sa.String(100), nullable=False, default="kbh-udvalg-2010"
    )
    #: Who must approve the minutes.
    approval_rule: Mapped[ApprovalRule] = mapped_column(
        enum_column(ApprovalRule, "approval_rule"),
        nullable=False,
        default=ApprovalRule.ALL_ATTENDING,
        server_default=ApprovalRule.ALL_ATTENDING.value,
    )

    party_order: Mapped[list[BodyParty]] = relationship(
        back_populates="body", order_by="BodyParty.position", cascade="all, delete-orphan"
    )
    seats: Mapped[list[Seat]] = relationship(back_populates="body")
    meetings: Mapped[list[Meeting]] = relationship(back_populates="body")

    @property
    def ordered_parties(self) -> list[Party]:
        """The body's parties in its own order (not the alphabet)."""
        return [bp.party for bp in self.party_order]

    def __repr__(self) -> str:
        return f"<Body {self.name!r}>"


class Party(Audited, TimestampMixin, db.Model):
    """A party or group, known by its letter ("A", "Ø", "V 2")."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The letter the minutes print: "A", "Ø", or a group such as "V 2".
    letter: Mapped[str] = mapped_column(sa.String(10), unique=True, nullable=False)
    #: "Dansk Folkeparti".
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)

    def __repr__(self) -> str:
        return f"<Party {self.letter}>"


class BodyParty(Audited, db.Model):
    """A party's place in a body's listing order (audited: the minutes, the pages and the
    open data list parties in it, and their caches are keyed on the audit trail)."""

    __tablename__ = "body_parties"

    body_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bodies.id", ondelete="CASCADE"), primary_key=True
    )
    party_id: Mapped[int] = mapped_column(
        sa.ForeignKey("parties.id", ondelete="RESTRICT"), primary_key=True
    )
    #: 0-based place in the body's order.
    position: Mapped[int] = mapped_column(nullable=False)

    body: Mapped[Body] = relationship(back_populates="party_order")
    party: Mapped[Party] = relationship(lazy="joined")


class Member(Audited, TimestampMixin, db.Model):
    """A person who holds or held a seat in a body."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)

    seats: Mapped[list[Seat]] = relationship(
        back_populates="member", order_by="Seat.starts_on", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Member {self.name!r}>"


class Seat(Audited, TimestampMixin, db.Model):
    """A member's seat in a body over a date range, for a party or as independent."""

    __tablename__ = "seats"
    __table_args__ = (sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", "valid_dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True, nullable=False
    )
    body_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bodies.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: The party the seat is held for; NULL for an independent (løsgænger).
    party_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("parties.id", ondelete="RESTRICT"), nullable=True
    )
    role: Mapped[SeatRole] = mapped_column(
        enum_column(SeatRole, "seat_role"), nullable=False, default=SeatRole.MEMBER
    )
    starts_on: Mapped[date] = mapped_column(nullable=False)
    #: Last day of the seat; NULL while it lasts.
    ends_on: Mapped[date | None] = mapped_column(nullable=True)

    member: Mapped[Member] = relationship(back_populates="seats")
    body: Mapped[Body] = relationship(back_populates="seats")
    party: Mapped[Party | None] = relationship()

    @property
    def is_independent(self) -> bool:
        """True for a løsgænger (no party)."""
        return self.party_id is None

    def is_active_on(self, day: date) -> bool:
        """Whether the seat is held on `day`."""
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class Meeting(Audited, TimestampMixin, db.Model):
    """One meeting of a body."""

    __tablename__ = "meetings"
    __table_args__ = (
        sa.UniqueConstraint("body_id", "starts_at"),
        sa.CheckConstraint("ends_at IS NULL OR ends_at >= starts_at", "valid_times"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bodies.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: Local wall-clock time (Europe/Copenhagen) at which the meeting starts.
    starts_at: Mapped[datetime] = mapped_column(nullable=False)
    #: Local wall-clock time at which it ended, once known.
    ends_at: Mapped[datetime | None] = mapped_column(nullable=True)
    location: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    state: Mapped[MeetingState] = mapped_column(
        enum_column(MeetingState, "meeting_state"),
        nullable=False,
        default=MeetingState.PLANNED,
    )
    #: After this moment members can no longer file protocol remarks (local time).
    remarks_deadline_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: When the agenda was made public (UTC); until then the public sees only the date,
    #: time and place. Opening the meeting publishes it at the latest.
    agenda_published_at: Mapped[datetime | None] = mapped_column(nullable=True)

    body: Mapped[Body] = relationship(back_populates="meetings")
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )
    attendance: Mapped[list[MeetingAttendance]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )

    @property
    def date(self) -> date:
        return self.starts_at.date()

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.starts_at:%Y-%m-%d}>"

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.id, None


class MeetingAttendance(Audited, db.Model):
    """Whether a member attended a meeting (fremmøde)."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True, nullable=False
    )
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=False
    )
    is_present: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: Free note, such as "afbud" or "ankom kl. 16.10".
    note: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")

    meeting: Mapped[Meeting] = relationship(back_populates="attendance")
    member: Mapped[Member] = relationship()

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "meeting", "meeting_id", Meeting)


class AgendaItem(Audited, TimestampMixin, db.Model):
    """An agenda item (dagsordenspunkt): a case put before the meeting."""

    __tablename__ = "agenda_items"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: The printed item number.
    number: Mapped[int] = mapped_column(nullable=False)
    #: Order on the agenda (0-based).
    position: Mapped[int] = mapped_column(nullable=False)
    title: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    #: Case number (sagsnummer), "2010-174928".
    case_number: Mapped[str] = mapped_column(sa.String(50), nullable=False, default="")
    #: A closed item (lukket punkt): the public sees number and title only.
    is_closed: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: The administration presenting the case: "Beskæftigelses- og Integrationsforvaltningen".
    administration: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    #: The short summary printed under the title (resumé).
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    clauses: Mapped[list[RecommendationClause]] = relationship(
        back_populates="item",
        order_by="RecommendationClause.position",
        cascade="all, delete-orphan",
    )
    sections: Mapped[list[CaseSection]] = relationship(
        back_populates="item", order_by="CaseSection.position", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="item", order_by="Attachment.number", cascade="all, delete-orphan"
    )
    signatories: Mapped[list[ItemSignatory]] = relationship(
        back_populates="item", order_by="ItemSignatory.position", cascade="all, delete-orphan"
    )
    attendance: Mapped[list[ItemAttendance]] = relationship(
        back_populates="item", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<AgendaItem {self.number} {self.title!r}>"

    def audit_scope(self) -> tuple[int | None, int | None]:
        meeting_id = self.meeting.id if self.meeting is not None else self.meeting_id
        return meeting_id, self.id


class RecommendationClause(Audited, db.Model):
    """One numbered clause of the recommendation (indstilling), with its lead-in."""

    __tablename__ = "recommendation_clauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True, nullable=False
    )
    position: Mapped[int] = mapped_column(nullable=False)
    #: "Beskæftigelses- og Integrationsforvaltningen indstiller, at ... anbefaler,"
    lead_in: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: "at udkast til Københavns Integrationspolitik 2011-2014 godkendes"
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)

    item: Mapped[AgendaItem] = relationship(back_populates="clauses")

    @property
    def number(self) -> int:
        return self.position + 1

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "item", "item_id", AgendaItem)


class CaseSection(Audited, db.Model):
    """A section of the case text (Problemstilling, Løsning, Økonomi, Videre proces).

    `body` is CommonMark with tables: paragraphs, bullet and numbered lists, simple tables.
    """

    __tablename__ = "case_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True, nullable=False
    )
    position: Mapped[int] = mapped_column(nullable=False)
    heading: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    item: Mapped[AgendaItem] = relationship(back_populates="sections")

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "item", "item_id", AgendaItem)


class Attachment(Audited, TimestampMixin, db.Model):
    """An attachment (bilag) to an agenda item; the file is stored by its checksum."""

    __tablename__ = "attachments"
    __table_args__ = (sa.UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True, nullable=False
    )
    number: Mapped[int] = mapped_column(nullable=False)
    title: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    #: The file name shown for download; empty when no file was attached.
    file_name: Mapped[str] = mapped_column(sa.String(255), nullable=False, default="")
    #: SHA-256 of the file's bytes (hex); the stored file's name. NULL when no file.
    sha256: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    size: Mapped[int | None] = mapped_column(nullable=True)

    item: Mapped[AgendaItem] = relationship(back_populates="attachments")

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "item", "item_id", AgendaItem)


class ItemSignatory(Audited, db.Model):
    """An official who signed the case presentation."""

    __tablename__ = "item_signatories"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True, nullable=False
    )
    position: Mapped[int] = mapped_column(nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)

    item: Mapped[AgendaItem] = relationship(back_populates="signatories")

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "item", "item_id", AgendaItem)


class ItemAttendance(Audited, db.Model):
    """A member's presence for one item where it differs from the meeting's attendance
    (arrived late, left, or inhabil)."""

    __tablename__ = "item_attendance"
    __table_args__ = (sa.UniqueConstraint("item_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True, nullable=False
    )
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=False
    )
    presence: Mapped[ItemPresence] = mapped_column(
        enum_column(ItemPresence, "item_presence"), nullable=False
    )

    item: Mapped[AgendaItem] = relationship(back_populates="attendance")
    member: Mapped[Member] = relationship()

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "item", "item_id", AgendaItem)
