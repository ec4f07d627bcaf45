"""`studyapp organisations ...`: the organisations company contacts belong to."""

from __future__ import annotations

import json
from dataclasses import asdict

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from studyapp.accounts.management import list_organisations
from studyapp.core.db import session_scope
from studyapp.database import engine_of


@click.group("organisations")
def organisations_group() -> None:
    """Organisations (employers): their ids, for `users create --organisation-id`."""


@organisations_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of {id, name, contacts}.")
@with_appcontext
def organisations_list(as_json: bool) -> None:
    """Every organisation: id, name and number of company contacts."""
    with session_scope(engine_of(current_app)) as session:
        organisations = list_organisations(session=session)
    if as_json:
        click.echo(json.dumps([asdict(o) for o in organisations], ensure_ascii=False))
        return
    if not organisations:
        click.echo(_("No organisations yet."))
        return
    width = max(len(str(o.id)) for o in organisations)
    click.echo(f"{'id':>{width}}  contacts  name")
    for o in organisations:
        click.echo(f"{o.id:>{width}}  {o.contacts:>8}  {o.name}")
