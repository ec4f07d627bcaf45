"""`studyapp analyze ...`: queue, run and read profile and transition analyses."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlmodel import select

from studyapp.cli_support import study_by_slug
from studyapp.core.db import session_scope
from studyapp.database import engine_of, reading_engine_of


@click.group("analyze")
def analyze_group() -> None:
    """Latent profile and transition analyses of a cohort's waves."""


def _profiles(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        raise click.BadParameter("write the range as FROM-TO, e.g. 1-7") from None


@analyze_group.command("run")
@click.option("--study", "study_slug", required=True, help="the study's short name")
@click.option("--cohort", "cohort_name", required=True)
@click.option("--profiles", default="1-7", show_default=True, help="numbers of profiles to compare, FROM-TO")
@click.option("--models", default="EEI,VVI", show_default=True, help="parameterisations: EEI, VVI, EEE, VVV")
@click.option("--starts", default=20, show_default=True, type=int, help="random starts per model")
@click.option("--blrt", default=0, show_default=True, type=int, help="bootstrapped LRT draws per K (0: off)")
@click.option("--bootstrap", default=50, show_default=True, type=int, help="bootstrap draws for transitions")
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--queue", is_flag=True, help="only queue it for the scheduler")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="also write the result")
@with_appcontext
def run_command(
    study_slug: str,
    cohort_name: str,
    profiles: str,
    models: str,
    starts: int,
    blrt: int,
    bootstrap: int,
    seed: int,
    queue: bool,
    json_path: Path | None,
) -> None:
    """Fit the analysis of one cohort (or queue it) and print the result."""
    from studyapp.analyses.result import load_result
    from studyapp.analyses.runs import execute, queue_analysis
    from studyapp.analyses.summary import text_summary
    from studyapp.core.errors import ValidationFailed
    from studyapp.core.models import Cohort, key

    k_min, k_max = _profiles(profiles)
    parameters = {
        "k_min": k_min,
        "k_max": k_max,
        "parameterisations": [m.strip().upper() for m in models.split(",") if m.strip()],
        "n_starts": starts,
        "blrt_draws": blrt,
        "transition_bootstrap": bootstrap,
        "random_state": seed,
    }
    engine = engine_of(current_app)
    with session_scope(engine) as session:
        study = study_by_slug(session, study_slug)
        cohort = session.exec(select(Cohort).where(Cohort.study_id == study.id, Cohort.name == cohort_name)).first()
        if cohort is None:
            raise click.ClickException(
                _("No cohort %(cohort)s in %(study)s.", cohort=repr(cohort_name), study=study_slug)
            )
        try:
            run = queue_analysis(
                session=session, study=study, cohort=cohort, parameters=parameters, requested_by="command line"
            )
        except ValidationFailed as error:
            raise click.ClickException("; ".join(error.errors.values())) from None
        run_id = key(run)  # queue_analysis flushed it
        if not queue:
            run.status = "running"
            session.add(run)
    if queue:
        click.echo(_("Queued analysis %(run)s; the scheduler runs it.", run=run_id))
        return
    run = execute(engine, run_id, reader=reading_engine_of(current_app))
    if run.status != "done":
        raise click.ClickException(_("Analysis %(run)s failed: %(error)s", run=run_id, error=run.error))
    click.echo(_("Analysis %(run)s of %(cohort)s", run=run_id, cohort=cohort_name) + "\n")
    result = load_result(run)
    click.echo(text_summary(result))
    if json_path:
        json_path.write_text(result.model_dump_json(indent=1), encoding="utf-8")
        click.echo("\n" + _("Result written to %(path)s", path=json_path))


def _status_word(status: str) -> str:
    """An analysis run's stored status as a word of the environment's language."""
    words = {
        "queued": pgettext("analysis status", "queued"),
        "running": pgettext("analysis status", "running"),
        "done": pgettext("analysis status", "done"),
        "failed": pgettext("analysis status", "failed"),
    }
    return words.get(status, status)


@analyze_group.command("list")
@click.option("--study", "study_slug", required=True)
@with_appcontext
def list_command(study_slug: str) -> None:
    """The study's analyses, newest first."""
    from studyapp.analyses.result import result_summary
    from studyapp.analyses.runs import runs_of

    with session_scope(engine_of(current_app)) as session:
        study = study_by_slug(session, study_slug)
        for run, cohort in runs_of(session=session, study=study):
            summary = result_summary(run)
            recommended = summary.recommended if summary else None
            k = f"K = {recommended.k} ({recommended.parameterisation})" if recommended else ""
            if run.status == "done" and summary is None:
                k = _("stored by another version; run it again")
            status = _status_word(run.status)
            click.echo(f"{run.id:>5}  {status:<10} {cohort.name:<32} {run.created_at:%Y-%m-%d %H:%M}  {k}")


@analyze_group.command("show")
@click.argument("run_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="print the stored JSON")
@with_appcontext
def show_command(run_id: int, as_json: bool) -> None:
    """Print a stored analysis."""
    from studyapp.analyses.result import UnreadableResult, load_result
    from studyapp.analyses.summary import text_summary
    from studyapp.core.models import AnalysisRun

    with session_scope(engine_of(current_app)) as session:
        run = session.get(AnalysisRun, run_id)
        if run is None:
            raise click.ClickException(_("No analysis %(run)s.", run=run_id))
        if run.status != "done":
            raise click.ClickException(
                _("Analysis %(run)s is %(status)s.", run=run_id, status=_status_word(run.status))
                + (f" {run.error}" if run.error else "")
            )
        try:
            result = load_result(run)
        except UnreadableResult as error:
            raise click.ClickException(_("Analysis %(run)s: %(error)s", run=run_id, error=error)) from None
        click.echo(result.model_dump_json(indent=1) if as_json else text_summary(result))
