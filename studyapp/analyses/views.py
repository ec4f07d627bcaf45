"""Admin pages: ask for an analysis of a cohort, follow it, and read its result with charts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from studyapp.analyses.forms import AnalysisForm
from studyapp.analyses.result import UnreadableResult, load_result, result_summary
from studyapp.analyses.result_view import result_view
from studyapp.analyses.runs import queue_analysis, runs_of
from studyapp.analyses.texts import analysis_text
from studyapp.auth import staff_required
from studyapp.core.errors import ValidationFailed
from studyapp.core.models import AnalysisRun, Cohort
from studyapp.core.types import utcnow
from studyapp.database import get_session, study_or_404
from studyapp.formatting import duration
from studyapp.inputs import SelectChoice, attach_as
from studyapp.reports import render_report_pdf

bp = Blueprint("analyses", __name__)
# the analysis package's English notes, in the reader's language on the pages and in the PDF report
bp.add_app_template_filter(analysis_text, "analysis_text")


@bp.route("/studies/<int:study_id>/analysis", methods=["GET", "POST"])
@staff_required
def index(study_id: int) -> ResponseReturnValue:
    """The study's analyses and the form to ask for a new one."""
    study = study_or_404(study_id)
    session = get_session()
    cohorts = session.exec(select(Cohort).where(Cohort.study_id == study.id).order_by(Cohort.name)).all()
    form = AnalysisForm()
    form.cohort_id.choices = [SelectChoice(c.id, c.name) for c in cohorts]
    if form.validate_on_submit():
        cohort = session.get(Cohort, form.cohort_id.data)
        if cohort is None:  # deleted since the form was shown
            abort(404)
        try:
            run = queue_analysis(
                session=session,
                study=study,
                cohort=cohort,
                parameters={name: getattr(form, name).data for name in AnalysisForm.parameter_names()},
                requested_by=current_user.email,
            )
        except ValidationFailed as error:
            session.rollback()
            for message in error.errors.values():
                flash(message, "error")
        else:
            session.commit()
            flash(_("Analysis queued: the scheduler runs it within a minute."), "success")
            return redirect(url_for(".show", study_id=study.id, run_id=run.id))
    runs = runs_of(session=session, study=study)
    summaries = {run.id: result_summary(run) for run, _ in runs}
    return render_template("analyses/index.html", study=study, form=form, runs=runs, summaries=summaries)


@bp.route("/studies/<int:study_id>/analysis/<int:run_id>")
@staff_required
def show(study_id: int, run_id: int) -> ResponseReturnValue:
    """One analysis: fit, profiles, transitions, reliability (refreshes itself while it runs)."""
    study = study_or_404(study_id)
    session = get_session()
    run = session.get(AnalysisRun, run_id)
    if run is None or run.study_id != study.id:
        abort(404)
    cohort = session.get_one(Cohort, run.cohort_id)
    view, unreadable = None, None
    if run.status == "done":
        try:
            view = result_view(load_result(run))
        except UnreadableResult as error:
            unreadable = str(error)
    elapsed = duration((utcnow() - run.started_at).total_seconds()) if run.started_at else None
    return render_template(
        "analyses/show.html", study=study, run=run, cohort=cohort, view=view, unreadable=unreadable, elapsed=elapsed
    )


@bp.route("/studies/<int:study_id>/analysis/<int:run_id>/report.pdf")
@staff_required
def report_pdf(study_id: int, run_id: int) -> ResponseReturnValue:
    """The wave report: the whole analysis as a PDF (WeasyPrint, the report styles)."""
    study = study_or_404(study_id)
    session = get_session()
    run = session.get(AnalysisRun, run_id)
    if run is None or run.study_id != study.id or run.status != "done":
        abort(404)
    cohort = session.get_one(Cohort, run.cohort_id)
    try:
        result = load_result(run)
    except UnreadableResult as error:
        flash(str(error), "error")
        return redirect(url_for(".show", study_id=study.id, run_id=run.id))
    html = render_template("analyses/report_pdf.html", study=study, run=run, cohort=cohort, view=result_view(result))
    response = make_response(render_report_pdf(html))
    response.headers["Content-Type"] = "application/pdf"
    name = f"wave-report-{cohort.name}-{run.id}.pdf".replace(" ", "-")
    attach_as(response, name)
    return response
