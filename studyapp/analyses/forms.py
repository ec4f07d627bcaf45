"""The form for asking for an analysis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from studyapp.inputs import SelectChoice


class AnalysisForm(FlaskForm):
    """Cohort, profile range, models, starts and bootstrap draws."""

    cohort_id = SelectField(_l("Cohort"), coerce=int)
    k_min = IntegerField(_l("Profiles from"), default=1, validators=[InputRequired(), NumberRange(1, 10)])
    k_max = IntegerField(_l("to"), default=7, validators=[InputRequired(), NumberRange(1, 10)])
    parameterisations = SelectMultipleField(
        _l("Models"),
        choices=[
            SelectChoice("EEI", _l("EEI: equal diagonal variances (Mplus default)")),
            SelectChoice("VVI", _l("VVI: profile-specific diagonal variances")),
            SelectChoice("EEE", _l("EEE: equal full covariances")),
            SelectChoice("VVV", _l("VVV: profile-specific full covariances")),
        ],
        default=["EEI", "VVI"],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validators=[InputRequired(message=_l("Choose at least one model."))],
    )
    n_starts = IntegerField(
        _l("Random starts per model"), default=20, validators=[InputRequired(), NumberRange(1, 500)]
    )
    blrt_draws = IntegerField(
        _l("Bootstrapped LRT draws per K"),
        default=0,
        validators=[InputRequired(), NumberRange(0, 500)],
        description=_l("0 skips the BLRT (BIC alone decides); 100 is the usual choice but takes a while."),
    )
    transition_bootstrap = IntegerField(
        _l("Bootstrap draws for transition intervals"),
        default=50,
        validators=[InputRequired(), NumberRange(0, 1000)],
    )

    @staticmethod
    def parameter_names() -> tuple[str, ...]:
        return ("k_min", "k_max", "parameterisations", "n_starts", "blrt_draws", "transition_bootstrap")

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok: bool = super().validate(extra_validators)
        low, high = self.k_min.data, self.k_max.data
        if ok and low is not None and high is not None and low > high:
            self.k_max.errors = [_l("Must be at least the first number.")]
            return False
        return ok
