"""The `studyapp` command line: database, users, instruments, demo data, server and scheduler."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from werkzeug.serving import run_simple

from studyapp.accounts.services import AccountError, create_user
from studyapp.cli_support import study_by_slug, wave_by_labels
from studyapp.core import migrate
from studyapp.core.db import session_scope
from studyapp.core.inputs import INT32_MAX, InputError, check_text, parse_datetime
from studyapp.core.models import LANGUAGES, ROLES, key
from studyapp.database import engine_of
from studyapp.instruments.loader import InstrumentDefinitionError, bundled_definitions, load_file

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from waves.dispatcher import DispatchReport

db_group = click.Group("db", help="Database schema (Alembic migrations).")
users_group = click.Group("users", help="Researcher, admin and company-contact accounts.")
instruments_group = click.Group("instruments", help="Questionnaire definitions.")
demo_group = click.Group("demo", help="The demo study for trying the framework.")
participants_group = click.Group("participants", help="Enrolment, withdrawal and erasure.")
responses_group = click.Group("responses", help="Answers collected outside the framework.")
linkage_group = click.Group("linkage", help="Linking anonymous waves by self-generated codes.")
fieldwork_group = click.Group("fieldwork", help="Planning and sending invitations and reminders.")


def _checked_text(value: str, option: str) -> str:
    """A free-text option held to the same rule as the web forms (no control characters but TAB/CR/LF)."""
    try:
        return check_text(value, field=option, max_length=1000)
    except InputError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


def _parse_time(value: str | None) -> datetime:
    from studyapp.core.types import utcnow

    if not value:
        return utcnow()
    try:
        return parse_datetime(value, field="--at", default_zone=UTC)
    except InputError as error:
        raise click.BadParameter(str(error), param_hint="--at") from None


@fieldwork_group.command("tick")
@click.option("--at", "at", default=None, help="Act as if it were this time (ISO 8601; default now).")
@with_appcontext
def fieldwork_tick(at: str | None) -> None:
    """Plan what is due and send it, once (what the scheduler does every interval)."""
    from studyapp.scheduler import process_name, tick

    report = tick(
        engine_of(current_app),
        name=process_name(),
        now=_parse_time(at),
        settings=current_app.config["STUDYAPP_SETTINGS"],
    )
    if report is not None:
        click.echo(
            _(
                "planned %(invitations)d invitations and %(reminders)d reminders",
                invitations=report.plan.invitations,
                reminders=report.plan.reminders,
            )
        )
        if report.plan.targeted:
            click.echo(
                _(
                    "%(count)d of the reminders go to categories that lag behind (targeted reminder)",
                    count=report.plan.targeted,
                )
            )
        _echo_dispatch(engine_of(current_app), report.dispatch)
        helpers = report.helpers
        if helpers.processes:
            click.echo(
                _(
                    "%(processes)d helper dispatcher processes: sent %(sent)d, retried %(retried)d, "
                    "failed %(failed)d, cancelled %(cancelled)d.",
                    processes=helpers.processes,
                    sent=helpers.sent,
                    retried=helpers.retried,
                    failed=helpers.failed,
                    cancelled=helpers.cancelled,
                )
            )
        for problem in helpers.problems:
            click.echo(_("helper: %(problem)s", problem=problem), err=True)
    click.echo(_("Tick done."))


@fieldwork_group.command("representativeness")
@click.option("--study", "study_slug", required=True)
@click.option("--cohort", "cohort_name", required=True)
@click.option("--wave", "wave_label", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@with_appcontext
def fieldwork_representativeness(study_slug: str, cohort_name: str, wave_label: str, as_json: bool) -> None:
    """The wave's R-indicator and partial R-indicators now, as the fieldwork page shows them."""
    import json

    from flask_babel import get_locale

    from waves.representativeness import NOTHING_TO_COMPARE, NothingToMeasure, measure_wave, shown_figures

    settings = current_app.config["STUDYAPP_SETTINGS"]
    with session_scope(engine_of(current_app)) as session:
        study = study_by_slug(session, study_slug)
        wave = wave_by_labels(session, study, cohort_name, wave_label)
        try:
            figures = measure_wave(session, wave, min_cell_size=settings.min_cell_size)
        except NothingToMeasure as nothing:
            if str(nothing) == "nobody invited":
                raise click.ClickException(_("Nobody has been invited to this wave yet.")) from None
            raise click.ClickException(_(NOTHING_TO_COMPARE)) from None
    shown = shown_figures(figures, min_cell_size=settings.min_cell_size, language=str(get_locale() or "en"))
    if as_json:
        public = {name: value for name, value in figures.items() if name not in ("partials", "labels", "answers")}
        click.echo(
            json.dumps(
                {
                    "study": study_slug,
                    "cohort": cohort_name,
                    "wave": wave_label,
                    **public,
                    "categories": shown.categories,
                    "hidden_categories": shown.hidden,
                }
            )
        )
        return
    click.echo(
        _(
            "%(respondents)d of %(invited)d invited completed the wave (%(rate).1f%%).",
            respondents=figures["respondents"],
            invited=figures["n"],
            rate=100 * figures["response_rate"],
        )
    )
    click.echo(
        _(
            "R-indicator %(r).3f (95%% interval %(lower).3f-%(upper).3f); coefficient of variation %(cv).3f.",
            r=figures["r"],
            lower=figures["r_ci"][0],
            upper=figures["r_ci"][1],
            cv=figures["cv"],
        )
    )
    if shown.categories:
        click.echo(_("Partial R-indicators, the categories that lag behind most first:"))
        width = max(len(c["label"]) for c in shown.categories)
        for c in shown.categories:
            low, high = c["unconditional_ci"]
            mark = f"  {_('lags behind')}" if c["lagging"] else ""
            click.echo(
                f"  {c['label']:<{width}}  n={c['n']:<6} {100 * c['response_rate']:5.1f}%  "
                f"{c['unconditional']:+.3f} ({low:+.3f} {high:+.3f})  {c['conditional']:.3f}{mark}"
            )
    if shown.hidden:
        click.echo(
            _(
                "%(count)d categories not shown (fewer than %(min)d people, or their size could be worked out).",
                count=shown.hidden,
                min=settings.min_cell_size,
            )
        )
    click.echo(_("Method: %(method)s", method=shown.method))


