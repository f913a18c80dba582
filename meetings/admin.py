"""The admin screens: bodies (udvalg) with their party order, genitive name and minutes
style; parties; members and their seats; user accounts. Admins only.

Every view: load or 404 → authorise (`@allow(Role.ADMIN)`) → validate the form → call a
service in `meetings.admin_services` → commit once → redirect. A refused change is
rolled back and the form shown again with the message (400; 409 when the record's state
forbids it or someone else changed the same data). GET never changes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

try:
    from wtforms import SelectChoice
except ImportError:  # WTForms < 3.3 takes (value, label) pairs

    def SelectChoice(value: Any, label: str) -> tuple[Any, str]:
        return value, label


from meetings import admin_services as services
from meetings.admin_services import SEAT_ROLE_LABELS, USER_ROLE_LABELS, AdminError
from meetings.models import Body, Member, Party, Seat, SeatRole
from minutes.styles import DEFAULT_STYLE, StyleError, available_styles, load_style
from protokol.accounts.models import Role, User
from protokol.auth import allow
from protokol.extensions import N_, db
from protokol.resubmit import once

bp = Blueprint("admin", __name__, url_prefix="/admin")

T = TypeVar("T")

#: The party choice for a seat without a party.
INDEPENDENT = "uden-parti"
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y"]
BAD_DATE = _l("Skriv datoen som 2010-12-06 eller 06.12.2010.")
CONFLICT = _l(
    "Ændringen kunne ikke gemmes, fordi de samme oplysninger blev ændret samtidig."
    " Se siden igen, og prøv en gang til."
)


# --- Forms ----------------------------------------------------------------------------

#: WTForms' own messages in Danish, for any validator that has no message of its own; they
#: are translated with the interface (N_ marks them, `_DanishMessages` translates them).
_DANISH = {
    "This field is required.": N_("Udfyld feltet."),
    "Not a valid choice.": N_("Vælg en af mulighederne."),
    "Invalid Choice: could not coerce.": N_("Vælg en af mulighederne."),
    "Invalid choice(s): one or more data inputs could not be coerced.":
        N_("Vælg blandt mulighederne."),
    "'%(value)s' is not a valid choice for this field.": N_("»%(value)s« er ikke en mulighed."),
    "'%(value)s' are not valid choices for this field.": N_("»%(value)s« er ikke muligheder."),
    "Not a valid date value.": N_("Skriv datoen som 2010-12-06 eller 06.12.2010."),
    "Invalid input.": N_("Ugyldig værdi."),
}  # fmt: skip


class _DanishMessages:
    def gettext(self, string: str) -> str:
        return _(_DANISH[string]) if string in _DANISH else string

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


class AdminForm(FlaskForm):
    """Base of the admin forms: CSRF-protected, with WTForms' messages in Danish."""

    class Meta:
        def get_translations(self, form: Any) -> _DanishMessages:
            return _DanishMessages()


def _optional_int(value: Any) -> int | None:
    """Coerce a select's value: "" → None, "12" → 12 (anything else: ValueError)."""
    if value in (None, ""):
        return None
    return int(value)


def _name_field(label: str, missing: str, max_length: int = services.MAX_NAME_LENGTH):
    return StringField(
        label,
        validators=[
            DataRequired(missing),
            Length(max=max_length, message=_l("Skriv højst %(max)s tegn.", max=max_length)),
        ],
    )


def _date_field(label: str, *, required: str | None) -> DateField:
    first = InputRequired(required) if required else Optional()
    return DateField(label, validators=[first], format=DATE_FORMATS, invalid_value_message=BAD_DATE)


class PartyForm(AdminForm):
    letter = _name_field(_l("Bogstav"), _l("Skriv partiets bogstav."), services.MAX_LETTER_LENGTH)
    name = _name_field(_l("Navn"), _l("Skriv partiets navn."))


