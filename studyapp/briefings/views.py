"""Briefing pages: researchers code organisation names and generate briefings; companies download theirs."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import col, select

from studyapp.auth import company_required, staff_required
from studyapp.briefings.coding import code_name, typed_names
from studyapp.briefings.content import NoAnalysis
from studyapp.briefings.jobs import PENDING, queue_briefings, runs_of
from studyapp.briefings.service import briefing_detail, briefings_for
from studyapp.core import audit
from studyapp.core.errors import ValidationFailed
from studyapp.core.models import Briefing, Cohort, Organisation, Wave
from studyapp.database import get_session, study_or_404
from studyapp.inputs import attach_as, form_id

bp = Blueprint("briefings", __name__)


@bp.route("/studies/<int:study_id>/briefings")
@staff_required
def index(study_id: int) -> ResponseReturnValue:
    """Organisation coding, generation and the study's briefings."""
    study = study_or_404(study_id)
    session = get_session()
    waves = session.exec(
        select(Wave, Cohort)
        .join(Cohort, col(Cohort.id) == Wave.cohort_id)
        .where(Cohort.study_id == study.id)
        .order_by(Cohort.name, col(Wave.position))
    ).all()
    runs = runs_of(session=session, study=study)
    briefings = session.exec(
        select(Briefing, Organisation, Wave)
        .outerjoin(Organisation, col(Organisation.id) == Briefing.organisation_id)
        .outerjoin(Wave, col(Wave.id) == Briefing.wave_id)
        .where(Briefing.study_id == study.id)
        .order_by(col(Briefing.id).desc())
    ).all()
    return render_template(
        "briefings/index.html",
        study=study,
        names=typed_names(session=session, study=study),
        organisations=session.exec(select(Organisation).order_by(Organisation.name)).all(),
        waves=waves,
        briefings=briefings,
        runs=runs,
        pending=any(run.status in PENDING for run, _ in runs),
        form=FlaskForm(),
        min_cell=current_app.config["STUDYAPP_SETTINGS"].min_cell_size,
    )


@bp.route("/studies/<int:study_id>/briefings/code", methods=["POST"])
@staff_required
def code(study_id: int) -> ResponseReturnValue:
    """Code one typed name to an existing or a new organisation."""
    study = study_or_404(study_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    session = get_session()
    chosen = form_id("organisation_id")
    organisation = session.get(Organisation, chosen) if chosen is not None else None
    if request.form.get("organisation_id") and organisation is None:
        flash(_("Choose an organisation from the list."), "error")
        return redirect(url_for(".index", study_id=study.id))
    try:
        coded = code_name(
            session=session,
            study=study,
            key=request.form.get("key", ""),
            organisation=organisation,
            new_name=request.form.get("new_name", ""),
            user=current_user,
        )
    except ValidationFailed as error:
        session.rollback()
        for message in error.errors.values():
            flash(message, "error")
    else:
        session.commit()
        flash(_("Coded to %(name)s.", name=coded.name), "success")
    return redirect(url_for(".index", study_id=study.id))


@bp.route("/studies/<int:study_id>/briefings/generate", methods=["POST"])
@staff_required
def generate(study_id: int) -> ResponseReturnValue:
    """Ask for a new version of one wave's briefings (a background job); the current version is superseded or,
    if chosen, withdrawn. A second request while one is queued or running adds nothing."""
    study = study_or_404(study_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    earlier = request.form.get("earlier", "supersede")
    if earlier not in ("supersede", "withdraw"):
        abort(400)
    session = get_session()
    wave_id = form_id("wave_id")
    wave = session.get(Wave, wave_id) if wave_id is not None else None
    cohort = session.get(Cohort, wave.cohort_id) if wave else None
    if wave is None or cohort is None or cohort.study_id != study.id:
        abort(404)
    try:
        run, new = queue_briefings(
            session=session, wave=wave, user=current_user, withdraw_earlier=earlier == "withdraw"
        )
    except NoAnalysis as error:
        session.rollback()
        flash(f"{error} " + _("Run the analysis first (Analysis page)."), "error")
        return redirect(url_for(".index", study_id=study.id))
    session.commit()
    if new:
        flash(
            _(
                "The briefings of wave %(wave)s are being made in the background; this page shows how far it is.",
                wave=wave.label,
            ),
            "success",
        )
    else:
        flash(
            _(
                "The briefings of wave %(wave)s are already being made (job %(job)s); nothing was added.",
                wave=wave.label,
                job=run.id,
            ),
            "info",
        )
    return redirect(url_for(".index", study_id=study.id))


def _pdf(briefing: Briefing) -> Response:
    session = get_session()
    organisation = session.get(Organisation, briefing.organisation_id) if briefing.organisation_id else None
    wave = session.get(Wave, briefing.wave_id) if briefing.wave_id else None
    name = "-".join(
        part.replace(" ", "-")
        for part in (
            "briefing",
            organisation.name if organisation else "sample",
            wave.label if wave else "",
            briefing.language,
        )
        if part
    )
    response = make_response(briefing.pdf)
    response.headers["Content-Type"] = "application/pdf"
    attach_as(response, f"{name}.pdf")
    return response


@bp.route("/briefings/<int:briefing_id>.pdf")
@staff_required
def download(briefing_id: int) -> ResponseReturnValue:
    """A briefing's PDF, any version (researchers); audited like the companies' downloads."""
    session = get_session()
    briefing = session.get(Briefing, briefing_id)
    if briefing is None:
        abort(404)
    return _audited_pdf(briefing)


def _audited_pdf(briefing: Briefing) -> Response:
    """The PDF, with an audit entry that names organisation, wave, language and version."""
    session = get_session()
    audit.record(
        session=session,
        action="briefing.downloaded",
        user=current_user,
        target_type="briefing",
        target_id=briefing.id,
        detail=briefing_detail(session=session, briefing=briefing),
    )
    session.commit()
    return _pdf(briefing)


@bp.route("/company")
@company_required
def portal():
    """A company contact's own organisation's briefings."""
    session = get_session()
    organisation = session.get(Organisation, current_user.organisation_id)
    return render_template(
        "briefings/portal.html",
        organisation=organisation,
        briefings=briefings_for(session=session, organisation_id=current_user.organisation_id),
    )


@bp.route("/company/briefings/<int:briefing_id>.pdf")
@company_required
def company_download(briefing_id: int) -> ResponseReturnValue:
    """One of the own organisation's briefings that is not withdrawn; anything else is 404 (not even its
    existence is shown)."""
    briefing = get_session().get(Briefing, briefing_id)
    if briefing is None or briefing.organisation_id != current_user.organisation_id or briefing.withdrawn_at:
        abort(404)
    return _audited_pdf(briefing)
