"""Forms for filing and editing motions in the live console."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from motions.models import MotionKind
from protokol.forms import SelectField, as_choices

KIND_LABELS = {
    MotionKind.AMENDMENT: _l("Ændringsforslag"),
    MotionKind.ADDITION: _l("Tillægsforslag"),
    MotionKind.POSTPONEMENT: _l("Udsættelsesforslag"),
    MotionKind.PROCEDURAL: _l("Forslag til forretningsordenen"),
    MotionKind.RECOMMENDATION: _l("Indstillingen (afstemning om indstillingen)"),
}


class MotionForm(FlaskForm):
    """A motion: its kind, who moves it ("m:<member id>", "p:<party id>" or "o:" with a
    name), and its verbatim text."""

    kind = SelectField(
        _l("Type"),
        choices=[(k.value, label) for k, label in KIND_LABELS.items()],
        default=MotionKind.AMENDMENT.value,
        validators=[InputRequired(_l("Vælg forslagets type."))],
    )
    proposer = SelectField(_l("Stillet af"), choices=[])
    proposer_name = StringField(
        _l("Anden forslagsstiller"),
        validators=[Length(max=200, message=_l("Højst 200 tegn."))],
        description=_l(
            "Fx forvaltningen eller formanden, når forslaget ikke stilles af et medlem."
        ),
    )
    text = TextAreaField(
        _l("Forslagets tekst (ordret)"),
        validators=[Length(max=100_000, message=_l("Teksten er for lang (højst 100.000 tegn)."))],
        render_kw={"rows": 8},
    )

    def __init__(self, *args, proposer_choices: list[tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposer.choices = as_choices(
            [("", _l("— vælg —")), *(proposer_choices or []), ("o:", _l("Andre"))]
        )

    def validate_text(self, field) -> None:
        if self.kind.data != MotionKind.RECOMMENDATION.value and not (field.data or "").strip():
            raise ValidationError(_l("Indsæt forslagets tekst."))
