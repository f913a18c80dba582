"""Services for protocol remarks (protokolbemærkninger).

Plain functions: they take the acting user, add and flush, and raise `RemarkError`; the
view commits once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from meetings.locking import ensure_editable
from meetings.models import AgendaItem, Member, Party
from minutes.models import ProtocolRemark, RemarkCoParty, RemarkKind, RemarkStatus
from protokol.extensions import N_, db
from protokol.ordering import compact, delete_from, move, next_position

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
        raise RemarkError(_("Skriv bemærkningens tekst."))
    if len(text) > MAX_REMARK:
        raise RemarkError(_("Bemærkningen er for lang (højst %(max)s tegn).", max=MAX_REMARK))
    if kind == RemarkKind.PERSONAL and member is None:
        raise RemarkError(_("Vælg det medlem, bemærkningen er fra."))
    if kind != RemarkKind.PERSONAL and party is None:
        raise RemarkError(_("Vælg det parti, bemærkningen er fra."))
    others = list({p.id: p for p in co_parties if party is None or p.id != party.id}.values())
    if kind == RemarkKind.JOINT and not others:
        raise RemarkError(_("En fælles bemærkning skal have mindst ét parti mere."))
    remark = ProtocolRemark(
        position=next_position(item.remarks),
        kind=kind,
        party=party if kind != RemarkKind.PERSONAL else None,
        member=member,
        filed_by_id=getattr(actor, "id", None) if status == RemarkStatus.SUBMITTED else None,
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
        raise RemarkError(_("Skriv bemærkningens tekst."))
    if len(text) > MAX_REMARK:
        raise RemarkError(_("Bemærkningen er for lang (højst %(max)s tegn).", max=MAX_REMARK))
    remark.text = text
    db.session.flush()
    return remark


def delete_remark(remark: ProtocolRemark, *, actor: Any) -> None:
    """Remove a remark (the audit trail keeps what it was)."""
    ensure_editable(remark.item.meeting)
    item = remark.item
    delete_from(item, "remarks", remark)
    compact(item.remarks)
    db.session.flush()


def move_remark(remark: ProtocolRemark, offset: int, *, actor: Any) -> None:
    """Move a remark up (-1) or down (+1) in the minutes' order."""
    ensure_editable(remark.item.meeting)
    move(remark.item.remarks, remark, offset)
    db.session.flush()


# --------------------------------------------------------------------------- members' remarks
# Members file remarks in the app; the secretary accepts or returns them. The rules of
# kommunestyrelsesloven § 13, stk. 2 are checked and explained to the secretary, not
# silently enforced: the secretary may decide anyway, and that is recorded.

#: Marked here, translated where it is shown.
LAW_NOTE = N_(
    "Efter kommunestyrelseslovens § 13, stk. 2 kan et medlem, der er i mindretal, få sin"
    " afvigende mening kort ført til protokol; et medlem, der har undladt at stemme, kan kun"
    " få ført til protokol, at det har undladt at stemme, eller en bemærkning om"
    " proceduren. Anmodningen fremsættes på mødet."
)


def member_parties(member: Member, body_id: int, day) -> list[Party]:
    """The party a member sits for in a body on a day (empty for an independent)."""
    return [
        s.party
        for s in member.seats
        if s.body_id == body_id and s.is_active_on(day) and s.party is not None
    ]