@fieldwork_group.command("dispatch")
@click.option(
    "--claim-timeout",
    default=15,
    show_default=True,
    type=click.IntRange(min=1, max=3600),
    help="Seconds a dispatcher's claim lasts without a heartbeat; then another dispatcher takes it over "
    "(at once when its process is gone from this machine).",
)
@click.option("--max", "max_messages", default=None, type=int, help="Stop after this many messages.")
@with_appcontext
def fieldwork_dispatch(claim_timeout: int, max_messages: int | None) -> None:
    """Send what is in the outbox now (without planning)."""
    from datetime import timedelta

    from studyapp.core.types import utcnow
    from studyapp.database import privacy_of
    from studyapp.scheduler import process_name
    from waves.dispatcher import DispatchConfig, dispatch
    from waves.transport import extra_transports_from_settings, transport_from_settings

    settings = current_app.config["STUDYAPP_SETTINGS"]
    engine = engine_of(current_app)
    transport = transport_from_settings(settings, engine)
    extra = extra_transports_from_settings(settings, engine)
    config = DispatchConfig(
        base_url=settings.base_url, sender=settings.mail_from, claim_timeout=timedelta(seconds=claim_timeout)
    )
    try:
        report = dispatch(
            engine=engine,
            privacy=privacy_of(),
            transport=transport,
            config=config,
            worker=process_name(),
            now=utcnow,
            max_messages=max_messages,
            extra_transports=extra,
        )
    finally:
        for connection in (transport, *extra):
            connection.close()
    _echo_dispatch(engine, report)


def _echo_dispatch(engine: Engine, report: DispatchReport) -> None:
    """What a dispatch run did, with each failed message's pseudonym and reason."""
    from sqlmodel import Session

    from waves.dispatcher import failure_lines

    click.echo(
        (
            _(
                "sent %(sent)d, retried %(retried)d, failed %(failed)d, cancelled %(cancelled)d.",
                sent=report.sent,
                retried=report.retried,
                failed=report.failed,
                cancelled=report.cancelled,
            )
            + f" {report.stopped_early}"
        ).strip()
    )
    with Session(engine) as session:
        for line in failure_lines(session, report):
            click.echo("  " + _("failed: %(line)s", line=line))


