"""Forms for protocol remarks."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from protokol.forms import SelectField, SelectMultipleField, as_choices

REMARK_KIND_CHOICES = [
    ("party", "Fra et parti"),
    ("joint", "Fælles fra flere partier"),
    ("personal", "Personlig, fra et medlem"),
]


class RemarkForm(FlaskForm):
    kind = SelectField("Bemærkning", choices=REMARK_KIND_CHOICES, default="party")
    party = SelectField("Parti", choices=[])
    co_parties = SelectMultipleField("Øvrige partier (fælles bemærkning)", choices=[])
    member = SelectField("Medlem (personlig bemærkning)", choices=[])
    text = TextAreaField(
        "Bemærkningens tekst (ordret)",
        validators=[
            InputRequired("Skriv bemærkningens tekst."),
            Length(max=20_000, message="Højst 20.000 tegn."),
        ],
        render_kw={"rows": 5},
    )

    def __init__(self, *args, parties=(), members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.party.choices = as_choices([("", "— vælg —")] + [(p.id, p.letter) for p in parties])
        self.co_parties.choices = as_choices([(p.id, p.letter) for p in parties])
        self.member.choices = as_choices(
            [("", "— vælg —")] + [(s.member.id, s.label) for s in members]
        )
