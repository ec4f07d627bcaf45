"""What the command-line files of the app and its features share (below the features, so no cycle)."""

from __future__ import annotations

import click
from flask_babel import gettext as _
from sqlmodel import Session, col, select

from studyapp.core.models import Cohort, Study, Wave


def study_by_slug(session: Session, slug: str) -> Study:
    """The study with short name ``slug``, or a :class:`click.ClickException` saying there is none."""
    study = session.exec(select(Study).where(Study.slug == slug)).first()
    if study is None:
        raise click.ClickException(_("No study with the short name %(slug)s.", slug=repr(slug)))
    return study


def wave_by_labels(session: Session, study: Study, cohort_name: str, wave_label: str) -> Wave:
    """The wave ``wave_label`` of the study's cohort ``cohort_name``, or a :class:`click.ClickException`."""
    wave = session.exec(
        select(Wave)
        .join(Cohort, col(Cohort.id) == Wave.cohort_id)
        .where(Cohort.study_id == study.id, Cohort.name == cohort_name, Wave.label == wave_label)
    ).first()
    if wave is None:
        raise click.ClickException(
            _(
                "No wave %(wave)s in cohort %(cohort)s of %(study)s.",
                wave=repr(wave_label),
                cohort=repr(cohort_name),
                study=study.slug,
            )
        )
    return wave