class BodyForm(AdminForm):
    name = _name_field(_l("Navn"), _l("Skriv udvalgets navn."))
    genitive_name = _name_field(
        _l("Navn i ejefald"),
        _l("Skriv navnet i ejefald, fx »Beskæftigelses- og Integrationsudvalgets«."),
    )
    minutes_style = SelectField(
        _l("Protokolstil"),
        validators=[DataRequired(_l("Vælg en protokolstil."))],
        invalid_choice_message=_l("Vælg en af de tilgængelige protokolstile."),
    )
    party_order = TextAreaField(
        _l("Partiernes rækkefølge"),
        validators=[Length(max=2000, message=_l("Skriv højst 2000 tegn."))],
        render_kw={"rows": 3},
    )


class MemberForm(AdminForm):
    name = _name_field(_l("Navn"), _l("Skriv et navn."))


class SeatForm(AdminForm):
    body = SelectField(
        _l("Udvalg"),
        coerce=_optional_int,
        validators=[DataRequired(_l("Vælg et udvalg."))],
        invalid_choice_message=_l("Vælg et af udvalgene."),
        invalid_value_message=_l("Vælg et af udvalgene."),
    )
    party = SelectField(
        _l("Parti"),
        validators=[DataRequired(_l("Vælg et parti, eller vælg løsgænger."))],
        invalid_choice_message=_l("Vælg et af partierne, eller vælg løsgænger."),
    )
    role = SelectField(
        _l("Rolle"),
        choices=[SelectChoice(r.value, label) for r, label in SEAT_ROLE_LABELS.items()],
        default=SeatRole.MEMBER.value,
        validators=[DataRequired(_l("Vælg en rolle."))],
        invalid_choice_message=_l("Vælg formand, næstformand, medlem eller stedfortræder."),
    )
    starts_on = _date_field(_l("Første dag"), required=_l("Skriv pladsens første dag."))
    ends_on = _date_field(_l("Sidste dag (tom, mens pladsen varer)"), required=None)

    def validate_ends_on(self, field: DateField) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("Sidste dag kan ikke ligge før første dag."))


class EndSeatForm(AdminForm):
    ends_on = _date_field(_l("Sidste dag"), required=_l("Skriv pladsens sidste dag."))


class ConfirmForm(AdminForm):
    """A button that changes something: only the CSRF token."""


class _UserFields(AdminForm):
    name = StringField(
        _l("Navn"),
        validators=[Length(max=services.MAX_NAME_LENGTH, message=_l("Skriv højst 200 tegn."))],
    )
    role = SelectField(
        _l("Rolle"),
        choices=[SelectChoice(r.value, label) for r, label in USER_ROLE_LABELS.items()],
        default=Role.SECRETARY.value,
        validators=[DataRequired(_l("Vælg en rolle."))],
        invalid_choice_message=_l("Vælg administrator, sekretær eller medlem."),
    )
    bodies = SelectMultipleField(
        _l("Udvalg (kun for sekretærer)"),
        coerce=int,
        invalid_choice_message=_l("Vælg blandt de udvalg, der findes."),
        invalid_value_message=_l("Vælg blandt de udvalg, der findes."),
        render_kw={"size": 6},
    )
    member = SelectField(
        _l("Medlem (kun for rollen medlem)"),
        coerce=_optional_int,
        invalid_choice_message=_l("Vælg et af medlemmerne."),
        invalid_value_message=_l("Vælg et af medlemmerne."),
    )