@linkage_group.command("run")
@click.option("--study", "study_slug", required=True)
@click.option("--cohort", "cohort_name", required=True)
@click.option("--from", "earlier_label", required=True, help="The earlier wave's label.")
@click.option("--to", "later_label", required=True, help="The later wave's label.")
@click.option("--apply", is_flag=True, help="Merge the unambiguous links (default: report only).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write every decision to a CSV.")
@with_appcontext
def linkage_run(
    study_slug: str, cohort_name: str, earlier_label: str, later_label: str, apply: bool, report: Path | None
) -> None:
    """Link two waves of an anonymous cohort; ambiguous cases are reported, never guessed."""
    from sqlmodel import select

    from studyapp.core.errors import NotAllowed
    from studyapp.core.models import Cohort, Wave
    from studyapp.core.spreadsheet_safety import SafeDictWriter
    from studyapp.participants.code_linkage import link_cohort_waves
    from studyapp.participants.linkage import ROW_COLUMNS

    with session_scope(engine_of(current_app)) as session:
        study = study_by_slug(session, study_slug)
        cohort = session.exec(select(Cohort).where(Cohort.study_id == study.id, Cohort.name == cohort_name)).first()
        if cohort is None:
            raise click.ClickException(
                _("No cohort %(cohort)s in %(study)s.", cohort=repr(cohort_name), study=study_slug)
            )
        waves = {w.label: w for w in session.exec(select(Wave).where(Wave.cohort_id == cohort.id))}
        if earlier_label not in waves or later_label not in waves:
            raise click.ClickException(
                _("Waves of %(cohort)s: %(waves)s.", cohort=cohort_name, waves=", ".join(sorted(waves)))
            )
        try:
            outcome = link_cohort_waves(
                session=session, earlier=waves[earlier_label], later=waves[later_label], apply=apply
            )
        except NotAllowed as error:
            raise click.ClickException(str(error)) from None
        result = outcome.result
        click.echo(
            _(
                "identical codes: %(exact)d; one element differs: %(fuzzy)d; ambiguous: %(ambiguous)d; "
                "unmatched: %(unmatched_earlier)d in %(earlier)s, %(unmatched_later)d in %(later)s",
                exact=result.exact_count,
                fuzzy=result.fuzzy_count,
                ambiguous=len(result.ambiguous),
                unmatched_earlier=len(result.unmatched_earlier),
                earlier=earlier_label,
                unmatched_later=len(result.unmatched_later),
                later=later_label,
            )
        )
        for later_pseudonym, candidates in outcome.ambiguous_groups():
            click.echo(
                "  "
                + _(
                    "ambiguous: %(pseudonym)s could be %(candidates)s",
                    pseudonym=later_pseudonym,
                    candidates=", ".join(candidates),
                )
            )
        if report is not None:
            with report.open("w", newline="", encoding="utf-8") as handle:
                writer = SafeDictWriter(handle, fieldnames=list(ROW_COLUMNS))  # opened in Excel for review
                writer.writeheader()
                for row in result.to_rows():
                    for key in ("earlier_id", "later_id"):
                        row[key] = outcome.pseudonym_of.get(row[key], "") if row[key] is not None else ""
                    row["candidate_ids"] = "; ".join(
                        outcome.pseudonym_of.get(int(c), c) for c in str(row["candidate_ids"]).split("; ") if c
                    )
                    writer.writerow(row)
        click.echo(
            _("Linked %(count)d responses.", count=outcome.applied)
            if apply
            else _("Report only: run with --apply to link.")
        )


@participants_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--study", "study_slug", required=True, help="The study's short name.")
@click.option("--dry-run", is_flag=True, help="Check the file and show what would happen; store nothing.")
@with_appcontext
def participants_import(file: Path, study_slug: str, dry_run: bool) -> None:
    """Enrol the participants in a CSV or XLSX list (all or nothing)."""
    from studyapp.core.tabular import TableError, read_table
    from studyapp.database import privacy_of
    from studyapp.participants.enrolment import apply_enrolment, plan_enrolment

    try:
        table = read_table(file.name, file.read_bytes(), max_rows=None)  # enrolled in batches: no row limit
    except TableError as error:
        raise click.ClickException(f"{file}: {error}") from None
    with session_scope(engine_of(current_app)) as session:
        study = study_by_slug(session, study_slug)
        plan = plan_enrolment(session=session, privacy=privacy_of(), study=study, table=table)
        if plan.problems:
            lines = "\n".join(f"{file}:{p.line}: {p.message}" for p in plan.problems)
            raise click.ClickException(_("The file was rejected; nothing was imported.") + f"\n{lines}")
        click.echo(
            _(
                "%(new)d new, %(existing)d already enrolled, %(linked)d linked to earlier data.",
                new=len(plan.new),
                existing=len(plan.existing),
                linked=len(plan.completed_identities),
            )
        )
        if dry_run:
            session.rollback()
            click.echo(_("Dry run: nothing stored."))
            return
        summary = apply_enrolment(session=session, privacy=privacy_of(), study=study, plan=plan, source=str(file))
    click.echo(_("Enrolled %(count)d.", count=summary.enrolled))


