"""Users and their roles."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from protokol.audit import Audited
from protokol.extensions import db
from protokol.models import TimestampMixin, enum_column


class Role(enum.StrEnum):
    """What a user may do. The public (anonymous) needs no account."""

    #: Bodies, parties, members, seats, users, minutes styles; everything a secretary can.
    ADMIN = "admin"
    #: Prepares and records the meetings of the bodies assigned to them.
    SECRETARY = "secretary"
    #: A member of a body (linked to a Member record): files protocol remarks, approves.
    MEMBER = "member"


user_bodies = sa.Table(
    "user_bodies",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("body_id", sa.ForeignKey("bodies.id", ondelete="CASCADE"), primary_key=True),
)


class User(Audited, UserMixin, TimestampMixin, db.Model):
    """Someone who logs in."""

    __tablename__ = "users"
    #: A login is not a change to the record (nor does it move the caches' keys, which
    #: follow the audit trail: minutes/cache.py).
    audit_ignored = frozenset({"last_login_at"})
    __table_args__ = (
        sa.CheckConstraint("role <> 'member' OR member_id IS NOT NULL", "member_has_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name; stored lower-cased.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    #: argon2id hash (argon2-cffi).
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), nullable=False)
    #: The Member record of a user with the member role.
    member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=True, unique=True
    )
    is_active: Mapped[bool] = mapped_column(nullable=False, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(nullable=True)

    #: The bodies a secretary prepares and records meetings for.
    bodies = relationship("Body", secondary=user_bodies, order_by="Body.name")
    member = relationship("Member")

    @property
    def label(self) -> str:
        return self.name or self.email

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def may_manage_body(self, body_id: int) -> bool:
        """Admins manage every body; a secretary the bodies assigned to them."""
        if self.role == Role.ADMIN:
            return True
        return self.role == Role.SECRETARY and any(b.id == body_id for b in self.bodies)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
