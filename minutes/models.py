"""Protocol remarks (protokolbemærkninger) recorded in the minutes."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from meetings.models import AgendaItem, Member, Party
from protokol.audit import Audited, parent_scope
from protokol.extensions import db
from protokol.models import TimestampMixin, enum_column, utcnow


class RemarkKind(enum.StrEnum):
    """On whose behalf a remark is made."""

    #: For one party: "Der var følgende protokolbemærkning fra O:".
    PARTY = "party"
    #: For several parties jointly.
    JOINT = "joint"
    #: For one member personally.
    PERSONAL = "personal"


class RemarkStatus(enum.StrEnum):
    """Where a remark is in the secretary's review."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class ProtocolRemark(Audited, TimestampMixin, db.Model):
    """A protocol remark: a party's, several parties' or a member's recorded statement."""

    __tablename__ = "protocol_remarks"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'personal' AND member_id IS NOT NULL)"
            " OR (kind <> 'personal' AND party_id IS NOT NULL)",
            "has_author",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: Order in the minutes (0-based).
    position: Mapped[int] = mapped_column(nullable=False)
    kind: Mapped[RemarkKind] = mapped_column(enum_column(RemarkKind, "remark_kind"), nullable=False)
    #: The party that filed it (the first of a joint remark's parties).
    party_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("parties.id", ondelete="RESTRICT"), nullable=True
    )
    #: The member who filed it; the author of a personal remark.
    member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=True
    )
    #: The remark, verbatim; paragraphs separated by blank lines.
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    status: Mapped[RemarkStatus] = mapped_column(
        enum_column(RemarkStatus, "remark_status"),
        nullable=False,
        default=RemarkStatus.ACCEPTED,
    )
    #: The user who filed it (a member through the app); NULL when the secretary
    #: recorded it at the meeting.
    filed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: The secretary's comment when returning it to the member.
    return_comment: Mapped[str] = mapped_column(
        sa.Text, nullable=False, default="", server_default=""
    )
    #: The § 13, stk. 2 warnings the secretary saw and decided over, as shown then.
    overridden_warnings: Mapped[str] = mapped_column(
        sa.Text, nullable=False, default="", server_default=""
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)

    item: Mapped[AgendaItem] = relationship(
        backref=backref("remarks", order_by="ProtocolRemark.position", cascade="all, delete-orphan")
    )
    party: Mapped[Party | None] = relationship()
    member: Mapped[Member | None] = relationship()
    co_parties: Mapped[list[RemarkCoParty]] = relationship(
        back_populates="remark", order_by="RemarkCoParty.position", cascade="all, delete-orphan"
    )

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "item", "item_id", AgendaItem)


class RemarkCoParty(Audited, db.Model):
    """A further party joining a joint remark; it counts once that party confirms."""

    __tablename__ = "remark_co_parties"
    __table_args__ = (sa.UniqueConstraint("remark_id", "party_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    remark_id: Mapped[int] = mapped_column(
        sa.ForeignKey("protocol_remarks.id", ondelete="CASCADE"), index=True, nullable=False
    )
    party_id: Mapped[int] = mapped_column(
        sa.ForeignKey("parties.id", ondelete="RESTRICT"), nullable=False
    )
    position: Mapped[int] = mapped_column(nullable=False)
    #: Whether the party's own member has confirmed it joins.
    is_confirmed: Mapped[bool] = mapped_column(nullable=False, default=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    remark: Mapped[ProtocolRemark] = relationship(back_populates="co_parties")
    party: Mapped[Party] = relationship()

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "remark", "remark_id", ProtocolRemark)


class ApprovalDecision(enum.StrEnum):
    APPROVED = "approved"
    #: Approved with a reservation (forbehold), stated in `reservation`.
    RESERVATION = "reservation"


class MinutesApproval(db.Model):
    """A member's approval (or reservation) of the minutes: the signature page."""

    __tablename__ = "minutes_approvals"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True, nullable=False
    )
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    decision: Mapped[ApprovalDecision] = mapped_column(
        enum_column(ApprovalDecision, "approval_decision"), nullable=False
    )
    reservation: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    member: Mapped[Member] = relationship()


class Correction(db.Model):
    """An addendum to approved minutes: what is corrected, why, by whom, when. The
    original record stays as it was; corrections are only ever appended."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: The item corrected; NULL for the minutes as a whole.
    item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="RESTRICT"), nullable=True
    )
    what: Mapped[str] = mapped_column(sa.Text, nullable=False)
    why: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: Who, as text at the time.
    created_by_label: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    item: Mapped[AgendaItem | None] = relationship()


class PublishedMinutes(db.Model):
    """A frozen minutes PDF: the bytes the public downloads, stored once by checksum.
    Publishing makes version 1; each published correction adds a version."""

    __tablename__ = "published_minutes"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    version: Mapped[int] = mapped_column(nullable=False)
    #: SHA-256 of the PDF (hex); the stored file's name.
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    size: Mapped[int] = mapped_column(nullable=False)
    #: Why this version exists ("Offentliggjort", "Rettelse 1: ...").
    reason: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)


class PublishedItemMinutes(db.Model):
    """The frozen PDF of one item's minutes, made with each published version of the
    meeting's minutes: what the public downloads per item, stored once by checksum."""

    __tablename__ = "published_item_minutes"
    __table_args__ = (sa.UniqueConstraint("published_minutes_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The version of the meeting's minutes this item PDF belongs to.
    published_minutes_id: Mapped[int] = mapped_column(
        sa.ForeignKey("published_minutes.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    #: SHA-256 of the PDF (hex); the stored file's name.
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    size: Mapped[int] = mapped_column(nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    published_minutes: Mapped[PublishedMinutes] = relationship()


class OparlDocument(db.Model):
    """An open-data object that embeds a meeting's record (a meeting, an agenda item) as
    the JSON text the API serves at one address, stored by `flask oparl store` so that a
    list page no process has cached is read, not built (`minutes/oparl/store.py`).
    Derived from the record, never part of it: served only while `key` is still the
    object's key, and made again by the next `flask oparl store` once it is not."""

    __tablename__ = "oparl_documents"
    __table_args__ = (sa.UniqueConstraint("kind", "base_url", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "meeting" or "agendaItem" (`minutes.oparl.queries.Source.cache_kind`).
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: The address the object's URLs begin with ("https://protokol.example.dk/").
    base_url: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    #: The meeting's or the agenda item's id.
    object_id: Mapped[int] = mapped_column(nullable=False)
    #: What the text was made from: the object's `modified`, its meeting's and the general
    #: audit heads, and the fingerprint of the code and settings that make the text.
    key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    stored_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)


class Notification(db.Model):
    """A message to a user in the app (a remark returned or edited, a confirmation asked)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: A path in the app the message is about.
    link: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    is_read: Mapped[bool] = mapped_column(nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)


class AppendOnlyError(Exception):
    """A correction or a frozen PDF was about to be changed or deleted."""


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _corrections_are_append_only(session, _context, _instances) -> None:
    """Corrections and frozen minutes are only ever added, never changed or removed."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, Correction | PublishedMinutes | PublishedItemMinutes) and (
            obj in session.deleted or session.is_modified(obj, include_collections=False)
        ):
            raise AppendOnlyError(
                "Rettelser og offentliggjorte protokoller kan ikke ændres eller slettes;"
                " tilføj en ny rettelse."
            )