@participants_group.command("rotate-key")
@with_appcontext
def participants_rotate_key() -> None:
    """Re-encrypt all identities with the first IDENTITY_KEY (put the new key first, keep the old after it)."""
    from studyapp.database import privacy_of
    from studyapp.participants.identities import rotate_identity_key

    with session_scope(engine_of(current_app)) as session:
        count = rotate_identity_key(session=session, privacy=privacy_of())
    click.echo(_("Re-encrypted %(count)d identities; the old key can be removed from IDENTITY_KEY now.", count=count))


@participants_group.command("leave")
@click.argument("pseudonym")
@click.option("--how", type=click.Choice(["stop-mail", "withdraw", "erase"]), required=True)
@click.option(
    "--note",
    default="",
    callback=lambda ctx, param, value: _checked_text(value, "--note"),
    help="Why, for the record (e.g. the request's reference).",
)
@with_appcontext
def participants_leave(pseudonym: str, how: str, note: str) -> None:
    """Stop mail, withdraw, or erase a participant (on their request)."""
    from sqlmodel import select

    from studyapp.core.models import Participant
    from studyapp.participants import consent

    with session_scope(engine_of(current_app)) as session:
        participant = session.exec(select(Participant).where(Participant.pseudonym == pseudonym.strip())).first()
        if participant is None:
            raise click.ClickException(_("No participant with pseudonym %(pseudonym)s.", pseudonym=repr(pseudonym)))
        if how == "stop-mail":
            consent.stop_mail(session=session, participant=participant, actor="researcher")
        elif how == "withdraw":
            deleted = consent.withdraw(session=session, participant=participant, actor="researcher", note=note)
            click.echo(
                _("%(count)d responses deleted.", count=deleted) if deleted else _("Answers kept under the pseudonym.")
            )
        else:
            result = consent.erase(session=session, participant=participant, actor="researcher", note=note)
            click.echo(
                _("Identity erased; answers kept under the pseudonym.")
                if result.data_kept
                else _("Identity erased; %(count)d responses deleted.", count=result.responses_deleted)
            )
    click.echo(_("%(pseudonym)s: done.", pseudonym=pseudonym))


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: the newest)."""
    migrate.upgrade(engine_of(current_app), revision)
    click.echo(_("Database at revision %(revision)s.", revision=migrate.current_revision(engine_of(current_app))))


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (`base` removes every table)."""
    migrate.downgrade(engine_of(current_app), revision)
    click.echo(
        _("Database at revision %(revision)s.", revision=migrate.current_revision(engine_of(current_app)) or "base")
    )


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the database's revision and whether it is the newest."""
    engine = engine_of(current_app)
    current = migrate.current_revision(engine) or _("base (empty)")
    head = migrate.head_revision()
    labels = (_("current:"), _("newest:"))
    width = max(len(label) for label in labels)
    click.echo(f"{labels[0]:<{width}} {current}\n{labels[1]:<{width}} {head}")


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), default="researcher", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted for when not given.")
@click.option("--can-view-identities", is_flag=True, help="May see participants' e-mail and name.")
@click.option("--organisation-id", type=click.IntRange(1, INT32_MAX), default=None, help="For company contacts.")
@click.option(
    "--language", type=click.Choice(LANGUAGES), default="nl", show_default=True, help="The language of its e-mails."
)
@with_appcontext
def users_create(
    email: str,
    name: str,
    role: str,
    password: str,
    can_view_identities: bool,
    organisation_id: int | None,
    language: str,
) -> None:
    """Create an account."""
    try:
        with session_scope(engine_of(current_app)) as session:
            user = create_user(
                session=session,
                email=email,
                name=name,
                password=password,
                role=role,
                can_view_identities=can_view_identities,
                organisation_id=organisation_id,
                language=language,
            )
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Created %(role)s %(email)s.", role=user.role, email=user.email))


