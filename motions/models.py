"""Motions (forslag) on an agenda item: the recommendation (indstilling), amendment
proposals (ændringsforslag), additions (tillægsforslag) and procedural motions."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from meetings.models import AgendaItem, Member, Party
from protokol.audit import Audited, parent_scope
from protokol.extensions import db
from protokol.models import TimestampMixin, enum_column


class MotionKind(enum.StrEnum):
    """What kind of motion is put to the meeting."""

    #: The administration's recommendation (indstillingen).
    RECOMMENDATION = "recommendation"
    #: Ændringsforslag.
    AMENDMENT = "amendment"
    #: Tillægsforslag (adds to the recommendation).
    ADDITION = "addition"
    #: Udsættelsesforslag (postpone the item).
    POSTPONEMENT = "postponement"
    #: Another procedural motion (forslag til forretningsordenen).
    PROCEDURAL = "procedural"


class Motion(Audited, TimestampMixin, db.Model):
    """A motion on an item, with its proposer and verbatim text."""

    __tablename__ = "motions"
    __table_args__ = (
        sa.CheckConstraint(
            "(proposer_member_id IS NOT NULL)"
            " OR (proposer_party_id IS NOT NULL)"
            " OR (proposer_name <> '')"
            " OR kind = 'recommendation'",
            "has_proposer",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: Order within the item (0-based); the minutes follow it.
    position: Mapped[int] = mapped_column(nullable=False)
    kind: Mapped[MotionKind] = mapped_column(enum_column(MotionKind, "motion_kind"), nullable=False)
    #: The member who moved it ("Mogens Lønborg (C) stillede følgende ændringsforslag").
    proposer_member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=True
    )
    #: The party that moved it (alone, or the member's party when both are given).
    proposer_party_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("parties.id", ondelete="RESTRICT"), nullable=True
    )
    #: Any other proposer, such as the administration or "formanden".
    proposer_name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    #: The motion's text, verbatim as filed; paragraphs separated by blank lines.
    text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    item: Mapped[AgendaItem] = relationship(
        backref=backref("motions", order_by="Motion.position", cascade="all, delete-orphan")
    )
    proposer_member: Mapped[Member | None] = relationship()
    proposer_party: Mapped[Party | None] = relationship()

    def __repr__(self) -> str:
        return f"<Motion {self.id} {self.kind}>"

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "item", "item_id", AgendaItem)
