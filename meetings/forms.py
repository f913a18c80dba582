"""Forms for the secretary's preparation screens (forberedelse), with Danish messages.

Every form is a `FlaskForm`, so it carries the CSRF token. Text is cleaned on the way in:
control characters (which PostgreSQL refuses in text) are dropped, line endings are
normalised to "\\n", and surrounding white space is stripped.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from meetings.models import ItemPresence

try:
    from wtforms import SelectChoice
except ImportError:  # WTForms < 3.3 takes (value, label) tuples
    SelectChoice = None  # type: ignore[assignment,misc]

#: Control characters other than tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

#: Longest free text accepted in a text area (summary, clause, case section).
MAX_TEXT = 100_000
#: Highest item or attachment number accepted.
MAX_NUMBER = 9999

DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y"]
TIME_FORMATS = ["%H:%M", "%H.%M"]


def clean_text(value: Any) -> Any:
    """Text area input: "\\r\\n" → "\\n", control characters dropped, stripped; a
    missing field is empty."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", value).strip()


def clean_line(value: Any) -> Any:
    """One-line input: line breaks and tabs become spaces, other control characters are
    dropped, runs of white space become one space; a missing field is empty."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    return " ".join(_CONTROL.sub("", value.replace("\r", " ").replace("\n", " ")).split())


def _choices(*pairs: tuple[str, str]) -> list[Any]:
    """Select options; WTForms 3.3 deprecates plain (value, label) tuples."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def _too_long(limit: int) -> Length:
    return Length(max=limit, message=_l("Højst %(limit)s tegn.", limit=limit))


def _number_field(label: object, *, required: object | None = None) -> IntegerField:
    """A number from 1 to MAX_NUMBER; `required` is the message when it is missing (None:
    optional)."""
    first = InputRequired(required) if required else Optional()
    return IntegerField(
        label,
        validators=[
            first,
            NumberRange(
                1, MAX_NUMBER, _l("Nummeret skal være mellem 1 og %(max)s.", max=MAX_NUMBER)
            ),
        ],
        invalid_value_message=_l("Nummeret skal være et helt tal, fx 14."),
    )


class MeetingForm(FlaskForm):
    """A meeting's date, time and place (create and edit)."""

    date = DateField(
        _l("Dato"),
        format=DATE_FORMATS,
        validators=[InputRequired(_l("Angiv mødets dato."))],
        invalid_value_message=_l("Skriv datoen som åååå-mm-dd eller dd.mm.åååå, fx 06.12.2010."),
    )
    time = TimeField(
        _l("Klokkeslæt"),
        format=TIME_FORMATS,
        validators=[InputRequired(_l("Angiv klokkeslættet, mødet begynder."))],
        invalid_value_message=_l("Skriv klokkeslættet som tt:mm, fx 15:30."),
    )
    location = StringField(_l("Sted"), filters=[clean_line], validators=[_too_long(300)])


class NewItemForm(FlaskForm):
    """A new agenda item; the number defaults to the next free one."""

    number = _number_field(_l("Nummer"))
    title = StringField(
        _l("Titel"),
        filters=[clean_line],
        validators=[DataRequired(_l("Skriv punktets titel.")), _too_long(500)],
    )
    case_number = StringField(_l("Sagsnummer"), filters=[clean_line], validators=[_too_long(50)])
    is_closed = BooleanField(_l("Lukket punkt"))


class ItemForm(FlaskForm):
    """An agenda item's own fields."""

    number = _number_field(_l("Nummer"), required=_l("Angiv punktets nummer."))
    title = StringField(
        _l("Titel"),
        filters=[clean_line],
        validators=[DataRequired(_l("Skriv punktets titel.")), _too_long(500)],
    )
    case_number = StringField(_l("Sagsnummer"), filters=[clean_line], validators=[_too_long(50)])
    administration = StringField(
        _l("Forvaltning"), filters=[clean_line], validators=[_too_long(200)]
    )
    summary = TextAreaField(
        _l("Resumé"), filters=[clean_text], validators=[_too_long(MAX_TEXT)], render_kw={"rows": 5}
    )
    is_closed = BooleanField(_l("Lukket punkt"))


class MoveForm(FlaskForm):
    """Move a row one place up or down (the button's value)."""

    direction = SelectField(
        _l("Retning"),
        choices=_choices(("up", _l("Op")), ("down", _l("Ned"))),
        invalid_choice_message=_l("Vælg op eller ned."),
    )


