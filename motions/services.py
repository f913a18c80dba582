"""Services for motions: file, edit, reorder and withdraw the motions on an item.

Plain functions: they take the acting user, add and flush, and raise `MotionError`; the
view commits once.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from meetings.locking import ensure_editable
from meetings.models import AgendaItem, Member, Party
from meetings.services import seated_members
from motions.models import Motion, MotionKind
from protokol.extensions import db
from protokol.ordering import compact, delete_from, move, next_position

MAX_TEXT = 100_000


class MotionError(ValueError):
    """A motion cannot be filed or changed as asked."""


def _check(
    item: AgendaItem,
    kind: MotionKind,
    member: Member | None,
    party: Party | None,
    name: str,
    text: str,
) -> None:
    ensure_editable(item.meeting)
    if kind != MotionKind.RECOMMENDATION and member is None and party is None and not name.strip():
        raise MotionError(_("Vælg hvem der stiller forslaget."))
    if member is not None:
        meeting = item.meeting
        if member.id not in seated_members(meeting.body, meeting.date):
            raise MotionError(
                _("%(name)s har ikke sæde i %(body)s.", name=member.name, body=meeting.body.name)
            )
    if len(text) > MAX_TEXT:
        raise MotionError(_("Forslagets tekst er for lang (højst %(max)s tegn).", max=MAX_TEXT))


def create_motion(
    item: AgendaItem,
    kind: MotionKind,
    *,
    actor: Any,
    proposer_member: Member | None = None,
    proposer_party: Party | None = None,
    proposer_name: str = "",
    text: str = "",
) -> Motion:
    """File a motion on `item`, after the ones already there."""
    _check(item, kind, proposer_member, proposer_party, proposer_name, text)
    motion = Motion(
        position=next_position(item.motions),
        kind=kind,
        proposer_member=proposer_member,
        proposer_party=proposer_party,
        proposer_name=proposer_name.strip(),
        text=text.replace("\r\n", "\n"),
    )
    item.motions.append(motion)
    db.session.flush()
    return motion


def update_motion(
    motion: Motion,
    *,
    actor: Any,
    kind: MotionKind | None = None,
    proposer_member: Member | None = None,
    proposer_party: Party | None = None,
    proposer_name: str | None = None,
    text: str | None = None,
    change_proposer: bool = False,
) -> Motion:
    """Change a motion's kind, proposer or text."""
    new_kind = kind or motion.kind
    member = proposer_member if change_proposer else motion.proposer_member
    party = proposer_party if change_proposer else motion.proposer_party
    name = (proposer_name or "").strip() if change_proposer else motion.proposer_name
    new_text = motion.text if text is None else text.replace("\r\n", "\n")
    _check(motion.item, new_kind, member, party, name, new_text)
    motion.kind = new_kind
    motion.proposer_member, motion.proposer_party, motion.proposer_name = member, party, name
    motion.text = new_text
    db.session.flush()
    return motion


def move_motion(motion: Motion, offset: int, *, actor: Any) -> None:
    """Move a motion up (-1) or down (+1) among the item's motions."""
    ensure_editable(motion.item.meeting)
    move(motion.item.motions, motion, offset)
    db.session.flush()


def delete_motion(motion: Motion, *, actor: Any) -> None:
    """Withdraw a motion and its vote (the audit trail keeps what it was)."""
    ensure_editable(motion.item.meeting)
    vote = getattr(motion, "vote", None)
    if vote is not None:
        # Write (so lock, on PostgreSQL) the vote's row before its parts' rows are deleted,
        # in the order every write to a vote takes them (`Vote.touch`): a recording at the
        # same moment waits for this one, and never deadlocks with it.
        vote.touch()
        db.session.flush()
    item = motion.item
    delete_from(item, "motions", motion)
    compact(item.motions)
    db.session.flush()
