"""Admin services: bodies (udvalg) with their party order and minutes style, parties,
members and their seats (pladser), and user accounts.

Plain typed functions called by the admin views (`meetings.admin`), the CLI or tests.
They never touch the request or the logged-in user (the acting user is passed in where it
matters), check everything before they change anything, only add and flush, and raise
`AdminError` with a Danish message meant for the admin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from meetings.locking import LOCKED_STATES
from meetings.models import Body, BodyParty, Meeting, Member, Party, Seat, SeatRole
from protokol.accounts.models import Role, User
from protokol.accounts.services import (
    MIN_PASSWORD_LENGTH,
    AccountError,
    create_user,
    generate_password,
    hash_password,
    normalise_email,
)
from protokol.extensions import db

#: Longest party letter ("V 2"); the column's width.
MAX_LETTER_LENGTH = 10
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
#: Separators in a typed party order besides white space; a letter may not contain them.
ORDER_SEPARATORS = re.compile(r"[,;\r\n]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: How the roles read in Danish.
SEAT_ROLE_LABELS = {
    SeatRole.CHAIR: _l("Formand"),
    SeatRole.VICE_CHAIR: _l("Næstformand"),
    SeatRole.MEMBER: _l("Medlem"),
    SeatRole.SUBSTITUTE: _l("Stedfortræder"),
}
USER_ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.SECRETARY: _l("Sekretær"),
    Role.MEMBER: _l("Medlem"),
}


class AdminError(ValueError):
    """An admin change cannot be made as asked.

    `message` is Danish, for the admin; `field` names the form field at fault (None: the
    form as a whole); `conflict` is true when the input is fine but the record's state
    forbids the change (an approved meeting, the last administrator).
    """

    def __init__(self, message: str, field: str | None = None, *, conflict: bool = False):
        super().__init__(message)
        self.message = message
        self.field = field
        self.conflict = conflict


def _text(value: str | None) -> str:
    return (value or "").strip()


def _name(value: str | None, field: str, missing: object, what: object = _l("Navnet")) -> str:
    name = _text(value)
    if not name:
        raise AdminError(missing, field)
    if len(name) > MAX_NAME_LENGTH:
        raise AdminError(
            _l("%(what)s må højst have %(max)s tegn.", what=what, max=MAX_NAME_LENGTH), field
        )
    return name


def short_date(day: date) -> str:
    """06.12.2010"""
    return day.strftime("%d.%m.%Y")


# --- Parties ---------------------------------------------------------------------------


def normalise_letter(letter: str | None) -> str:
    """A party letter with its white space tidied: " V  2 " → "V 2"."""
    return " ".join((letter or "").split())


def _check_party(letter: str, name: str, party: Party | None) -> tuple[str, str]:
    letter = normalise_letter(letter)
    if not letter:
        raise AdminError(_l("Skriv partiets bogstav."), "letter")
    if len(letter) > MAX_LETTER_LENGTH:
        raise AdminError(
            _l("Bogstavet må højst have %(max)s tegn.", max=MAX_LETTER_LENGTH), "letter"
        )
    if ORDER_SEPARATORS.search(letter):
        raise AdminError(_l("Bogstavet må ikke indeholde komma eller semikolon."), "letter")
    name = _name(name, "name", _l("Skriv partiets navn."))
    for other in db.session.scalars(sa.select(Party)):
        if other is not party and other.letter.casefold() == letter.casefold():
            raise AdminError(_l("Bogstavet findes allerede."), "letter")
    return letter, name


def create_party(letter: str, name: str) -> Party:
    """Create a party; the letter is unique, whatever its case ("A", "Ø", "V 2")."""
    letter, name = _check_party(letter, name, None)
    party = Party(letter=letter, name=name)
    db.session.add(party)
    db.session.flush()
    return party


def update_party(party: Party, *, letter: str, name: str) -> Party:
    """Change a party's letter and name.

    The minutes print the letter, so a change shows in every meeting's minutes.
    """
    party.letter, party.name = _check_party(letter, name, party)
    db.session.flush()
    return party


# --- Bodies ----------------------------------------------------------------------------


def split_party_letters(text: str | None, known: Iterable[str]) -> list[str]:
    """Split a typed party order into letters: "A B F Ø V 2" → ["A", "B", "F", "Ø", "V 2"].

    Letters are separated by white space, commas, semicolons or line breaks; a letter
    holding a space ("V 2") is recognised when it is a known one (the longest known
    letter wins). Known letters come back as spelt in `known`, whatever the case typed;
    unknown words come back as typed, for the caller to refuse.
    """
    spelling = {letter.casefold(): letter for letter in known}
    longest = max((len(letter.split()) for letter in spelling), default=1)
    letters: list[str] = []
    for chunk in ORDER_SEPARATORS.split(text or ""):
        words = chunk.split()
        i = 0
        while i < len(words):
            for size in range(min(longest, len(words) - i), 0, -1):
                candidate = " ".join(words[i : i + size])
                if candidate.casefold() in spelling or size == 1:
                    letters.append(spelling.get(candidate.casefold(), candidate))
                    i += size
                    break
    return letters


def format_party_order(body: Body) -> str:
    """A body's party order as typed in the form: "A B F Ø V O C" (commas when a letter
    holds a space)."""
    letters = [bp.party.letter for bp in body.party_order]
    return (", " if any(" " in letter for letter in letters) else " ").join(letters)


def _resolve_party_order(letters: Sequence[str]) -> list[Party]:
    parties = {p.letter: p for p in db.session.scalars(sa.select(Party))}
    unknown = [letter for letter in letters if letter not in parties]
    if unknown:
        message = ngettext(
            "Ukendt parti: %(letters)s.",
            "Ukendte partier: %(letters)s.",
            len(unknown),
            letters=", ".join(unknown),
        )
        raise AdminError(message, "party_order")
    seen: set[str] = set()
    for letter in letters:
        if letter in seen:
            raise AdminError(
                _l("Partiet %(letter)s står flere gange.", letter=letter), "party_order"
            )
        seen.add(letter)
    return [parties[letter] for letter in letters]


def _check_body(
    body: Body | None,
    name: str,
    genitive_name: str,
    minutes_style: str,
    styles: Sequence[str],
) -> tuple[str, str]:
    name = _name(name, "name", _l("Skriv udvalgets navn."))
    genitive_name = _name(
        genitive_name,
        "genitive_name",
        _l("Skriv navnet i ejefald, fx »Beskæftigelses- og Integrationsudvalgets«."),
        _l("Ejefaldsformen"),
    )
    if minutes_style not in styles:
        raise AdminError(_l("Vælg en af de tilgængelige protokolstile."), "minutes_style")
    for other in db.session.scalars(sa.select(Body)):
        if other is not body and other.name.casefold() == name.casefold():
            raise AdminError(_l("Der findes allerede et udvalg med det navn."), "name")
    return name, genitive_name


def _set_party_order(body: Body, parties: Sequence[Party]) -> None:
    """Give `body` exactly `parties`, in that order, keeping the rows already there."""
    existing = {bp.party_id: bp for bp in body.party_order}
    wanted = []
    for position, party in enumerate(parties):
        row = existing.get(party.id) or BodyParty(party=party)
        row.position = position
        wanted.append(row)
    body.party_order = wanted


def create_body(
    name: str,
    genitive_name: str,
    minutes_style: str,
    party_letters: Sequence[str],
    *,
    styles: Sequence[str],
) -> Body:
    """Create a body (udvalg) with its party order; `styles` are the available minutes
    styles (`minutes.styles.available_styles`)."""
    name, genitive_name = _check_body(None, name, genitive_name, minutes_style, styles)
    parties = _resolve_party_order(party_letters)
    body = Body(name=name, genitive_name=genitive_name, minutes_style=minutes_style)
    db.session.add(body)
    _set_party_order(body, parties)
    db.session.flush()
    return body


def update_body(
    body: Body,
    *,
    name: str,
    genitive_name: str,
    minutes_style: str,
    party_letters: Sequence[str],
    styles: Sequence[str],
) -> Body:
    """Change a body's names, minutes style and party order."""
    name, genitive_name = _check_body(body, name, genitive_name, minutes_style, styles)
    parties = _resolve_party_order(party_letters)
    body.name, body.genitive_name, body.minutes_style = name, genitive_name, minutes_style
    _set_party_order(body, parties)
    db.session.flush()
    return body


