"""Forms of the live console's vote recording. Every vote form carries the vote version
the secretary saw (optimistic locking)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from protokol.forms import IntegerField, RadioField, SelectField, as_choices

POSITION_CHOICES = [
    ("for", _l("For")),
    ("against", _l("Imod")),
    ("abstain", _l("Undlod")),
    ("", _l("Ryd")),
]
MEMBER_POSITION_CHOICES = [
    ("for", _l("For")),
    ("against", _l("Imod")),
    ("abstain", _l("Undlod")),
    ("not_voting", _l("Deltog ikke")),
    ("", _l("Som partiet")),
]


class VersionedForm(FlaskForm):
    version = IntegerField(
        validators=[
            InputRequired(_l("Versionen mangler; genindlæs siden.")),
            NumberRange(min=1, message=_l("Ugyldig version.")),
        ],
    )


class PositionForm(VersionedForm):
    position = SelectField(
        _l("Stemme"),
        choices=POSITION_CHOICES,
        validators=[Optional()],
    )


class MemberPositionForm(VersionedForm):
    position = SelectField(_l("Stemme"), choices=MEMBER_POSITION_CHOICES, validators=[Optional()])


class BulkPositionForm(VersionedForm):
    position = SelectField(
        _l("Stemme"),
        choices=POSITION_CHOICES[:3],
        validators=[InputRequired(_l("Vælg For, Imod eller Undlod."))],
    )


class WithoutVoteForm(VersionedForm):
    outcome = SelectField(
        _l("Afgjort uden afstemning"),
        choices=[
            ("", _l("Nej, der stemmes")),
            ("adopted", _l("Vedtaget uden afstemning")),
            ("rejected", _l("Forkastet uden afstemning")),
        ],
        validators=[Optional()],
    )


class ResultForm(VersionedForm):
    mode = RadioField(
        _l("Resultatsætning"),
        choices=[
            ("default", _l("Standardsætning")),
            ("custom", _l("Egen sætning")),
            ("omitted", _l("Ingen sætning")),
        ],
        validators=[InputRequired(_l("Vælg en resultatsætning."))],
    )
    text = StringField(
        _l("Egen sætning"), validators=[Length(max=2000, message=_l("Højst 2000 tegn."))]
    )


class DecisionForm(FlaskForm):
    result_key = SelectField(_l("Beslutning"), choices=[], validators=[Optional()])
    result_text = TextAreaField(
        _l("Egen formulering (erstatter standardsætningen)"),
        validators=[Length(max=5000, message=_l("Højst 5000 tegn."))],
        render_kw={"rows": 2},
    )

    def __init__(self, *args, final_results: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.result_key.choices = as_choices(
            [("", _l("— ingen standardsætning —")), *(final_results or {}).items()]
        )
