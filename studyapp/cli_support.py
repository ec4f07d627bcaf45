"""What the command-line files of the app and its features share (below the features, so no cycle)."""

from __future__ import annotations

import click
from flask_babel import gettext as _
from sqlmodel import Session, select

from studyapp.core.models import Study


def study_by_slug(session: Session, slug: str) -> Study:
    """The study with short name ``slug``, or a :class:`click.ClickException` saying there is none."""
    study = session.exec(select(Study).where(Study.slug == slug)).first()
    if study is None:
        raise click.ClickException(_("No study with the short name %(slug)s.", slug=repr(slug)))
    return study
