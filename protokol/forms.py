"""WTForms fields with Danish error messages (WTForms ships no Danish catalogue)."""

from __future__ import annotations

import wtforms
from wtforms.validators import ValidationError


class SelectField(wtforms.SelectField):
    """A select whose invalid choice is explained in Danish."""

    def pre_validate(self, form) -> None:
        if not self.validate_choice or self.choices is None:
            return
        values = {str(choice[0]) for choice in self.choices}
        if str(self.data if self.data is not None else "") not in values:
            raise ValidationError("Vælg en af mulighederne på listen.")


class RadioField(wtforms.RadioField):
    def pre_validate(self, form) -> None:
        if self.choices is None:
            return
        values = {str(choice[0]) for choice in self.choices}
        if str(self.data) not in values:
            raise ValidationError("Vælg en af mulighederne.")


class IntegerField(wtforms.IntegerField):
    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("Skriv et helt tal.") from exc


class DateField(wtforms.DateField):
    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("Ugyldig dato; brug formatet åååå-mm-dd.") from exc


class DateTimeLocalField(wtforms.DateTimeLocalField):
    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("Ugyldigt tidspunkt; brug dato og klokkeslæt.") from exc