def file_remark(
    item: AgendaItem,
    member: Member,
    kind: RemarkKind,
    text: str,
    *,
    actor: Any,
    co_parties: Sequence[Party] = (),
    now=None,
) -> ProtocolRemark:
    """A member files a remark for their party, jointly with other parties (each must
    confirm), or personally, on an item they attended, before the meeting's deadline."""
    from meetings.models import MeetingState
    from meetings.services import present_for_item
    from minutes.lifecycle import utcnow_local

    meeting = item.meeting
    ensure_editable(meeting)
    if meeting.state not in (MeetingState.IN_SESSION, MeetingState.CLOSED):
        raise RemarkError(_("Der kan kun indgives bemærkninger til et møde, der er holdt."))
    now = now or utcnow_local()
    if meeting.remarks_deadline_at is not None and now > meeting.remarks_deadline_at:
        deadline = meeting.remarks_deadline_at
        raise RemarkError(
            _(
                "Fristen for protokolbemærkninger udløb %(when)s.",
                when=f"{deadline:%d.%m.%Y} {_('kl.')} {deadline:%H.%M}",
            )
        )
    if member.id not in present_for_item(item):
        raise RemarkError(_("Du kan kun indgive bemærkninger til punkter, du deltog i."))
    parties = member_parties(member, meeting.body_id, meeting.date)
    party = parties[0] if parties else None
    if kind != RemarkKind.PERSONAL and party is None:
        raise RemarkError(_("Som løsgænger kan du kun indgive en personlig bemærkning."))
    return add_remark(
        item,
        kind,
        text,
        actor=actor,
        party=party,
        member=member,
        co_parties=co_parties,
        status=RemarkStatus.SUBMITTED,
        co_parties_confirmed=False,
    )


def confirm_co_party(remark: ProtocolRemark, member: Member, *, actor: Any) -> None:
    """A member of a co-party confirms that their party joins a joint remark."""
    from protokol.models import utcnow

    ensure_editable(remark.item.meeting)
    meeting = remark.item.meeting
    parties = {p.id for p in member_parties(member, meeting.body_id, meeting.date)}
    entry = next((cp for cp in remark.co_parties if cp.party_id in parties), None)
    if entry is None:
        raise RemarkError(_("Dit parti er ikke med på denne bemærkning."))
    if entry.is_confirmed:
        return
    entry.is_confirmed = True
    entry.confirmed_by_id = getattr(actor, "id", None)
    entry.confirmed_at = utcnow()
    db.session.flush()


def remark_warnings(remark: ProtocolRemark) -> list[str]:
    """What § 13, stk. 2 says about this remark, for the secretary to weigh."""
    from meetings.services import present_for_item

    item = remark.item
    present = present_for_item(item)
    warnings: list[str] = []
    if remark.kind == RemarkKind.PERSONAL:
        who = remark.member.name if remark.member else _("medlemmet")
        if remark.member is None or remark.member.id not in present:
            warnings.append(_("%(who)s var ikke til stede ved punktet.", who=who))
            return warnings
        return _vote_warnings(item, who, _member_position(remark.member.id, present))
    parties = [remark.party] if remark.party else []
    parties += [cp.party for cp in remark.co_parties if cp.is_confirmed]
    for party in parties:
        members = [s for s in present.values() if s.party and s.party.id == party.id]
        if not members:
            warnings.append(_("%(who)s var ikke til stede ved punktet.", who=party.letter))
            continue
        warnings += _vote_warnings(item, party.letter, _party_position(party.id))
    return warnings


def _party_position(party_id: int) -> Callable[[Any], str | None]:
    """A party's recorded position in a vote ("for", "against", "abstain" or None)."""

    def position(vote: Any) -> str | None:
        return next((pv.position.value for pv in vote.party_votes if pv.party_id == party_id), None)

    return position


def _member_position(member_id: int, present: dict) -> Callable[[Any], str | None]:
    """A member's position in a vote: their own if recorded, else their party's."""
    from votes.services import member_positions

    def position(vote: Any) -> str | None:
        found = member_positions(vote, present)[0].get(member_id)
        return found.value if found is not None else None

    return position


