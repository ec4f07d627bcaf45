"""`studyapp briefings ...`: make a wave's briefings and write them out."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlmodel import col, select

from studyapp.cli_support import study_by_slug, wave_by_labels
from studyapp.core.db import session_scope
from studyapp.database import engine_of


@click.group("briefings")
def briefings_group() -> None:
    """Company briefings (aggregate PDFs per organisation)."""


@briefings_group.command("make")
@click.option("--study", "study_slug", required=True)
@click.option("--cohort", "cohort_name", required=True)
@click.option("--wave", "wave_label", required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="also write the PDFs here")
@click.option(
    "--withdraw-earlier", is_flag=True, help="withdraw the current version from the organisations (default: superseded)"
)
@with_appcontext
def make_command(
    study_slug: str, cohort_name: str, wave_label: str, out_dir: Path | None, withdraw_earlier: bool
) -> None:
    """Make a new version of one wave's briefings, as the admin page and the scheduler do."""
    from studyapp.briefings.content import NoAnalysis
    from studyapp.briefings.service import generate_briefings
    from studyapp.core.models import Briefing, Organisation

    settings = current_app.config["STUDYAPP_SETTINGS"]
    with session_scope(engine_of(current_app)) as session:
        study = study_by_slug(session, study_slug)
        wave = wave_by_labels(session, study, cohort_name, wave_label)
        try:
            report = generate_briefings(
                session=session, wave=wave, min_cell=settings.min_cell_size, withdraw_earlier=withdraw_earlier
            )
        except NoAnalysis as error:
            raise click.ClickException(f"{error} " + _("Run `studyapp analyze run` first.")) from None
        click.echo(
            _(
                "Version %(version)d: %(organisation)d organisation briefings, %(sample)d sample-wide; "
                "%(notices)d contacts notified.",
                version=report.version,
                organisation=report.organisation_briefings,
                sample=report.sample_briefings,
                notices=report.notices,
            )
        )
        if report.superseded:
            state = (
                pgettext("briefing version", "withdrawn")
                if report.withdrawn
                else pgettext("briefing version", "superseded")
            )
            click.echo(
                _(
                    "Version %(version)d (%(count)d briefings) is %(state)s.",
                    version=report.version - 1,
                    count=report.superseded,
                    state=state,
                )
            )
        if report.below_threshold:
            click.echo(
                _(
                    "Too few people for own figures (sample-wide only): %(names)s",
                    names=", ".join(report.below_threshold),
                )
            )
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            for briefing, organisation in session.exec(
                select(Briefing, Organisation)
                .outerjoin(Organisation, col(Organisation.id) == Briefing.organisation_id)
                .where(Briefing.wave_id == wave.id, Briefing.version == report.version)
            ).all():
                name = (organisation.name if organisation else "sample").replace(" ", "-").replace("/", "-")
                path = out_dir / f"briefing-{name}-{wave.label}-{briefing.language}.pdf"
                path.write_bytes(briefing.pdf)
                click.echo(str(path))
