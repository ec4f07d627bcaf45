"""The researcher's export page: choose cohorts, waves, formats and language; download a zip."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, send_file
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import col, select
from wtforms import BooleanField, RadioField, SelectMultipleField, widgets
from wtforms.validators import DataRequired

from studyapp.auth import staff_required
from studyapp.core.models import Cohort, Study, Wave
from studyapp.core.spreadsheet_safety import text_note
from studyapp.database import get_reading_session, get_session
from studyapp.exports.deposit import DepositError, deposit_zip
from studyapp.exports.service import FORMATS, ExportScope, export_zip
from studyapp.inputs import SelectChoice

bp = Blueprint("exports", __name__)

FORMAT_LABELS = {
    "long_csv": _l("CSV, long (one row per answer)"),
    "wide_csv": _l("CSV, wide (one row per participant and wave)"),
    "sav": _l("SPSS .sav with variable and value labels"),
    "parquet": _l("Parquet (for R arrow, pandas, DuckDB)"),
    "codebook_json": _l("Codebook (JSON)"),
    "codebook_html": _l("Codebook (HTML)"),
}


class _Checkboxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ExportForm(FlaskForm):
    """What to export."""

    cohorts = _Checkboxes(_l("Cohorts"), coerce=int)
    waves = _Checkboxes(_l("Waves"), coerce=int)
    formats = _Checkboxes(
        _l("Formats"),
        choices=[SelectChoice(f, FORMAT_LABELS[f]) for f in FORMATS],
        default=list(FORMATS),
        validators=[DataRequired(_l("Choose at least one format."))],
    )
    language = RadioField(
        _l("Labels in"), choices=[SelectChoice("en", _l("English")), SelectChoice("nl", _l("Dutch"))], default="en"
    )
    submitted_only = BooleanField(_l("Only submitted responses (leave out those started but not submitted)"))
    raw_text = BooleanField(_l("Raw text for R and Python (not for Excel)"))


class DepositForm(FlaskForm):
    """What to put into an archive-ready deposit."""

    cohorts = _Checkboxes(_l("Cohorts"), coerce=int)
    waves = _Checkboxes(_l("Waves"), coerce=int)
    language = RadioField(
        _l("Labels in"), choices=[SelectChoice("en", _l("English")), SelectChoice("nl", _l("Dutch"))], default="en"
    )
    submitted_only = BooleanField(_l("Only submitted responses (leave out those started but not submitted)"))
    include_text = BooleanField(_l("Include free-text answers (they may hold names: check them before depositing)"))


def _study_and_choices(study_id: int) -> tuple[Study, list[SelectChoice], list[SelectChoice]]:
    session = get_session()
    study = session.get(Study, study_id)
    if study is None:
        abort(404)
    cohorts = session.exec(select(Cohort).where(Cohort.study_id == study.id).order_by(Cohort.name)).all()
    names = {c.id: c.name for c in cohorts}
    waves = session.exec(
        select(Wave)
        .join(Cohort, col(Cohort.id) == Wave.cohort_id)
        .where(Cohort.study_id == study.id)
        .order_by(col(Wave.cohort_id), col(Wave.position))
    ).all()
    return (
        study,
        [SelectChoice(c.id, c.name) for c in cohorts],
        [SelectChoice(w.id, f"{names[w.cohort_id]} · {w.label}") for w in waves],
    )


def _deposit_form(cohorts: list[SelectChoice], waves: list[SelectChoice]) -> DepositForm:
    form = DepositForm(prefix="deposit", language=str(get_locale() or "en"))
    form.cohorts.choices = cohorts
    form.waves.choices = waves
    return form


def _page(study: Study, form: ExportForm, deposit: DepositForm, status: int = 200) -> ResponseReturnValue:
    return (
        render_template("exports/index.html", study=study, form=form, deposit=deposit, text_note=gettext(text_note())),
        status,
    )


@bp.route("/studies/<int:study_id>/export/deposit", methods=["POST"])
@staff_required
def deposit(study_id: int) -> ResponseReturnValue:
    """Download an archive-ready deposit (BagIt bag, zipped; audit-logged)."""
    session = get_session()
    study, cohorts, waves = _study_and_choices(study_id)
    form = ExportForm(language=str(get_locale() or "en"), formdata=None)
    form.cohorts.choices = cohorts
    form.waves.choices = waves
    deposit_form = _deposit_form(cohorts, waves)
    if not deposit_form.validate_on_submit():
        return _page(study, form, deposit_form, 400)
    scope = ExportScope(
        study=study,
        cohort_ids=deposit_form.cohorts.data or [],
        wave_ids=deposit_form.waves.data or [],
        language=deposit_form.language.data or "en",
        submitted_only=bool(deposit_form.submitted_only.data),
        include_text=bool(deposit_form.include_text.data),
    )
    try:
        archive = deposit_zip(
            session=session,
            reader=get_reading_session(),
            scope=scope,
            user=current_user,
            ip_address=request.remote_addr or "",
        )
    except DepositError as error:
        session.rollback()
        deposit_form.form_errors.append(str(error))
        return _page(study, form, deposit_form, 422)
    session.commit()
    name = f"{study.slug}-deposit.zip"
    return send_file(archive, mimetype="application/zip", as_attachment=True, download_name=name)


@bp.route("/studies/<int:study_id>/export", methods=["GET", "POST"])
@staff_required
def index(study_id: int) -> ResponseReturnValue:
    """Choose and download a pseudonymised export (audit-logged)."""
    session = get_session()
    study, cohorts, waves = _study_and_choices(study_id)
    # labels and the codebook's own words in the researcher's language unless they choose the other
    form = ExportForm(language=str(get_locale() or "en"))
    form.cohorts.choices = cohorts
    form.waves.choices = waves
    if form.validate_on_submit():
        scope = ExportScope(
            study=study,
            cohort_ids=form.cohorts.data or [],
            wave_ids=form.waves.data or [],
            language=form.language.data or "en",
            submitted_only=bool(form.submitted_only.data),
        )
        archive = export_zip(
            session=session,
            reader=get_reading_session(),
            scope=scope,
            formats=form.formats.data or [],  # never empty: the field requires a choice
            user=current_user,
            ip_address=request.remote_addr or "",
            raw_text=form.raw_text.data,
        )
        session.commit()
        name = f"{study.slug}-export.zip"
        return send_file(archive, mimetype="application/zip", as_attachment=True, download_name=name)
    return _page(study, form, _deposit_form(cohorts, waves))