@instruments_group.command("load")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@with_appcontext
def instruments_load(files: tuple[Path, ...]) -> None:
    """Validate and load instrument definitions (default: the bundled ones)."""
    paths = list(files) or bundled_definitions()
    for path in paths:
        try:
            with session_scope(engine_of(current_app)) as session:
                result = load_file(session=session, path=path)
        except InstrumentDefinitionError as error:
            raise click.ClickException(str(error)) from None
        state = _("loaded") if result.created else _("already loaded, unchanged")
        click.echo(f"{result.instrument.code} {result.instrument.version}: {state}")


@demo_group.command("seed")
@with_appcontext
def demo_seed() -> None:
    """Create the demo study and demo researcher if they do not exist."""
    from studyapp.demo import seed_demo

    with session_scope(engine_of(current_app)) as session:
        report = seed_demo(session=session)
    click.echo(report.summary())


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), envvar="PORT")
@with_appcontext
def serve(host: str, port: int) -> None:
    """Run the app with the scheduler in this process (for `make run`, not for production)."""
    from studyapp.demo import DEMO_CONTACT_EMAIL, prepare_local_instance
    from studyapp.scheduler import is_standing_by, start_in_process

    settings = current_app.config["STUDYAPP_SETTINGS"]
    if settings.is_production:
        raise click.ClickException(_("`serve` is for local use; run gunicorn and `studyapp scheduler` in production."))
    if port != 5000 and not os.environ.get("BASE_URL"):  # links in the mails point where this server listens
        settings = dataclasses.replace(settings, base_url=f"http://{host}:{port}")
        current_app.config["STUDYAPP_SETTINGS"] = settings
    report = prepare_local_instance(current_app)
    click.echo(report.summary())
    click.echo("\n  " + _("Open %(address)s", address=f"{settings.base_url}/login"))
    login_as = _(
        "Log in as %(email)s with password %(password)s",
        email=report.researcher_email,
        password=report.researcher_password,
    )
    click.echo("  " + login_as)
    click.echo("  " + _("(a company contact of the demo: %(email)s, same password)", email=DEMO_CONTACT_EMAIL) + "\n")
    scheduler = start_in_process(current_app)
    if scheduler is not None:
        click.echo(_("Scheduler started (tick every %(seconds)s s).", seconds=settings.scheduler_interval_seconds))
    elif is_standing_by(current_app):
        click.echo(
            _(
                "Scheduler on standby: another process runs it for this database (it holds the scheduler lock); "
                "this one starts it when that process ends."
            )
        )
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types current_app as Flask, not as a proxy
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


@click.command("scheduler")
@click.option(
    "--standby",
    is_flag=True,
    help="When another scheduler runs for this database, wait and take over when it ends (a hot standby).",
)
@with_appcontext
def scheduler_command(standby: bool) -> None:
    """Run the scheduler as its own process (production: exactly one of these, or one and standbys)."""
    from studyapp.scheduler import build_scheduler, claim_scheduler_lock, wait_for_scheduler_lock

    settings = current_app.config["STUDYAPP_SETTINGS"]
    engine = engine_of(current_app)
    if not migrate.is_up_to_date(engine):
        raise click.ClickException(_("The database schema is not up to date: run `studyapp db upgrade` first."))
    lock = claim_scheduler_lock(engine)  # held until this process ends
    if lock is None and standby:
        click.echo(_("Scheduler on standby: another process runs it for this database; waiting for it to end."))
        with contextlib.suppress(KeyboardInterrupt):
            lock = wait_for_scheduler_lock(
                engine, retry_seconds=settings.scheduler_interval_seconds, stop=threading.Event()
            )
        if lock is None:
            return
    if lock is None:
        raise click.ClickException(
            _(
                "Another scheduler already runs for this database (it holds the scheduler lock); not starting a "
                "second (--standby waits and takes over when it ends)."
            )
        )
    click.echo(
        _("Scheduler running, tick every %(seconds)s s. Ctrl-C stops it.", seconds=settings.scheduler_interval_seconds)
    )
    scheduler = build_scheduler(
        engine, interval_seconds=settings.scheduler_interval_seconds, settings=settings, blocking=True
    )
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