def _vote_warnings(
    item: AgendaItem, who: str, position_in: Callable[[Any], str | None]
) -> list[str]:
    """A warning for each decided vote on `item` in which `who` voted with the majority
    or abstained."""
    from votes.services import tally

    warnings: list[str] = []
    for motion in item.motions:
        vote = getattr(motion, "vote", None)
        if vote is None or vote.is_without_vote:
            continue
        counted = tally(vote)
        if counted.outcome is None:
            continue
        position = position_in(vote)
        winning = "for" if counted.outcome.value == "adopted" else "against"
        number = motion.position + 1
        if position == winning:
            warnings.append(
                _(
                    "%(who)s stemte med flertallet ved afstemningen om forslag %(number)s.",
                    who=who,
                    number=number,
                )
            )
        elif position == "abstain":
            warnings.append(
                _(
                    "%(who)s undlod at stemme ved afstemningen om forslag %(number)s;"
                    " bemærkningen bør kun sige dette eller angå proceduren.",
                    who=who,
                    number=number,
                )
            )
    return warnings


def _notify(user_id: int | None, text: str, link: str = "") -> None:
    from minutes.models import Notification

    if user_id is not None:
        db.session.add(Notification(user_id=user_id, text=text, link=link))


def accept_remark(remark: ProtocolRemark, *, actor: Any, override: bool = False) -> ProtocolRemark:
    """Accept a remark into the minutes; when § 13 warnings apply, only with `override`,
    and the warnings overridden are recorded with the remark."""
    from protokol.models import utcnow

    ensure_editable(remark.item.meeting)
    warnings = remark_warnings(remark)
    if warnings and not override:
        raise RemarkError(
            _(
                "Bemærkningen giver anledning til advarsler: %(warnings)s Vælg 'optag"
                " alligevel' for at optage den.",
                warnings=" ".join(warnings),
            )
        )
    unconfirmed = [cp.party.letter for cp in remark.co_parties if not cp.is_confirmed]
    if remark.kind == RemarkKind.JOINT and unconfirmed and not override:
        raise RemarkError(
            _(
                "Disse partier har ikke bekræftet den fælles bemærkning: %(parties)s. De står"
                " ikke i protokollen, før de bekræfter.",
                parties=", ".join(unconfirmed),
            )
        )
    if override:
        # The record keeps the warnings in Danish, whatever language the secretary reads.
        with force_locale("da"):
            recorded = remark_warnings(remark)
            if remark.kind == RemarkKind.JOINT and unconfirmed:
                recorded.append(
                    _("Ikke bekræftet af: %(parties)s.", parties=", ".join(unconfirmed))
                )
    remark.status = RemarkStatus.ACCEPTED
    remark.overridden_warnings = " ".join(recorded) if override else ""
    remark.return_comment = ""
    remark.decided_by_id = getattr(actor, "id", None)
    remark.decided_at = utcnow()
    db.session.flush()
    _notify(
        remark.filed_by_id, f"Din protokolbemærkning til punkt {remark.item.number} er optaget."
    )
    return remark


def return_remark(remark: ProtocolRemark, comment: str, *, actor: Any) -> ProtocolRemark:
    """Return a remark to the member with a comment."""
    from protokol.models import utcnow

    ensure_editable(remark.item.meeting)
    comment = comment.strip()
    if not comment:
        raise RemarkError(
            _("Skriv en kommentar til medlemmet om, hvorfor bemærkningen returneres.")
        )
    remark.status = RemarkStatus.RETURNED
    remark.return_comment = comment[:5000]
    remark.decided_by_id = getattr(actor, "id", None)
    remark.decided_at = utcnow()
    db.session.flush()
    _notify(
        remark.filed_by_id,
        f"Din protokolbemærkning til punkt {remark.item.number} er sendt retur: {comment}",
    )
    return remark


def edit_remark_typography(remark: ProtocolRemark, text: str, *, actor: Any) -> ProtocolRemark:
    """The secretary corrects a remark's typography; the edit is audited and the member
    who filed it is told."""
    before = remark.text
    update_remark_text(remark, text, actor=actor)
    if remark.text != before:
        _notify(
            remark.filed_by_id,
            f"Sekretæren har rettet typografien i din protokolbemærkning til punkt"
            f" {remark.item.number}.",
        )
    return remark
