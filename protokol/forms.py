"""Form input for every view: the request class that drops control characters from
submitted values, and WTForms fields with Danish error messages (WTForms ships no Danish
catalogue), translated with the interface (the message ids are the Danish texts)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import wtforms
from flask import Request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import SelectChoice
from wtforms.validators import ValidationError

#: C0 control characters other than tab, line feed and carriage return, and DEL: nobody
#: types them, PostgreSQL refuses NUL in text, and the outputs have no use for any.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ProtokolRequest(Request):
    """The app's request: every submitted form value arrives without control characters
    (`CONTROL_CHARACTERS`), whichever view or form reads it, so no text field can carry
    one into the database or the minutes. Uploaded files are not touched."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form and any(CONTROL_CHARACTERS.search(v) for _, v in form.items(multi=True)):
            self.__dict__["form"] = ImmutableMultiDict(
                [(k, CONTROL_CHARACTERS.sub("", v)) for k, v in form.items(multi=True)]
            )


def as_choices(items: Iterable[Any] | None) -> list[SelectChoice] | None:
    """(value, label) pairs as WTForms `SelectChoice`s."""
    if items is None:
        return None
    return [
        item if isinstance(item, SelectChoice) else SelectChoice(str(item[0]), item[1])
        for item in items
    ]


def choice_values(choices: Iterable[Any] | None) -> set[str]:
    return {str(c.value if isinstance(c, SelectChoice) else c[0]) for c in (choices or [])}


class SelectField(wtforms.SelectField):
    """A select whose invalid choice is explained in Danish."""

    def __init__(self, *args: Any, choices: Iterable[Any] | None = None, **kwargs: Any):
        super().__init__(*args, choices=as_choices(choices), **kwargs)

    def pre_validate(self, form) -> None:
        if not self.validate_choice or self.choices is None:
            return
        if str(self.data if self.data is not None else "") not in choice_values(self.choices):
            raise ValidationError(_l("Vælg en af mulighederne på listen."))


class SelectMultipleField(wtforms.SelectMultipleField):
    """A multiple select whose invalid choice is explained in Danish."""

    def __init__(self, *args: Any, choices: Iterable[Any] | None = None, **kwargs: Any):
        super().__init__(*args, choices=as_choices(choices), **kwargs)

    def pre_validate(self, form) -> None:
        allowed = choice_values(self.choices)
        if any(str(value) not in allowed for value in self.data or []):
            raise ValidationError(_l("Vælg blandt mulighederne på listen."))


class RadioField(wtforms.RadioField):
    def __init__(self, *args: Any, choices: Iterable[Any] | None = None, **kwargs: Any):
        super().__init__(*args, choices=as_choices(choices), **kwargs)

    def pre_validate(self, form) -> None:
        if self.choices is None:
            return
        if str(self.data) not in choice_values(self.choices):
            raise ValidationError(_l("Vælg en af mulighederne."))


class IntegerField(wtforms.IntegerField):
    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Skriv et helt tal.")) from exc


class DateField(wtforms.DateField):
    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Ugyldig dato; brug formatet åååå-mm-dd.")) from exc


class DateTimeLocalField(wtforms.DateTimeLocalField):
    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Ugyldigt tidspunkt; brug dato og klokkeslæt.")) from exc