@responses_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--study", "study_slug", required=True)
@click.option("--cohort", "cohort_name", required=True)
@click.option("--wave", "wave_label", required=True)
@click.option("--id-column", required=True, help="The column with the participants' identifier.")
@click.option(
    "--mapping",
    "mapping_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A text file with lines 'column = item_code'.",
)
@click.option("--no-create", is_flag=True, help="Reject identifiers of people not enrolled yet.")
@click.option("--dry-run", is_flag=True)
@with_appcontext
def responses_import(
    file: Path,
    study_slug: str,
    cohort_name: str,
    wave_label: str,
    id_column: str,
    mapping_file: Path,
    no_create: bool,
    dry_run: bool,
) -> None:
    """Import an earlier wave's answers from CSV, XLSX or SPSS .sav (all or nothing)."""

    from studyapp.core.tabular import TableError
    from studyapp.database import privacy_of
    from studyapp.participants import response_import as ri

    try:
        mapping = ri.parse_mapping(mapping_file.read_text(encoding="utf-8"))
        table = ri.read_response_file(file.name, file.read_bytes())
    except (ValueError, TableError) as error:
        raise click.ClickException(str(error)) from None
    with session_scope(engine_of(current_app)) as session:
        study = study_by_slug(session, study_slug)
        wave = wave_by_labels(session, study, cohort_name, wave_label)
        plan = ri.plan_response_import(
            session=session,
            privacy=privacy_of(),
            wave=wave,
            table=table,
            id_column=id_column,
            mapping=mapping,
            create_missing=not no_create,
        )
        if plan.problems:
            lines = "\n".join(f"{file}:{p.line}: {p.message}" for p in plan.problems)
            raise click.ClickException(_("The file was rejected; nothing was imported.") + f"\n{lines}")
        click.echo(
            _(
                "%(responses)d responses, %(new)d new participants, %(unchanged)d imported before.",
                responses=len(plan.rows) - plan.unchanged,
                new=plan.new_participants,
                unchanged=plan.unchanged,
            )
        )
        if dry_run:
            session.rollback()
            click.echo(_("Dry run: nothing stored."))
            return
        stored = ri.apply_response_import(session=session, privacy=privacy_of(), wave=wave, plan=plan, source=str(file))
    click.echo(_("Imported %(count)d responses.", count=stored))


