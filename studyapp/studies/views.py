"""Admin pages for studies, cohorts and waves (thin: parse, call a service, render)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlmodel import select
from wtforms import Field

from studyapp.auth import STAFF_ROLES, staff_required
from studyapp.core.errors import NotAllowed, ValidationFailed
from studyapp.core.inputs import InputError, local_to_utc
from studyapp.core.models import Cohort, Instrument, Study, Wave
from studyapp.core.scheduler_status import scheduler_status
from studyapp.core.types import utcnow
from studyapp.database import get_session
from studyapp.inputs import SelectChoice
from studyapp.participants.identities import may_view_identities
from studyapp.studies import retention, services
from studyapp.studies.forms import CohortForm, DeleteForm, RetentionForm, StudyForm, WaveForm
from studyapp.studies.schedule import WaveSchedule, describe, parse_day_list

bp = Blueprint("studies", __name__)

T = TypeVar("T")


def _get_or_404(model: type[T], object_id: int) -> T:
    found = get_session().get(model, object_id)
    if found is None:
        abort(404)
    return found


def _show_errors(form: FlaskForm, error: ValidationFailed) -> None:
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


def _all_problems(form: FlaskForm, problems: dict[str, str]) -> bool:
    """Put the service's ``problems`` beside their fields (where the form found none of its own) and say
    whether the form is free of errors: every problem shows at once, not one per submission."""
    for name, message in problems.items():
        field = getattr(form, name, None)
        if field is None:
            flash(message, "error")
        elif not field.errors:
            field.errors = [*field.errors, message]
    return not problems and not any(field.errors for field in form)


def _commit(message: str) -> None:
    get_session().commit()
    flash(message, "success")


@bp.route("/")
@login_required
def dashboard():
    """The researcher's start page: studies and the scheduler's health (company contacts: their portal)."""
    if current_user.role == "company_contact":
        return redirect(url_for("briefings.portal"))
    if current_user.role not in STAFF_ROLES:
        abort(403)
    session = get_session()
    return render_template(
        "studies/dashboard.html",
        studies=services.list_studies(session=session),
        scheduler=scheduler_status(session=session),
    )


@bp.route("/studies/new", methods=["GET", "POST"])
@staff_required
def study_new():
    """Create a study."""
    form = StudyForm()
    if form.is_submitted() and _checked_study(form, None):
        try:
            study = services.create_study(session=get_session(), data=_study_data(form), user=current_user)
        except ValidationFailed as error:
            _show_errors(form, error)
        else:
            _commit(_("Study “%(name)s” created.", name=study.name))
            return redirect(url_for(".study_detail", study_id=study.id))
    return render_template("studies/study_form.html", form=form, study=None)


@bp.route("/studies/<int:study_id>")
@staff_required
def study_detail(study_id: int) -> ResponseReturnValue:
    """A study with its cohorts and their waves."""
    study = _get_or_404(Study, study_id)
    session = get_session()
    overviews = services.cohort_overviews(session=session, study=study)
    instruments = {i.id: i for i in session.exec(select(Instrument))}
    schedules = {
        wave.id: describe(services.wave_schedule_of(wave), tz=study.timezone)
        for overview in overviews
        for wave in overview.waves
    }
    retention_state = retention.retention_state(session, study)
    retention_form = RetentionForm(until=retention_state.until or retention_state.suggested)
    return render_template(
        "studies/study_detail.html",
        study=study,
        overviews=overviews,
        instruments=instruments,
        schedules=schedules,
        delete_form=DeleteForm(),
        retention=retention_state,
        retention_form=retention_form,
        may_set_retention=may_view_identities(current_user),
        notice_days=retention.NOTICE_DAYS,
    )


@bp.route("/studies/<int:study_id>/retention", methods=["POST"])
@staff_required
def study_retention(study_id: int) -> ResponseReturnValue:
    """Set or move the day the study's identities are erased (researchers with the identity permission)."""
    study = _get_or_404(Study, study_id)
    form = RetentionForm()
    if not form.validate_on_submit():
        for field in form:
            for message in field.errors:
                flash(f"{field.label.text}: {message}", "error")
        return redirect(url_for(".study_detail", study_id=study.id, _anchor="identities"))
    try:
        retention.set_retention(
            session=get_session(),
            study=study,
            until=form.until.data,
            reason=form.reason.data or "",
            user=current_user,
            now=utcnow(),
        )
    except NotAllowed as refusal:
        abort(403, description=str(refusal))
    except ValidationFailed as error:
        get_session().rollback()
        for message in error.errors.values():
            flash(message, "error")
    else:
        _commit(_("The identities of this study are erased on %(day)s.", day=format_date(form.until.data, "d MMMM y")))
    return redirect(url_for(".study_detail", study_id=study.id, _anchor="identities"))


