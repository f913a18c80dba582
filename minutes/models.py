"""Protocol remarks (protokolbemærkninger) recorded in the minutes."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from meetings.models import AgendaItem, Member, Party
from protokol.extensions import db
from protokol.audit import Audited
from protokol.models import TimestampMixin, enum_column


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
    kind: Mapped[RemarkKind] = mapped_column(
        enum_column(RemarkKind, "remark_kind"), nullable=False
    )
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

    item: Mapped[AgendaItem] = relationship(
        backref=backref(
            "remarks", order_by="ProtocolRemark.position", cascade="all, delete-orphan"
        )
    )
    party: Mapped[Party | None] = relationship()
    member: Mapped[Member | None] = relationship()
    co_parties: Mapped[list[RemarkCoParty]] = relationship(
        back_populates="remark", order_by="RemarkCoParty.position", cascade="all, delete-orphan"
    )

    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.item.meeting_id, self.item_id


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

    remark: Mapped[ProtocolRemark] = relationship(back_populates="co_parties")
    party: Mapped[Party] = relationship()


    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.remark.audit_scope()