# --- Members and seats -----------------------------------------------------------------


def create_member(name: str) -> Member:
    """Create a member (a person who holds or held seats)."""
    member = Member(name=_name(name, "name", _l("Skriv et navn.")))
    db.session.add(member)
    db.session.flush()
    return member


def update_member(member: Member, *, name: str) -> Member:
    """Rename a member."""
    member.name = _name(name, "name", _l("Skriv et navn."))
    db.session.flush()
    return member


@dataclass(frozen=True)
class _SeatTerms:
    """What a seat says about the days it covers."""

    body_id: int
    party_id: int | None
    role: SeatRole
    starts_on: date
    ends_on: date | None

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def on(self, body_id: int, day: date) -> tuple[int | None, SeatRole] | None:
        """(party, role) held in `body_id` on `day`, or None."""
        if body_id == self.body_id and self.covers(day):
            return self.party_id, self.role
        return None


def _terms(seat: Seat) -> _SeatTerms:
    return _SeatTerms(seat.body_id, seat.party_id, seat.role, seat.starts_on, seat.ends_on)


def _period(starts_on: date, ends_on: date | None) -> str:
    if ends_on is None:
        return _("fra %(date)s", date=short_date(starts_on))
    return f"{short_date(starts_on)}–{short_date(ends_on)}"


