"""Services for protocol remarks (protokolbemærkninger).

Plain functions: they take the acting user, add and flush, and raise `RemarkError`; the
view commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from meetings.locking import ensure_editable
from meetings.models import AgendaItem, Member, Party
from minutes.models import ProtocolRemark, RemarkCoParty, RemarkKind, RemarkStatus
from protokol.extensions import db

MAX_REMARK = 20_000


class RemarkError(ValueError):
    """A remark cannot be recorded as asked."""


def add_remark(
    item: AgendaItem,
    kind: RemarkKind,
    text: str,
    *,
    actor: Any,
    party: Party | None = None,
    member: Member | None = None,
    co_parties: Sequence[Party] = (),
    status: RemarkStatus = RemarkStatus.ACCEPTED,
    co_parties_confirmed: bool = True,
) -> ProtocolRemark:
    """Record a remark on `item` after those already there. A secretary recording what
    was requested at the meeting records it accepted, its co-parties confirmed."""
    ensure_editable(item.meeting)
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise RemarkError("Skriv bemærkningens tekst.")
    if len(text) > MAX_REMARK:
        raise RemarkError(f"Bemærkningen er for lang (højst {MAX_REMARK} tegn).")
    if kind == RemarkKind.PERSONAL and member is None:
        raise RemarkError("Vælg det medlem, bemærkningen er fra.")
    if kind != RemarkKind.PERSONAL and party is None:
        raise RemarkError("Vælg det parti, bemærkningen er fra.")
    others = [p for p in co_parties if party is None or p.id != party.id]
    if kind == RemarkKind.JOINT and not others:
        raise RemarkError("En fælles bemærkning skal have mindst ét parti mere.")
    remark = ProtocolRemark(
        position=max((r.position for r in item.remarks), default=-1) + 1,
        kind=kind,
        party=party if kind != RemarkKind.PERSONAL else None,
        member=member,
        text=text,
        status=status,
        co_parties=[
            RemarkCoParty(party=p, position=i, is_confirmed=co_parties_confirmed)
            for i, p in enumerate(others if kind == RemarkKind.JOINT else [])
        ],
    )
    item.remarks.append(remark)
    db.session.flush()
    return remark


def update_remark_text(remark: ProtocolRemark, text: str, *, actor: Any) -> ProtocolRemark:
    """Change a remark's text (audited)."""
    ensure_editable(remark.item.meeting)
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise RemarkError("Skriv bemærkningens tekst.")
    if len(text) > MAX_REMARK:
        raise RemarkError(f"Bemærkningen er for lang (højst {MAX_REMARK} tegn).")
    remark.text = text
    db.session.flush()
    return remark


def delete_remark(remark: ProtocolRemark, *, actor: Any) -> None:
    """Remove a remark (the audit trail keeps what it was)."""
    ensure_editable(remark.item.meeting)
    item = remark.item
    db.session.delete(remark)
    db.session.flush()
    db.session.expire(item, ["remarks"])
    for position, r in enumerate(sorted(item.remarks, key=lambda r: r.position)):
        r.position = position
    db.session.flush()


def move_remark(remark: ProtocolRemark, offset: int, *, actor: Any) -> None:
    """Move a remark up (-1) or down (+1) in the minutes' order."""
    ensure_editable(remark.item.meeting)
    remarks = sorted(remark.item.remarks, key=lambda r: r.position)
    index = remarks.index(remark)
    target = index + offset
    if not 0 <= target < len(remarks):
        return
    remarks[index], remarks[target] = remarks[target], remarks[index]
    for position, r in enumerate(remarks):
        r.position = position
    db.session.flush()
