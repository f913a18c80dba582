"""Forms for protocol remarks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from protokol.forms import SelectField, SelectMultipleField, as_choices

REMARK_KIND_CHOICES = [
    ("party", _l("Fra et parti")),
    ("joint", _l("Fælles fra flere partier")),
    ("personal", _l("Personlig, fra et medlem")),
]


class RemarkForm(FlaskForm):
    kind = SelectField(_l("Bemærkning"), choices=REMARK_KIND_CHOICES, default="party")
    party = SelectField(_l("Parti"), choices=[])
    co_parties = SelectMultipleField(_l("Øvrige partier (fælles bemærkning)"), choices=[])
    member = SelectField(_l("Medlem (personlig bemærkning)"), choices=[])
    text = TextAreaField(
        _l("Bemærkningens tekst (ordret)"),
        validators=[
            InputRequired(_l("Skriv bemærkningens tekst.")),
            Length(max=20_000, message=_l("Højst 20.000 tegn.")),
        ],
        render_kw={"rows": 5},
    )

    def __init__(self, *args, parties=(), members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.party.choices = as_choices(
            [("", _l("— vælg —"))] + [(p.id, p.letter) for p in parties]
        )
        self.co_parties.choices = as_choices([(p.id, p.letter) for p in parties])
        self.member.choices = as_choices(
            [("", _l("— vælg —"))] + [(s.member.id, s.label) for s in members]
        )
