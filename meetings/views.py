"""Public pages of the record: the meetings and their agendas (no login needed)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template
from sqlalchemy.orm import selectinload

from meetings.models import AgendaItem, Body, Meeting
from protokol.extensions import db

bp = Blueprint("meetings", __name__)


@bp.get("/")
def index() -> str:
    """Roles: everyone. The bodies and their meetings, newest first."""
    meetings = db.session.scalars(
        sa.select(Meeting)
        .options(selectinload(Meeting.body))
        .order_by(Meeting.starts_at.desc())
        .limit(200)
    ).all()
    bodies = db.session.scalars(sa.select(Body).order_by(Body.name)).all()
    return render_template("meetings/index.html", meetings=meetings, bodies=bodies)


@bp.get("/meetings/<int:meeting_id>")
def meeting(meeting_id: int) -> str:
    """Roles: everyone. A meeting with its agenda; closed items by number and title only."""
    meeting = db.session.scalar(
        sa.select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(selectinload(Meeting.items).selectinload(AgendaItem.attachments))
    )
    if meeting is None:
        abort(404)
    return render_template("meetings/meeting.html", meeting=meeting)