class ClosedForm(FlaskForm):
    """Mark an item closed (lukket punkt) or open."""

    closed = SelectField(
        _l("Lukket"),
        choices=_choices(("1", _l("Lukket")), ("0", _l("Åbent"))),
        invalid_choice_message=_l("Vælg lukket eller åbent."),
    )


class ConfirmDeleteForm(FlaskForm):
    """Deleting an item must be confirmed."""

    confirm = BooleanField(
        _l("Ja, slet punktet med alt, hvad der hører til det"),
        validators=[DataRequired(_l("Sæt kryds for at bekræfte, at punktet skal slettes."))],
    )


class ClauseForm(FlaskForm):
    """A recommendation clause (indstilling): lead-in and text."""

    lead_in = TextAreaField(
        _l("Indledning"),
        filters=[clean_text],
        validators=[_too_long(MAX_TEXT)],
        render_kw={"rows": 2},
    )
    text = TextAreaField(
        _l("Tekst"),
        filters=[clean_text],
        validators=[DataRequired(_l("Skriv indstillingens tekst.")), _too_long(MAX_TEXT)],
        render_kw={"rows": 2},
    )


class SectionForm(FlaskForm):
    """A case section: heading and body (CommonMark with tables)."""

    heading = StringField(
        _l("Overskrift"),
        filters=[clean_line],
        validators=[DataRequired(_l("Skriv afsnittets overskrift.")), _too_long(200)],
    )
    body = TextAreaField(
        _l("Tekst"),
        filters=[clean_text],
        validators=[_too_long(MAX_TEXT)],
        render_kw={"rows": 10},
    )


class SignatoriesForm(FlaskForm):
    """The officials who signed the case presentation, one per line."""

    names = TextAreaField(
        _l("Underskrivere"),
        filters=[clean_text],
        validators=[_too_long(5000)],
        render_kw={"rows": 3},
    )

    def validate_names(self, field: TextAreaField) -> None:
        for line in self.name_list():
            if len(line) > 200:
                raise ValidationError(
                    _l("Et navn må højst have 200 tegn: »%(name)s…«.", name=line[:40])
                )

    def name_list(self) -> list[str]:
        """The non-empty lines, with white space tidied."""
        return [
            " ".join(line.split()) for line in (self.names.data or "").split("\n") if line.strip()
        ]


class AttachmentUploadForm(FlaskForm):
    """A new attachment (bilag): a PDF file, its number and title."""

    number = _number_field(_l("Nummer"))
    title = StringField(_l("Titel"), filters=[clean_line], validators=[_too_long(500)])
    file = FileField(
        _l("PDF-fil"),
        validators=[FileRequired(_l("Vælg en PDF-fil."))],
        render_kw={"accept": "application/pdf,.pdf"},
    )


class AttachmentForm(FlaskForm):
    """An attachment's number and title."""

    number = _number_field(_l("Nummer"), required=_l("Angiv bilagets nummer."))
    title = StringField(
        _l("Titel"),
        filters=[clean_line],
        validators=[DataRequired(_l("Skriv bilagets titel.")), _too_long(500)],
    )


def attendance_form(member_ids: list[int]) -> type[FlaskForm]:
    """A form with `present_<id>` and `note_<id>` for each seated member."""
    fields: dict[str, Any] = {}
    for member_id in member_ids:
        fields[f"present_{member_id}"] = BooleanField(_l("Til stede"))
        fields[f"note_{member_id}"] = StringField(
            _l("Bemærkning"), filters=[clean_line], validators=[_too_long(300)]
        )
    return type("AttendanceForm", (FlaskForm,), fields)


#: Choices for a member's presence for one item; "" follows the meeting's attendance.
PRESENCE_CHOICES = _choices(
    ("", _l("Som mødet")),
    (ItemPresence.PRESENT.value, _l("Til stede")),
    (ItemPresence.ABSENT.value, _l("Fraværende")),
    (ItemPresence.DISQUALIFIED.value, _l("Inhabil")),
)


def item_attendance_form(member_ids: list[int]) -> type[FlaskForm]:
    """A form with `presence_<id>` (an exception for the item, or "") per seated member."""
    fields: dict[str, Any] = {
        f"presence_{member_id}": SelectField(
            _l("Til punktet"),
            choices=PRESENCE_CHOICES,
            default="",
            invalid_choice_message=_l("Vælg som mødet, til stede, fraværende eller inhabil."),
        )
        for member_id in member_ids
    }
    return type("ItemAttendanceForm", (FlaskForm,), fields)
