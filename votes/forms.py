"""Forms of the live console's vote recording. Every vote form carries the vote version
the secretary saw (optimistic locking)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from protokol.forms import IntegerField, RadioField, SelectField, as_choices

POSITION_CHOICES = [("for", "For"), ("against", "Imod"), ("abstain", "Undlod"), ("", "Ryd")]
MEMBER_POSITION_CHOICES = [
    ("for", "For"),
    ("against", "Imod"),
    ("abstain", "Undlod"),
    ("not_voting", "Deltog ikke"),
    ("", "Som partiet"),
]


class VersionedForm(FlaskForm):
    version = IntegerField(
        validators=[
            InputRequired("Versionen mangler; genindlæs siden."),
            NumberRange(min=1, message="Ugyldig version."),
        ],
    )


class PositionForm(VersionedForm):
    position = SelectField(
        "Stemme",
        choices=POSITION_CHOICES,
        validators=[Optional()],
    )


class MemberPositionForm(VersionedForm):
    position = SelectField("Stemme", choices=MEMBER_POSITION_CHOICES, validators=[Optional()])


class BulkPositionForm(VersionedForm):
    position = SelectField(
        "Stemme",
        choices=POSITION_CHOICES[:3],
        validators=[InputRequired("Vælg For, Imod eller Undlod.")],
    )


class WithoutVoteForm(VersionedForm):
    outcome = SelectField(
        "Afgjort uden afstemning",
        choices=[
            ("", "Nej, der stemmes"),
            ("adopted", "Vedtaget uden afstemning"),
            ("rejected", "Forkastet uden afstemning"),
        ],
        validators=[Optional()],
    )


class ResultForm(VersionedForm):
    mode = RadioField(
        "Resultatsætning",
        choices=[
            ("default", "Standardsætning"),
            ("custom", "Egen sætning"),
            ("omitted", "Ingen sætning"),
        ],
        validators=[InputRequired("Vælg en resultatsætning.")],
    )
    text = StringField("Egen sætning", validators=[Length(max=2000, message="Højst 2000 tegn.")])


class DecisionForm(FlaskForm):
    result_key = SelectField("Beslutning", choices=[], validators=[Optional()])
    result_text = TextAreaField(
        "Egen formulering (erstatter standardsætningen)",
        validators=[Length(max=5000, message="Højst 5000 tegn.")],
        render_kw={"rows": 2},
    )

    def __init__(self, *args, final_results: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.result_key.choices = as_choices(
            [("", "— ingen standardsætning —"), *(final_results or {}).items()]
        )