@click.command("export")
@click.option("--study", "study_slug", required=True)
@click.option("--cohort", "cohort_names", multiple=True, help="Repeat for several; default all.")
@click.option("--wave", "wave_labels", multiple=True, help="Wave labels; repeat for several; default all.")
@click.option(
    "--format",
    "formats",
    multiple=True,
    help="long_csv, wide_csv, sav, parquet, codebook_json, codebook_html; repeat for several; default all. "
    "Or 'deposit' alone: an archive-ready BagIt bag (CSV, SPSS, DDI codebook, data package, README) in --out.",
)
@click.option("--language", type=click.Choice(["en", "nl"]), default="en", show_default=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--raw-text",
    is_flag=True,
    help="Write CSV text exactly as given, for R and Python: no apostrophe before text that begins with "
    "=, +, -, @, a tab or CR (such text may run as a formula in Excel). Audit-logged.",
)
@click.option(
    "--submitted-only",
    is_flag=True,
    help="Leave out responses that were started but not submitted (the 'submitted' column says which are).",
)
@click.option(
    "--include-text",
    is_flag=True,
    help="With --format deposit: include free-text answers (left out by default; they may identify people).",
)
@with_appcontext
def export_command(
    study_slug: str,
    cohort_names: tuple[str, ...],
    wave_labels: tuple[str, ...],
    formats: tuple[str, ...],
    language: str,
    out_dir: Path,
    raw_text: bool,
    submitted_only: bool,
    include_text: bool,
) -> None:
    """Write a pseudonymised export (audit-logged).

    In the CSV files, text that a spreadsheet would run as a formula starts with an apostrophe unless
    --raw-text is given; SPSS and Parquet files always hold the text as given. ``--format deposit``
    writes an archive-ready BagIt bag into --out instead (see docs/guide.md).
    """
    from sqlmodel import Session, select

    from studyapp.core.models import Cohort, Wave
    from studyapp.database import reading_engine_of
    from studyapp.exports.deposit import DepositError, make_deposit
    from studyapp.exports.service import FORMATS, ExportScope, export_to_folder

    deposit = "deposit" in formats
    if deposit and len(set(formats)) > 1:
        raise click.BadParameter(_("'deposit' cannot be combined with other formats."), param_hint="--format")
    if include_text and not deposit:
        raise click.BadParameter(_("--include-text is for --format deposit only."), param_hint="--include-text")

    with session_scope(engine_of(current_app)) as session, Session(reading_engine_of(current_app)) as reader:
        study = study_by_slug(session, study_slug)
        cohorts = session.exec(select(Cohort).where(Cohort.study_id == study.id)).all()
        chosen = [c for c in cohorts if not cohort_names or c.name in cohort_names]
        missing = set(cohort_names) - {c.name for c in cohorts}
        if missing:
            raise click.ClickException(_("Unknown cohort(s): %(cohorts)s", cohorts=", ".join(sorted(missing))))
        chosen_ids = {key(c) for c in chosen}
        study_waves = session.exec(select(Wave).join(Cohort).where(Cohort.study_id == study.id)).all()
        waves = [w for w in study_waves if w.cohort_id in chosen_ids]
        wave_ids = [key(w) for w in waves if w.label in wave_labels] if wave_labels else []
        if wave_labels and not wave_ids:
            raise click.ClickException(
                _("No wave labelled %(labels)s in these cohorts.", labels=", ".join(wave_labels))
            )
        scope = ExportScope(
            study=study,
            cohort_ids=[key(c) for c in chosen],
            wave_ids=wave_ids,
            language=language,
            submitted_only=submitted_only,
            include_text=include_text or not deposit,
        )
        if deposit:
            try:
                bag = make_deposit(session=session, reader=reader, scope=scope, folder=out_dir)
            except DepositError as error:
                raise click.ClickException(str(error)) from None
            click.echo(str(bag))
            return
        try:
            paths = export_to_folder(
                session=session,
                reader=reader,
                scope=scope,
                folder=out_dir,
                formats=formats or FORMATS,
                raw_text=raw_text,
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    for path in paths.values():
        click.echo(str(path))


@click.command("backup")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(out_path: Path) -> None:
    """Write a consistent backup of the database (SQLite backup API or pg_dump) and its manifest."""
    from studyapp.backup import BackupError, backup

    try:
        report = backup(engine_of(current_app), out_path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    rows = sum(int(t["rows"]) for t in report.tables.values())
    click.echo(
        _(
            "Backup written to %(path)s (%(tables)d tables, %(rows)d rows); manifest %(manifest)s",
            path=report.path,
            tables=len(report.tables),
            rows=rows,
            manifest=report.manifest,
        )
    )


@click.command("restore")
@click.argument("backup_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="do not ask: the database's current contents are replaced")
@click.option(
    "--no-verify",
    is_flag=True,
    help="restore without the backup's manifest (BACKUP.json): row counts and checksums are not checked",
)
@with_appcontext
def restore_command(backup_path: Path, yes: bool, no_verify: bool) -> None:
    """Replace the database's contents with a backup, and check it against the backup's manifest.

    A backup without its manifest (the .json file beside it) is refused unless --no-verify is given.
    """
    from studyapp.backup import BackupError, restore

    if not yes:
        click.confirm(_("This replaces everything in the database with the backup. Go on?"), abort=True)
    try:
        tables = restore(engine_of(current_app), backup_path, verify=not no_verify)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if no_verify:
        click.echo(
            _(
                "Restored %(tables)d tables from %(path)s. NOT checked (--no-verify): no manifest was "
                "read, so nothing shows that the restored rows are the ones that were backed up.",
                tables=len(tables),
                path=backup_path,
            )
        )
    else:
        click.echo(
            _(
                "Restored %(tables)d tables from %(path)s; row counts and checksums match the manifest.",
                tables=len(tables),
                path=backup_path,
            )
        )


from studyapp.accounts.cli import organisations_group  # noqa: E402
from studyapp.analyses.cli import analyze_group  # noqa: E402
from studyapp.briefings.cli import briefings_group  # noqa: E402
from studyapp.own_data.cli import own_data_command  # noqa: E402

participants_group.add_command(own_data_command)

COMMAND_GROUPS = (
    analyze_group,
    briefings_group,
    db_group,
    users_group,
    organisations_group,
    instruments_group,
    demo_group,
    participants_group,
    responses_group,
    linkage_group,
    fieldwork_group,
)
#: Every command of ``studyapp``: the groups and the commands of their own.
COMMANDS = (*COMMAND_GROUPS, serve, scheduler_command, export_command, backup_command, restore_command)


def init_app(app: Flask) -> None:
    """Make every command available on ``app.cli`` (the test runner and ``flask ...``)."""
    for command in COMMANDS:
        app.cli.add_command(command)