def _check_locked_meetings(before: _SeatTerms | None, after: _SeatTerms | None) -> None:
    """Refuse a seat change that alters who sat where at a meeting whose minutes are
    approved: the presence lists and votes of those minutes follow from the seats."""
    body_ids = {t.body_id for t in (before, after) if t is not None}
    meetings = db.session.scalars(
        sa.select(Meeting)
        .where(Meeting.body_id.in_(body_ids), Meeting.state.in_(LOCKED_STATES))
        .order_by(Meeting.starts_at)
    )
    for meeting in meetings:
        day = meeting.starts_at.date()
        old = before.on(meeting.body_id, day) if before else None
        new = after.on(meeting.body_id, day) if after else None
        if old != new:
            raise AdminError(
                _l(
                    "Ændringen berører mødet i %(body)s den %(date)s, hvis protokol er"
                    " godkendt. Pladserne på det møde kan ikke ændres.",
                    body=meeting.body.name,
                    date=short_date(day),
                ),
                conflict=True,
            )


def _check_seat(member: Member, seat: Seat | None, terms: _SeatTerms) -> None:
    if terms.ends_on is not None and terms.ends_on < terms.starts_on:
        raise AdminError(_l("Sidste dag kan ikke ligge før første dag."), "ends_on")
    for other in member.seats:
        if other is seat or other.body_id != terms.body_id:
            continue
        if other.starts_on <= (terms.ends_on or date.max) and terms.starts_on <= (
            other.ends_on or date.max
        ):
            raise AdminError(
                _l(
                    "%(member)s har allerede en plads i %(body)s %(period)s, som overlapper.",
                    member=member.name,
                    body=other.body.name,
                    period=_period(other.starts_on, other.ends_on),
                ),
                "starts_on",
            )
    _check_locked_meetings(_terms(seat) if seat is not None else None, terms)


def add_seat(
    member: Member,
    body: Body,
    party: Party | None,
    role: SeatRole,
    starts_on: date,
    ends_on: date | None = None,
) -> Seat:
    """Give a member a seat in a body from `starts_on` to `ends_on` (the last day; None
    while it lasts), for `party` or as an independent (løsgænger, `party` None).

    A member has at most one seat in a body on any day.
    """
    terms = _SeatTerms(body.id, party.id if party else None, role, starts_on, ends_on)
    _check_seat(member, None, terms)
    seat = Seat(
        member=member, body=body, party=party, role=role, starts_on=starts_on, ends_on=ends_on
    )
    db.session.add(seat)
    db.session.flush()
    return seat


def update_seat(
    seat: Seat,
    *,
    body: Body,
    party: Party | None,
    role: SeatRole,
    starts_on: date,
    ends_on: date | None,
) -> Seat:
    """Change a seat's body, party, role or dates."""
    terms = _SeatTerms(body.id, party.id if party else None, role, starts_on, ends_on)
    _check_seat(seat.member, seat, terms)
    seat.body, seat.party, seat.role = body, party, role
    seat.starts_on, seat.ends_on = starts_on, ends_on
    db.session.flush()
    return seat


def end_seat(seat: Seat, ends_on: date) -> Seat:
    """End a lasting seat: `ends_on` is its last day."""
    if seat.ends_on is not None:
        raise AdminError(
            _l("Pladsen er allerede afsluttet den %(date)s.", date=short_date(seat.ends_on)),
            "ends_on",
        )
    terms = _SeatTerms(seat.body_id, seat.party_id, seat.role, seat.starts_on, ends_on)
    _check_seat(seat.member, seat, terms)
    seat.ends_on = ends_on
    db.session.flush()
    return seat


# --- Users -----------------------------------------------------------------------------