@bp.route("/studies/<int:study_id>/edit", methods=["GET", "POST"])
@staff_required
def study_edit(study_id: int) -> ResponseReturnValue:
    """Edit a study's details."""
    study = _get_or_404(Study, study_id)
    form = StudyForm(obj=study)
    if not form.is_submitted():
        form.frame_variables.data = ", ".join(study.frame_variables)
    if form.is_submitted() and _checked_study(form, study):
        try:
            services.update_study(session=get_session(), study=study, data=_study_data(form), user=current_user)
        except ValidationFailed as error:
            get_session().rollback()
            _show_errors(form, error)
        else:
            _commit(_("Study saved."))
            return redirect(url_for(".study_detail", study_id=study.id))
    return render_template("studies/study_form.html", form=form, study=study)


@bp.route("/studies/<int:study_id>/delete", methods=["POST"])
@staff_required
def study_delete(study_id: int) -> ResponseReturnValue:
    """Delete an empty study."""
    study = _get_or_404(Study, study_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    try:
        services.delete_study(session=get_session(), study=study, user=current_user)
    except NotAllowed as error:
        flash(str(error), "error")
        return redirect(url_for(".study_detail", study_id=study.id))
    _commit(_("Study “%(name)s” deleted.", name=study.name))
    return redirect(url_for(".dashboard"))


@bp.route("/studies/<int:study_id>/cohorts/new", methods=["GET", "POST"])
@staff_required
def cohort_new(study_id: int) -> ResponseReturnValue:
    """Add a cohort to a study."""
    study = _get_or_404(Study, study_id)
    form = CohortForm()
    if form.is_submitted() and _checked_cohort(form, study, None):
        try:
            cohort = services.create_cohort(
                session=get_session(),
                study=study,
                name=form.name.data or "",
                description=form.description.data or "",
                linkage=form.linkage.data or "contact",
                user=current_user,
            )
        except ValidationFailed as error:
            _show_errors(form, error)
        else:
            _commit(_("Cohort “%(name)s” created.", name=cohort.name))
            return redirect(url_for(".study_detail", study_id=study.id))
    return render_template("studies/cohort_form.html", form=form, study=study, cohort=None)


@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@staff_required
def cohort_edit(cohort_id: int) -> ResponseReturnValue:
    """Rename or describe a cohort."""
    cohort = _get_or_404(Cohort, cohort_id)
    study = _get_or_404(Study, cohort.study_id)
    form = CohortForm(obj=cohort)
    if form.is_submitted() and _checked_cohort(form, study, cohort):
        try:
            services.update_cohort(
                session=get_session(),
                cohort=cohort,
                name=form.name.data or "",
                description=form.description.data or "",
                linkage=form.linkage.data or "contact",
                user=current_user,
            )
        except ValidationFailed as error:
            get_session().rollback()
            _show_errors(form, error)
        else:
            _commit(_("Cohort saved."))
            return redirect(url_for(".study_detail", study_id=study.id))
    return render_template("studies/cohort_form.html", form=form, study=study, cohort=cohort)


@bp.route("/cohorts/<int:cohort_id>/delete", methods=["POST"])
@staff_required
def cohort_delete(cohort_id: int) -> ResponseReturnValue:
    """Delete a cohort that has no participants."""
    cohort = _get_or_404(Cohort, cohort_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    try:
        services.delete_cohort(session=get_session(), cohort=cohort, user=current_user)
    except NotAllowed as error:
        flash(str(error), "error")
    else:
        _commit(_("Cohort “%(name)s” deleted.", name=cohort.name))
    return redirect(url_for(".study_detail", study_id=cohort.study_id))


@bp.route("/cohorts/<int:cohort_id>/waves/new", methods=["GET", "POST"])
@staff_required
def wave_new(cohort_id: int) -> ResponseReturnValue:
    """Add a wave to a cohort."""
    cohort = _get_or_404(Cohort, cohort_id)
    study = _get_or_404(Study, cohort.study_id)
    form = _wave_form()
    if form.is_submitted():
        data = _checked_wave(form, study.timezone, cohort, None)
        if data is not None:
            try:
                wave = services.create_wave(session=get_session(), cohort=cohort, data=data, user=current_user)
            except ValidationFailed as error:
                _show_errors(form, error)
            else:
                _commit(_("Wave “%(label)s” added to %(cohort)s.", label=wave.label, cohort=cohort.name))
                return redirect(url_for(".study_detail", study_id=study.id))
    return render_template("studies/wave_form.html", form=form, study=study, cohort=cohort, wave=None)


@bp.route("/waves/<int:wave_id>/edit", methods=["GET", "POST"])
@staff_required
def wave_edit(wave_id: int) -> ResponseReturnValue:
    """Change a wave's label, instrument or schedule."""
    wave = _get_or_404(Wave, wave_id)
    cohort = _get_or_404(Cohort, wave.cohort_id)
    study = _get_or_404(Study, cohort.study_id)
    form = _wave_form(wave, study.timezone)
    if form.is_submitted():
        data = _checked_wave(form, study.timezone, cohort, wave)
        if data is not None:
            try:
                services.update_wave(session=get_session(), wave=wave, data=data, user=current_user)
            except ValidationFailed as error:
                get_session().rollback()
                _show_errors(form, error)
            else:
                _commit(_("Wave “%(label)s” saved.", label=wave.label))
                return redirect(url_for(".study_detail", study_id=study.id))
    return render_template("studies/wave_form.html", form=form, study=study, cohort=cohort, wave=wave)


@bp.route("/waves/<int:wave_id>/delete", methods=["POST"])
@staff_required
def wave_delete(wave_id: int) -> ResponseReturnValue:
    """Delete the last wave of a cohort if nobody was invited to it."""
    wave = _get_or_404(Wave, wave_id)
    cohort = _get_or_404(Cohort, wave.cohort_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    try:
        services.delete_wave(session=get_session(), wave=wave, user=current_user)
    except NotAllowed as error:
        flash(str(error), "error")
    else:
        _commit(_("Wave “%(label)s” deleted.", label=wave.label))
    return redirect(url_for(".study_detail", study_id=cohort.study_id))


def _study_data(form: StudyForm) -> services.StudyData:
    return services.StudyData(
        slug=(form.slug.data or "").strip(),
        name=form.name.data or "",
        description=form.description.data or "",
        timezone=(form.timezone.data or "").strip(),
        frame_variables=services.parse_frame_variables(form.frame_variables.data or ""),
    )


def _wave_form(wave: Wave | None = None, tz: str = "UTC") -> WaveForm:
    form = WaveForm(obj=wave) if wave is not None else WaveForm()
    form.instrument_id.choices = [
        SelectChoice(i.id, f"{i.title.get('en', i.code)} ({i.version})")
        for i in get_session().exec(select(Instrument).order_by(Instrument.code, Instrument.version))
    ]
    if wave is not None and not form.is_submitted():
        zone = ZoneInfo(tz)
        form.opens_at.data = wave.opens_at.astimezone(zone).replace(tzinfo=None) if wave.opens_at else None
        form.closes_at.data = wave.closes_at.astimezone(zone).replace(tzinfo=None) if wave.closes_at else None
        form.reminder_days.data = ", ".join(str(d) for d in wave.reminder_days or [])
    return form


def _local_to_utc(field: Field, tz: str) -> datetime | None:
    """A local date-time field as UTC; a time the conversion would carry out of range is the field's error."""
    if field.data is None:
        return None
    try:
        return local_to_utc(field.data, ZoneInfo(tz), field=field.label.text)
    except InputError as error:
        field.errors = [*field.errors, str(error)]
        return None


def _checked_wave(form: WaveForm, tz: str, cohort: Cohort, wave: Wave | None) -> services.WaveData | None:
    """The submitted wave form as service input, or None with every problem beside its field at once."""
    form.validate()
    data = _wave_data(form, tz)
    return (
        data
        if _all_problems(form, services.wave_problems(session=get_session(), cohort=cohort, data=data, wave=wave))
        else None
    )


def _checked_cohort(form: CohortForm, study: Study, cohort: Cohort | None) -> bool:
    """Whether the submitted cohort form is sound; every problem goes beside its field at once."""
    form.validate()
    problems = services.cohort_problems(
        session=get_session(),
        study=study,
        name=form.name.data or "",
        description=form.description.data or "",
        linkage=form.linkage.data,
        cohort=cohort,
    )
    return _all_problems(form, problems)


def _checked_study(form: StudyForm, study: Study | None) -> bool:
    """Whether the submitted study form is sound; every problem goes beside its field at once."""
    form.validate()
    return _all_problems(form, services.study_problems(session=get_session(), data=_study_data(form), study=study))


def _wave_data(form: WaveForm, tz: str) -> services.WaveData:
    """The form as service input; days or times that do not parse get their error on the field (and
    are left out) so that the other fields are still checked."""
    try:
        reminder_days = parse_day_list(form.reminder_days.data or "")
    except ValueError as error:
        form.reminder_days.errors = [*form.reminder_days.errors, str(error)]
        reminder_days = []
    opens_at, closes_at = _local_to_utc(form.opens_at, tz), _local_to_utc(form.closes_at, tz)
    schedule = WaveSchedule(
        schedule=form.schedule.data or "",
        opens_at=opens_at,
        closes_at=closes_at,
        offset_days=None if form.offset_days.errors else form.offset_days.data,
        window_days=None if form.window_days.errors else form.window_days.data,
        reminder_days=reminder_days,
    )
    return services.WaveData(
        label=form.label.data or "",
        # a value the form refused (e.g. not one of the choices, or beyond any id) is not looked up
        instrument_id=None if form.instrument_id.errors else form.instrument_id.data,
        schedule=schedule,
        paused=bool(form.paused.data),
        targeted_reminder_day=None if form.targeted_reminder_day.errors else form.targeted_reminder_day.data,
        targeted_reminder_budget=None if form.targeted_reminder_budget.errors else form.targeted_reminder_budget.data,
    )
