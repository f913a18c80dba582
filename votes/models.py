"""Votes (afstemninger) on motions, recorded per party with per-member exceptions,
and each item's final decision (beslutning)."""

from __future__ import annotations

import enum
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from meetings.models import AgendaItem, Member, Party
from motions.models import Motion
from protokol.audit import Audited, parent_scope
from protokol.extensions import db
from protokol.models import TimestampMixin, enum_column, utcnow


class Position(enum.StrEnum):
    """How a party or member voted."""

    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class MemberPosition(enum.StrEnum):
    """A member's own position where it differs from the party's, or an independent's."""

    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"
    #: Present but took no part in the vote.
    NOT_VOTING = "not_voting"


class Outcome(enum.StrEnum):
    """Whether a motion was carried."""

    ADOPTED = "adopted"
    REJECTED = "rejected"


class ResultMode(enum.StrEnum):
    """How the result sentence after a vote is printed."""

    #: The style's standard sentence for the motion kind and outcome.
    DEFAULT = "default"
    #: The secretary's own sentence (`result_text`).
    CUSTOM = "custom"
    #: No sentence (as after the adopted amendment in the seed).
    OMITTED = "omitted"


class Vote(Audited, TimestampMixin, db.Model):
    """The vote on one motion; counts are derived from attendance, never typed in."""

    __tablename__ = "votes"
    __table_args__ = (
        sa.CheckConstraint(
            "NOT is_without_vote OR outcome_without_vote IS NOT NULL", "outcome_when_no_vote"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    motion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("motions.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    #: An open vote is still being recorded; a closed one is final.
    is_open: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: Decided without a vote (uden afstemning); the outcome is then stated, not counted.
    is_without_vote: Mapped[bool] = mapped_column(nullable=False, default=False)
    outcome_without_vote: Mapped[Outcome | None] = mapped_column(
        enum_column(Outcome, "outcome"), nullable=True
    )
    result_mode: Mapped[ResultMode] = mapped_column(
        enum_column(ResultMode, "result_mode"), nullable=False, default=ResultMode.DEFAULT
    )
    #: The secretary's result sentence when `result_mode` is custom.
    result_text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: Optimistic-locking counter: a save based on an older version is refused.
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    motion: Mapped[Motion] = relationship(
        backref=backref("vote", uselist=False, cascade="all, delete-orphan")
    )
    party_votes: Mapped[list[PartyVote]] = relationship(
        back_populates="vote", cascade="all, delete-orphan"
    )
    member_votes: Mapped[list[MemberVote]] = relationship(
        back_populates="vote", cascade="all, delete-orphan"
    )

    __mapper_args__: ClassVar[dict] = {"version_id_col": version}

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "motion", "motion_id", Motion)

    def touch(self) -> None:
        """Mark the vote changed, so its version advances with any change to its parts.

        Touched in the same flush as its parts, the vote's own row (its version: the
        database's check) is written before any of them: SQLAlchemy's unit of work saves
        a parent before it inserts, updates or deletes its children (a vote being deleted
        is not saved: its withdrawal flushes the touch first, `motions.services.
        delete_motion`). Every write to a vote so takes the row locks in the same order,
        vote before party or member rows, and two at once never deadlock on PostgreSQL:
        the second waits for the first, then fails on the version
        (tests/votes/test_recording.py checks the order of the statements)."""
        self.modified_at = utcnow()


class PartyVote(Audited, db.Model):
    """A party's position in a vote (all its present members, unless an exception)."""

    __tablename__ = "party_votes"
    __table_args__ = (sa.UniqueConstraint("vote_id", "party_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(
        sa.ForeignKey("votes.id", ondelete="CASCADE"), index=True, nullable=False
    )
    party_id: Mapped[int] = mapped_column(
        sa.ForeignKey("parties.id", ondelete="RESTRICT"), nullable=False
    )
    position: Mapped[Position] = mapped_column(enum_column(Position, "position"), nullable=False)

    vote: Mapped[Vote] = relationship(back_populates="party_votes")
    party: Mapped[Party] = relationship()

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "vote", "vote_id", Vote)


class MemberVote(Audited, db.Model):
    """A member's own position: a split from the party line, or an independent's vote."""

    __tablename__ = "member_votes"
    __table_args__ = (sa.UniqueConstraint("vote_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(
        sa.ForeignKey("votes.id", ondelete="CASCADE"), index=True, nullable=False
    )
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=False
    )
    position: Mapped[MemberPosition] = mapped_column(
        enum_column(MemberPosition, "member_position"), nullable=False
    )

    vote: Mapped[Vote] = relationship(back_populates="member_votes")
    member: Mapped[Member] = relationship()

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "vote", "vote_id", Vote)


class Decision(Audited, TimestampMixin, db.Model):
    """The item's final decision: the closing result sentence of its decision section."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    #: Key of one of the style's standard result sentences ("approved_as_amended").
    result_key: Mapped[str] = mapped_column(sa.String(50), nullable=False, default="")
    #: The secretary's own sentence; printed instead of the standard one when set.
    result_text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    item: Mapped[AgendaItem] = relationship(
        backref=backref("decision", uselist=False, cascade="all, delete-orphan")
    )

    def audit_scope(self) -> tuple[int | None, int | None]:
        return parent_scope(self, "item", "item_id", AgendaItem)