def _check_email(email: str | None) -> str:
    email = normalise_email(email or "")
    if not email:
        raise AdminError(_l("Skriv en e-mailadresse."), "email")
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise AdminError(_l("Skriv en gyldig e-mailadresse, fx navn@kk.dk."), "email")
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise AdminError(_l("Der findes allerede en bruger med denne e-mailadresse."), "email")
    return email


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminError(
            _l("Adgangskoden skal have mindst %(min)s tegn.", min=MIN_PASSWORD_LENGTH), "password"
        )
    return password


def _user_name(name: str | None) -> str:
    name = _text(name)
    if len(name) > MAX_NAME_LENGTH:
        raise AdminError(_l("Navnet må højst have %(max)s tegn.", max=MAX_NAME_LENGTH), "name")
    return name


def _member_for(role: Role, member_id: int | None, user: User | None) -> Member | None:
    """The member a user of `role` is linked to (None unless the role is member)."""
    if role != Role.MEMBER:
        return None
    member = db.session.get(Member, member_id) if member_id is not None else None
    if member is None:
        raise AdminError(_l("Vælg det medlem, brugeren hører til."), "member")
    holder = db.session.scalar(sa.select(User).where(User.member_id == member.id))
    if holder is not None and holder is not user:
        raise AdminError(
            _l(
                "%(member)s har allerede en bruger (%(email)s).",
                member=member.name,
                email=holder.email,
            ),
            "member",
        )
    return member


def _bodies_for(role: Role, body_ids: Sequence[int]) -> list[Body]:
    """The bodies a user of `role` manages (only a secretary has any)."""
    if role != Role.SECRETARY:
        return []
    bodies = []
    for body_id in dict.fromkeys(body_ids):
        body = db.session.get(Body, body_id)
        if body is None:
            raise AdminError(_l("Et af de valgte udvalg findes ikke længere."), "bodies")
        bodies.append(body)
    return bodies


def _check_admins_remain(user: User, role: Role, is_active: bool, actor: User | None) -> None:
    """An admin may not lock themself out, and one active admin always remains."""
    if user.role != Role.ADMIN or not user.is_active or (role == Role.ADMIN and is_active):
        return
    field = "role" if role != Role.ADMIN else "is_active"
    if actor is not None and actor.id == user.id:
        raise AdminError(
            _l("Du kan ikke fjerne din egen administratorrolle eller deaktivere dig selv."), field
        )
    others = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(
            User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id
        )
    )
    if not others:
        raise AdminError(_l("Der skal være mindst én aktiv administrator."), field, conflict=True)


def create_account(
    email: str,
    role: Role,
    *,
    name: str = "",
    password: str | None = None,
    member_id: int | None = None,
    body_ids: Sequence[int] = (),
) -> tuple[User, str | None]:
    """Create a user; without a password one is generated.

    Returns the user and the generated password (None when one was given), to be shown
    once. A member-role user is linked to a member; a secretary gets the bodies they
    prepare; the other roles' links are dropped.
    """
    email = _check_email(email)
    name = _user_name(name)
    generated = None
    if password:
        _check_password(password)
    else:
        password = generated = generate_password()
    member = _member_for(role, member_id, None)
    bodies = _bodies_for(role, body_ids)
    try:
        user = create_user(
            email,
            role,
            password,
            name=name,
            member_id=member.id if member else None,
            body_ids=[b.id for b in bodies],
        )
    except AccountError as exc:  # checked above; kept for safety
        raise AdminError(str(exc).capitalize() + ".") from exc
    return user, generated


def update_account(
    user: User,
    *,
    name: str,
    role: Role,
    member_id: int | None,
    body_ids: Sequence[int],
    is_active: bool,
    password: str | None = None,
    actor: User | None,
) -> User:
    """Change a user's name, role, bodies, member, active flag and (when given)
    password. `actor` is the admin making the change."""
    name = _user_name(name)
    _check_admins_remain(user, role, is_active, actor)
    member = _member_for(role, member_id, user)
    bodies = _bodies_for(role, body_ids)
    if password:
        _check_password(password)
    user.name, user.role, user.is_active = name, role, is_active
    user.member = member
    user.bodies = bodies
    if password:
        user.password_hash = hash_password(password)
    db.session.flush()
    return user


def deactivate_user(user: User, *, actor: User | None) -> User:
    """Deactivate a user: they can no longer log in, and a session they have ends."""
    _check_admins_remain(user, user.role, False, actor)
    user.is_active = False
    db.session.flush()
    return user
