"""`studyapp participants own-data`: a participant's copy of their own data, for a request by post or phone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlmodel import select

from studyapp.core.db import session_scope
from studyapp.core.inputs import InputError, check_text
from studyapp.core.models import Participant
from studyapp.database import engine_of, privacy_of
from studyapp.own_data.service import FORMATS, make_copy


def _request_note(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_text(value, field="--note", max_length=1000)
    except InputError as error:
        raise click.BadParameter(str(error)) from None


@click.command("own-data")
@click.argument("pseudonym")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The file to write, or a folder to write it into under its own name.",
)
@click.option("--format", "file_format", type=click.Choice(FORMATS), default="pdf", show_default=True)
@click.option("--language", type=click.Choice(["nl", "en"]), help="Default: the participant's own.")
@click.option(
    "--note",
    required=True,
    callback=_request_note,
    help="The request, for the audit log (e.g. 'letter of 3 March, reference 2027-014').",
)
@with_appcontext
def own_data_command(pseudonym: str, out_path: Path, file_format: str, language: str | None, note: str) -> None:
    """Write PSEUDONYM's own data (every answer, consent history, e-mails, contact details); audit-logged.

    For a participant who asks without a working personal link: the copy holds their name and e-mail
    address, so hand it only to them.
    """
    from studyapp.participants.identities import identity_of

    if not note.strip():
        raise click.BadParameter(_("Say who asked and how, for the record."), param_hint="--note")
    with session_scope(engine_of(current_app)) as session:
        participant = session.exec(select(Participant).where(Participant.pseudonym == pseudonym.strip())).first()
        if participant is None:
            raise click.ClickException(_("No participant with pseudonym %(pseudonym)s.", pseudonym=repr(pseudonym)))
        identity = identity_of(session=session, participant=participant)
        copy = make_copy(
            session=session,
            privacy=privacy_of(),
            participant=participant,
            language=language or (identity.language if identity else "nl"),
            file_format=file_format,
            now=datetime.now(UTC),
            requested_by="cli",
            note=note,
        )
        target = out_path / copy.filename if out_path.is_dir() else out_path
        try:
            target.write_bytes(copy.content)
        except OSError as error:
            raise click.ClickException(str(error)) from None  # the audit entry is rolled back with it
    click.echo(str(target))