class UserCreateForm(_UserFields):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(_l("Skriv en e-mailadresse.")),
            Length(max=services.MAX_EMAIL_LENGTH, message=_l("Skriv højst 254 tegn.")),
        ],
        render_kw={"autocomplete": "off"},
    )
    password = PasswordField(
        _l("Adgangskode (tom: der dannes en, som vises én gang)"),
        validators=[
            Optional(),
            Length(min=10, message=_l("Adgangskoden skal have mindst 10 tegn.")),
            Length(max=1000, message=_l("Skriv højst 1000 tegn.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class UserEditForm(_UserFields):
    is_active = BooleanField(_l("Aktiv (kan logge ind)"))
    password = PasswordField(
        _l("Ny adgangskode (tom: uændret)"),
        validators=[
            Optional(),
            Length(min=10, message=_l("Adgangskoden skal have mindst 10 tegn.")),
            Length(max=1000, message=_l("Skriv højst 1000 tegn.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


# --- Helpers ----------------------------------------------------------------------------


def _get_or_404(model: type[T], object_id: int) -> T:
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _styles() -> list[str]:
    """The minutes styles a body may use: those found that can be loaded."""
    dirs = tuple(current_app.config.get("PROTOKOL_STYLE_DIRS", ()))
    usable = []
    for name in available_styles(dirs):
        try:
            load_style(name, dirs)
        except StyleError:
            continue
        usable.append(name)
    return usable


def _add_error(form: FlaskForm, message: str, field_name: str | None = None) -> None:
    field = form[field_name] if field_name and field_name in form else None
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


def _apply(form: FlaskForm, change: Callable[[], T]) -> tuple[T | None, int | None]:
    """Run a service call and commit it. On a refusal roll back, put the message on the
    form and return the status to answer with: 400 (refused), 409 (conflict)."""
    try:
        result = change()
        db.session.commit()
    except AdminError as error:
        db.session.rollback()
        _add_error(form, error.message, error.field)
        return None, 409 if error.conflict else 400
    except IntegrityError:
        db.session.rollback()
        _add_error(form, CONFLICT)
        return None, 409
    return result, None


def _count(model: Any, *where: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


# --- Overview ---------------------------------------------------------------------------


@bp.get("/")
@allow(Role.ADMIN)
def index() -> str:
    """Roles: admin. The admin screens with the number of records in each."""
    today = date.today()
    counts = {
        "bodies": _count(Body),
        "parties": _count(Party),
        "members": _count(Member),
        "seats": _count(
            Seat, Seat.starts_on <= today, sa.or_(Seat.ends_on.is_(None), Seat.ends_on >= today)
        ),
        "users": _count(User, User.is_active.is_(True)),
        "inactive_users": _count(User, User.is_active.is_(False)),
    }
    return render_template("admin/index.html", counts=counts)


# --- Bodies -----------------------------------------------------------------------------


@bp.get("/bodies")
@allow(Role.ADMIN)
def bodies() -> str:
    """Roles: admin. The bodies with their party order and minutes style."""
    rows = db.session.scalars(
        sa.select(Body).options(selectinload(Body.party_order)).order_by(Body.name)
    ).all()
    return render_template("admin/bodies.html", bodies=rows)


def _body_form(body: Body | None, styles: list[str]) -> BodyForm:
    if body is None:
        default = DEFAULT_STYLE if DEFAULT_STYLE in styles or not styles else styles[0]
        data = {"minutes_style": default}
    else:
        data = {
            "name": body.name,
            "genitive_name": body.genitive_name,
            "minutes_style": body.minutes_style,
            "party_order": services.format_party_order(body),
        }
    form = BodyForm(data=data)
    choices = [SelectChoice(s, s) for s in styles]
    if body is not None and body.minutes_style not in styles:
        choices.insert(
            0,
            SelectChoice(
                body.minutes_style,
                _("%(style)s (findes ikke eller kan ikke læses)", style=body.minutes_style),
            ),
        )
    form.minutes_style.choices = choices
    return form


def _party_letters(text: str | None) -> list[str]:
    known = db.session.scalars(sa.select(Party.letter)).all()
    return services.split_party_letters(text, known)


def _render_body_form(form: BodyForm, body: Body | None, status: int = 200):
    parties = db.session.scalars(sa.select(Party).order_by(Party.letter)).all()
    return render_template("admin/body_form.html", form=form, body=body, parties=parties), status


@bp.route("/bodies/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
@once
def body_new():
    """Roles: admin. Create a body."""
    styles = _styles()
    form = _body_form(None, styles)
    if not form.validate_on_submit():
        return _render_body_form(form, None, 400 if form.is_submitted() else 200)
    body, status = _apply(
        form,
        lambda: services.create_body(
            form.name.data,
            form.genitive_name.data,
            form.minutes_style.data,
            _party_letters(form.party_order.data),
            styles=styles,
        ),
    )
    if body is None:
        return _render_body_form(form, None, status or 400)
    flash(_("Udvalget %(name)s er oprettet.", name=body.name), "info")
    return redirect(url_for("admin.bodies"))


@bp.route("/bodies/<int:body_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def body_edit(body_id: int):
    """Roles: admin. Change a body's names, minutes style and party order."""
    body = _get_or_404(Body, body_id)
    styles = _styles()
    form = _body_form(body, styles)
    if not form.validate_on_submit():
        return _render_body_form(form, body, 400 if form.is_submitted() else 200)
    result, status = _apply(
        form,
        lambda: services.update_body(
            body,
            name=form.name.data,
            genitive_name=form.genitive_name.data,
            minutes_style=form.minutes_style.data,
            party_letters=_party_letters(form.party_order.data),
            styles=styles,
        ),
    )
    if result is None:
        return _render_body_form(form, body, status or 400)
    flash(_("Udvalget %(name)s er gemt.", name=body.name), "info")
    return redirect(url_for("admin.bodies"))


# --- Parties ----------------------------------------------------------------------------


@bp.get("/parties")
@allow(Role.ADMIN)
def parties() -> str:
    """Roles: admin. The parties by letter."""
    rows = db.session.scalars(sa.select(Party).order_by(Party.letter)).all()
    return render_template("admin/parties.html", parties=rows)


@bp.route("/parties/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
@once
def party_new():
    """Roles: admin. Create a party."""
    form = PartyForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("admin/party_form.html", form=form, party=None), status
    party, status = _apply(form, lambda: services.create_party(form.letter.data, form.name.data))
    if party is None:
        return render_template("admin/party_form.html", form=form, party=None), status
    flash(_("Partiet %(letter)s er oprettet.", letter=party.letter), "info")
    return redirect(url_for("admin.parties"))


@bp.route("/parties/<int:party_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def party_edit(party_id: int):
    """Roles: admin. Change a party's letter and name."""
    party = _get_or_404(Party, party_id)
    form = PartyForm(obj=party)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("admin/party_form.html", form=form, party=party), status
    result, status = _apply(
        form, lambda: services.update_party(party, letter=form.letter.data, name=form.name.data)
    )
    if result is None:
        return render_template("admin/party_form.html", form=form, party=party), status
    flash(_("Partiet %(letter)s er gemt.", letter=party.letter), "info")
    return redirect(url_for("admin.parties"))


# --- Members and seats ------------------------------------------------------------------


@bp.get("/members")
@allow(Role.ADMIN)
def members() -> str:
    """Roles: admin. The members with their seats."""
    rows = db.session.scalars(
        sa.select(Member)
        .options(selectinload(Member.seats).selectinload(Seat.body))
        .order_by(Member.name)
    ).all()
    return render_template("admin/members.html", members=rows, today=date.today())


@bp.route("/members/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
@once
def member_new():
    """Roles: admin. Create a member; seats are added on the member's page."""
    form = MemberForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("admin/member_new.html", form=form), status
    member, status = _apply(form, lambda: services.create_member(form.name.data))
    if member is None:
        return render_template("admin/member_new.html", form=form), status
    flash(_("%(name)s er oprettet. Tilføj medlemmets pladser herunder.", name=member.name), "info")
    return redirect(url_for("admin.member_edit", member_id=member.id))


def _seat_form(seat: Seat | None = None, prefix: str = "") -> SeatForm:
    data = None
    if seat is not None:
        data = {
            "body": seat.body_id,
            "party": str(seat.party_id) if seat.party_id else INDEPENDENT,
            "role": seat.role.value,
            "starts_on": seat.starts_on,
            "ends_on": seat.ends_on,
        }
    form = SeatForm(data=data, prefix=prefix)
    form.body.choices = [SelectChoice("", _l("Vælg udvalg …"))] + [
        SelectChoice(str(b.id), b.name)
        for b in db.session.scalars(sa.select(Body).order_by(Body.name))
    ]
    form.party.choices = [
        SelectChoice("", _l("Vælg parti …")),
        SelectChoice(INDEPENDENT, _l("Løsgænger (uden parti)")),
    ] + [
        SelectChoice(str(p.id), f"{p.letter} – {p.name}")
        for p in db.session.scalars(sa.select(Party).order_by(Party.letter))
    ]
    return form


def _seat_choice(form: SeatForm) -> tuple[Body, Party | None]:
    """The body and party chosen in a validated seat form (404 when deleted meanwhile)."""
    body = _get_or_404(Body, form.body.data)
    party = None if form.party.data == INDEPENDENT else _get_or_404(Party, int(form.party.data))
    return body, party


def _end_form(seat: Seat) -> EndSeatForm:
    return EndSeatForm(prefix=f"end-{seat.id}")


def _render_member(
    member: Member,
    *,
    form: MemberForm | None = None,
    seat_form: SeatForm | None = None,
    end_forms: dict[int, EndSeatForm] | None = None,
    status: int = 200,
):
    forms = {s.id: _end_form(s) for s in member.seats if s.ends_on is None}
    forms.update(end_forms or {})
    return render_template(
        "admin/member.html",
        member=member,
        form=form or MemberForm(obj=member, formdata=None),
        seat_form=seat_form or _seat_form(prefix="seat"),
        end_forms=forms,
        role_labels=SEAT_ROLE_LABELS,
    ), status


@bp.route("/members/<int:member_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def member_edit(member_id: int):
    """Roles: admin. A member's name and seats; POST renames the member."""
    member = _get_or_404(Member, member_id)
    form = MemberForm(obj=member)
    if not form.validate_on_submit():
        return _render_member(member, form=form, status=400 if form.is_submitted() else 200)
    result, status = _apply(form, lambda: services.update_member(member, name=form.name.data))
    if result is None:
        return _render_member(member, form=form, status=status or 400)
    flash(_("%(name)s er gemt.", name=member.name), "info")
    return redirect(url_for("admin.member_edit", member_id=member.id))


@bp.post("/members/<int:member_id>/seats")
@allow(Role.ADMIN)
@once
def seat_new(member_id: int):
    """Roles: admin. Give a member a seat in a body."""
    member = _get_or_404(Member, member_id)
    form = _seat_form(prefix="seat")
    if not form.validate_on_submit():
        return _render_member(member, seat_form=form, status=400)
    body, party = _seat_choice(form)
    seat, status = _apply(
        form,
        lambda: services.add_seat(
            member, body, party, SeatRole(form.role.data), form.starts_on.data, form.ends_on.data
        ),
    )
    if seat is None:
        return _render_member(member, seat_form=form, status=status or 400)
    flash(_("Pladsen i %(body)s er tilføjet.", body=body.name), "info")
    return redirect(url_for("admin.member_edit", member_id=member.id))


@bp.route("/seats/<int:seat_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def seat_edit(seat_id: int):
    """Roles: admin. Change a seat's body, party, role or dates."""
    seat = _get_or_404(Seat, seat_id)
    form = _seat_form(seat)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("admin/seat_form.html", form=form, seat=seat), status
    body, party = _seat_choice(form)
    result, status = _apply(
        form,
        lambda: services.update_seat(
            seat,
            body=body,
            party=party,
            role=SeatRole(form.role.data),
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
        ),
    )
    if result is None:
        return render_template("admin/seat_form.html", form=form, seat=seat), status
    flash(_("Pladsen er gemt."), "info")
    return redirect(url_for("admin.member_edit", member_id=seat.member_id))


@bp.post("/seats/<int:seat_id>/end")
@allow(Role.ADMIN)
def seat_end(seat_id: int):
    """Roles: admin. End a lasting seat on a given last day."""
    seat = _get_or_404(Seat, seat_id)
    member = seat.member
    form = _end_form(seat)
    if not form.validate_on_submit():
        return _render_member(member, end_forms={seat.id: form}, status=400)
    result, status = _apply(form, lambda: services.end_seat(seat, form.ends_on.data))
    if result is None:
        return _render_member(member, end_forms={seat.id: form}, status=status or 400)
    flash(_("Pladsen i %(body)s er afsluttet.", body=seat.body.name), "info")
    return redirect(url_for("admin.member_edit", member_id=member.id))


# --- Users ------------------------------------------------------------------------------


def _render_users(confirm: ConfirmForm, status: int = 200):
    rows = db.session.scalars(
        sa.select(User)
        .options(selectinload(User.bodies), selectinload(User.member))
        .order_by(User.is_active.desc(), User.email)
    ).all()
    return render_template(
        "admin/users.html", users=rows, role_labels=USER_ROLE_LABELS, confirm=confirm
    ), status


@bp.get("/users")
@allow(Role.ADMIN)
def users():
    """Roles: admin. The user accounts."""
    return _render_users(ConfirmForm())


def _user_choices(form: _UserFields) -> None:
    form.bodies.choices = [
        SelectChoice(str(b.id), b.name)
        for b in db.session.scalars(sa.select(Body).order_by(Body.name))
    ]
    form.member.choices = [SelectChoice("", _l("Intet medlem"))] + [
        SelectChoice(str(m.id), m.name)
        for m in db.session.scalars(sa.select(Member).order_by(Member.name))
    ]


def _render_user_form(form: _UserFields, user: User | None, status: int = 200):
    return render_template("admin/user_form.html", form=form, user=user), status


@bp.route("/users/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
@once
def user_new():
    """Roles: admin. Create a user; a generated password is shown once."""
    form = UserCreateForm()
    _user_choices(form)
    if not form.validate_on_submit():
        return _render_user_form(form, None, 400 if form.is_submitted() else 200)
    created, status = _apply(
        form,
        lambda: services.create_account(
            form.email.data,
            Role(form.role.data),
            name=form.name.data or "",
            password=form.password.data or None,
            member_id=form.member.data,
            body_ids=form.bodies.data or [],
        ),
    )
    if created is None:
        return _render_user_form(form, None, status or 400)
    user, generated = created
    if generated:
        flash(
            _(
                "Brugeren %(email)s er oprettet med adgangskoden %(password)s. Den vises kun"
                " denne ene gang; giv den videre på en sikker måde.",
                email=user.email,
                password=generated,
            ),
            "password",
        )
    else:
        flash(_("Brugeren %(email)s er oprettet.", email=user.email), "info")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def user_edit(user_id: int):
    """Roles: admin. Change a user's role, bodies, member, active flag or password."""
    user = _get_or_404(User, user_id)
    form = UserEditForm(
        data={
            "name": user.name,
            "role": user.role.value,
            "bodies": [b.id for b in user.bodies],
            "member": user.member_id,
            "is_active": user.is_active,
        }
    )
    _user_choices(form)
    if not form.validate_on_submit():
        return _render_user_form(form, user, 400 if form.is_submitted() else 200)
    result, status = _apply(
        form,
        lambda: services.update_account(
            user,
            name=form.name.data or "",
            role=Role(form.role.data),
            member_id=form.member.data,
            body_ids=form.bodies.data or [],
            is_active=form.is_active.data,
            password=form.password.data or None,
            actor=current_user._get_current_object(),
        ),
    )
    if result is None:
        return _render_user_form(form, user, status or 400)
    flash(_("Brugeren %(email)s er gemt.", email=user.email), "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/deactivate")
@allow(Role.ADMIN)
def user_deactivate(user_id: int):
    """Roles: admin. Deactivate a user: they can no longer log in."""
    user = _get_or_404(User, user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _render_users(form, 400)
    result, status = _apply(
        form,
        lambda: services.deactivate_user(user, actor=current_user._get_current_object()),
    )
    if result is None:
        return _render_users(form, status or 400)
    flash(_("Brugeren %(email)s er deaktiveret.", email=user.email), "info")
    return redirect(url_for("admin.users"))
