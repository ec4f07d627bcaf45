"""No malformed input makes a server error: every route of the app, every query parameter and form field it
reads, sent NUL bytes, huge and negative numbers, non-numbers, dates out of range, 10,000 characters and odd
Unicode, by every kind of visitor (anonymous, participant link, company contact, researcher, admin).

``INPUTS`` lists what each endpoint reads, with a valid value for each field: one field at a time is
replaced by each bad value while the others stay valid, so that the bad value reaches the code behind a
form's validation (a date that overflows only after the rest of the wave form passed). A new route fails
:func:`test_every_route_lists_what_it_reads` until it is added here.

In tests ``app.testing`` re-raises exceptions (see ``studyapp/errors.py``): a crash is caught below and
counted as a server error, with its exception and the request that caused it.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from studyapp.accounts.tokens import make_link_token
from studyapp.app import create_app
from studyapp.core.models import AnalysisRun, Briefing, MailboxMessage
from studyapp.settings import DEV_SECRET_KEY
from tests.factories import (
    enrol,
    invite_with_token,
    login,
    make_cohort,
    make_flow_instrument,
    make_organisation,
    make_study,
    make_user,
    make_wave,
    submit_response,
)
from tests.test_authorization import classify

# Without libharfbuzz-subset WeasyPrint warns on every PDF; that says nothing about input handling.
pytestmark = pytest.mark.filterwarnings("ignore:HarfBuzz-Subset will be required:DeprecationWarning")

#: The bad values every parameter and field is sent, one at a time.
BAD_VALUES: tuple[str, ...] = (
    "\x00",
    "a\x00b",
    "-1",
    "0",
    "99999999999",
    "99999999999999999999",
    "9" * 5000,
    "-99999999999",
    "abc",
    "\u00b2",  # superscript two: str.isdigit() says yes, int() says no
    "\u0661\u0662",  # Arabic-Indic digits
    "1.5",
    "1e999",
    "",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "2027-02-30T08:00",
    "x" * 10_000,
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u200e",
    "\U0001f600",
    "\ud800",  # a lone surrogate (sent percent-encoded as ED A0 80)
    "Bob\r\nReply-To: attacker@evil.example",
    "/\r\nX-Injected: 1",
    "tab\there\x07\x1b[31m",
    "{name.foo}",
    "{0} {name!r} {",
)
#: For refused visitors, whose requests never reach the view's parsing: a sample of the worst.
REFUSED_SAMPLE: tuple[str, ...] = ("\x00", "9" * 5000, "x" * 10_000, "\ud800")

#: Path variants for ``<int:...>`` and for string path parts.
INT_PATH_VARIANTS = ("0", "99999999999", "99999999999999999999", "9" * 5000, "%C2%B2", "-1")
TEXT_PATH_VARIANTS = ("%00", "a%00b", "%0D%0A", "x" * 10_000, "%ED%A0%80", "%F0%9F%98%80", "%E2%80%AE")


@dataclass(frozen=True)
class Inputs:
    """What an endpoint reads: query parameters and form fields with a valid value each (``{name}`` is
    filled from the world), uploaded files (field -> (file name, content)), and which token it wants."""

    args: dict[str, str] = field(default_factory=dict)
    form: dict[str, str | list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    token: str = "token"  # participant routes: which personal link ("token", "done_token", "leave_token")


WAVE_FORM: dict[str, str | list[str]] = {
    "label": "T9",
    "instrument_id": "{instrument_id}",
    "schedule": "on_date",
    "opens_at": "2027-05-01T08:00",
    "closes_at": "2027-06-01T08:00",
    "offset_days": "",
    "window_days": "",
    "reminder_days": "7, 14",
}
AUDIT_ARGS = {
    "action": "study",
    "actor": "admin",
    "target_type": "study",
    "target_id": "{study_id}",
    "since": "2020-01-01",
    "until": "2030-01-01",
}
ENROLMENT_CSV = (
    b"email,cohort,name,language,external_id,keep_data\nnew.one@example.org,Final-year students,New One,en,s1,yes\n"
)
RESPONSES_CSV = b"student,v1,v2\n12345,30,fine\n"
PAGE_FORM: dict[str, str | list[str]] = {"bg_age": "30", "bg_remarks": "All fine", "action": "next"}

INPUTS: dict[str, Inputs] = {
    "accounts_admin.account_action": Inputs(),
    "accounts_admin.detail": Inputs(
        form={"role": "company_contact", "organisation_id": "{organisation_id}", "can_view_identities": "y"}
    ),
    "accounts_admin.index": Inputs(
        form={
            "email": "new.person@example.org",
            "name": "New Person",
            "role": "company_contact",
            "organisation_id": "{organisation_id}",
            "can_view_identities": "y",
            "language": "en",
        }
    ),
    # a live link; the passwords differ, so the link outlives the sweep
    "accounts_admin.set_password": Inputs(
        form={"password": "a-new-password-1", "confirm": "another-password-2"}, token="account_link"
    ),
    "accounts.login": Inputs(args={"next": "/studies/new"}, form={"email": "nobody@example.org", "password": "x"}),
    "accounts.logout": Inputs(),
    "accounts.change_language": Inputs(form={"language": "en", "next": "/studies/new"}),
    "analyses.index": Inputs(
        form={
            "cohort_id": "{cohort_id}",
            "k_min": "1",
            "k_max": "2",
            "parameterisations": ["EEI"],
            "n_starts": "1",
            "blrt_draws": "0",
            "transition_bootstrap": "0",
        }
    ),
    "analyses.report_pdf": Inputs(),
    "analyses.show": Inputs(),
    "auditlog.export_csv": Inputs(args=AUDIT_ARGS),
    "auditlog.index": Inputs(args={**AUDIT_ARGS, "page": "1"}),
    "briefings.code": Inputs(form={"organisation_id": "{organisation_id}", "key": "acme", "new_name": ""}),
    "briefings.company_download": Inputs(),
    "briefings.download": Inputs(),
    "briefings.generate": Inputs(form={"wave_id": "{wave_id}"}),
    "briefings.index": Inputs(),
    "briefings.portal": Inputs(),
    "exports.deposit": Inputs(
        form={
            "deposit-cohorts": ["{cohort_id}"],
            "deposit-waves": ["{wave_id}"],
            "deposit-language": "en",
            "deposit-include_text": "y",
        }
    ),
    "exports.index": Inputs(
        form={"cohorts": ["{cohort_id}"], "waves": ["{wave_id}"], "formats": ["long_csv"], "language": "en"}
    ),
    "fieldwork.dashboard": Inputs(),
    "fieldwork.edit_template": Inputs(form={"subject": "Hello {name}", "body": "Your link: {link}", "action": "save"}),
    "fieldwork.mailbox": Inputs(),
    "fieldwork.mailbox_message": Inputs(),
    "fieldwork.pause": Inputs(),
    "fieldwork.resend": Inputs(),
    "fieldwork.test_message": Inputs(form={"kind": "invitation", "language": "nl"}),
    "health.healthz": Inputs(),
    "accessibility.statement": Inputs(),
    "participant.change_email": Inputs(
        args={"lang": "en"}, form={"email": "cara.new@example.org"}, token="leave_token"
    ),
    "participant.consent_action": Inputs(args={"lang": "en"}, token="leave_token"),
    "participant.one_click_unsubscribe": Inputs(token="leave_token"),
    "participant.privacy_page": Inputs(args={"lang": "en", "done": "email"}, token="leave_token"),
    "own_data.my_data": Inputs(args={"lang": "en"}, token="leave_token"),
    "own_data.my_data_file": Inputs(args={"lang": "en"}, token="leave_token"),
    "own_data_admin.researcher_copy": Inputs(form={"file_format": "json", "language": "en", "note": "asked by phone"}),
    "participant.signup": Inputs(
        args={"lang": "en"},
        form={"name": "Sam", "email": "sam@example.org", "language": "en", "consent": "y", "keep_data": "yes"},
    ),
    "questionnaire_admin.answers": Inputs(),
    "participants.change_email": Inputs(form={"email": "ana.new@example.org"}),
    "participants.consent_action": Inputs(form={"note": "asked by phone"}),
    "participants.detail": Inputs(args={"identity": "1"}),
    "participants.import_confirm": Inputs(),
    "participants.import_upload": Inputs(files={"file": ("list.csv", ENROLMENT_CSV)}),
    "participants.index": Inputs(
        args={"cohort": "{cohort_id}", "status": "active", "q": "P", "page": "1", "identities": "1"}
    ),
    "participants.linkage": Inputs(
        args={"earlier": "{anon_wave_1}", "later": "{anon_wave_2}"},
        form={"earlier": "{anon_wave_1}", "later": "{anon_wave_2}", "keep": "PAAAA", "merge": "PBBBB"},
    ),
    "participants.responses_confirm": Inputs(),
    "participants.responses_upload": Inputs(
        form={
            "wave_id": "{wave_id}",
            "id_column": "student",
            "mapping": "v1 = bg_age\nv2 = bg_remarks",
            "create_missing": "y",
        },
        files={"file": ("answers.csv", RESPONSES_CSV)},
    ),
    "participants.signup_toggle": Inputs(),
    "questionnaire.autosave": Inputs(args={"lang": "en"}, form=PAGE_FORM),
    "questionnaire.feedback": Inputs(args={"lang": "en"}, token="done_token"),
    "questionnaire.feedback_pdf": Inputs(args={"lang": "en"}, token="done_token"),
    "questionnaire.review": Inputs(args={"lang": "en", "missing": "1"}),
    "questionnaire.section_page": Inputs(args={"lang": "en", "check": "1", "return": "review"}, form=PAGE_FORM),
    "questionnaire.submit_answers": Inputs(args={"lang": "en"}),
    "questionnaire.welcome": Inputs(args={"lang": "en"}),
    "static": Inputs(),
    "studies.cohort_delete": Inputs(),
    "studies.cohort_edit": Inputs(form={"name": "Final-year students", "description": "d", "linkage": "contact"}),
    "studies.cohort_new": Inputs(form={"name": "Alumni", "description": "d", "linkage": "contact"}),
    "studies.dashboard": Inputs(),
    "studies.study_delete": Inputs(),
    "studies.study_detail": Inputs(),
    "studies.study_edit": Inputs(
        form={"name": "Bridge the Gap", "slug": "bridge-the-gap", "description": "d", "timezone": "America/Los_Angeles"}
    ),
    "studies.study_retention": Inputs(form={"until": "2031-03-01", "reason": "A later wave was added."}),
    "studies.study_new": Inputs(
        form={"name": "Second study", "slug": "second", "description": "d", "timezone": "America/Los_Angeles"}
    ),
    "studies.wave_delete": Inputs(),
    "studies.wave_edit": Inputs(form=WAVE_FORM),
    "studies.wave_new": Inputs(form=WAVE_FORM),
}

#: Requests that change what later requests see (log out, erase, delete): sent last.
LAST = ("accounts.logout", "participant.consent_action", "participant.one_click_unsubscribe", "studies.study_delete")
#: Slow to answer (a PDF each time): the bad values go in all at once instead of one by one.
SLOW = {"questionnaire.feedback_pdf", "analyses.report_pdf", "own_data.my_data_file"}

#: File upload variants: (file name, content).
UPLOAD_VARIANTS: tuple[tuple[str, bytes], ...] = (
    ("\x00.csv", ENROLMENT_CSV),
    ("a\r\nb.csv", ENROLMENT_CSV),
    ("x" * 10_000 + ".csv", ENROLMENT_CSV),
    ("\u202ecsv.exe.csv", ENROLMENT_CSV),
    ("list.csv", b'email,cohort,name\nbob@example.org,Final-year students,"Bob\r\nReply-To: attacker@evil.example"\n'),
    ("list.csv", b"email,cohort,name\nbob@example.org,Final-year students,Bob\x00\n"),
    ("list.csv", b"email,cohort,name,external_id\nbob@example.org,Final-year students,Bob," + b"9" * 5000 + b"\n"),
    ("list.csv", b"\xff\xfe\x00"),
    ("list.xlsx", b"PK\x03\x04 not really"),
    ("answers.csv", b'student,v1,v2\n\x00,99999999999,"a\x00b"\n'),
    ("answers.csv", b"student,v1,v2\n123,1e999,x\n124,99999999999999999999,\x07\n"),
    ("answers.sav", b"$FL2 not really"),
)


def encode(value: str) -> str:
    """Percent-encoded UTF-8; a lone surrogate becomes the bytes a careless client would send."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def query_string(args: dict[str, str]) -> str:
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in args.items())


def form_body(form: dict[str, str | list[str]]) -> str:
    pairs = []
    for name, value in form.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append(f"{encode(name)}={encode(one)}")
    return "&".join(pairs)


_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?P<options>\([^)]*\))?:)?(?P<name>\w+)>")


@dataclass
class Sweep:
    """Sends requests and collects every server error (a status of 500 or more, or an exception)."""

    app: Flask
    client: FlaskClient
    role: str
    errors: list[str] = field(default_factory=list)
    sent: int = 0

    def send(self, endpoint: str, method: str, path: str, *, body: str | None = None, files=None) -> int | None:
        self.sent += 1
        try:
            if method == "GET":
                response = self.client.get(path, buffered=True)
            elif files is not None:
                response = self.client.post(path, data=files, content_type="multipart/form-data", buffered=True)
            else:
                response = self.client.post(
                    path, data=(body or "").encode("ascii"), content_type="application/x-www-form-urlencoded"
                )
        except Exception as error:  # app.testing re-raises what the error page would hide
            first = (str(error).splitlines() or [""])[0][:160]
            self.errors.append(
                f"{self.role} {endpoint} {method} {path[:120]!r} {body[:120] if body else ''!r}: "
                f"{type(error).__name__}: {first}"
            )
            return None
        response.close()
        if response.status_code >= 500:
            self.errors.append(f"{self.role} {endpoint} {method} {path[:120]!r}: HTTP {response.status_code}")
        if 300 <= response.status_code < 400:  # flashes not shown: keep the session cookie small
            with self.client.session_transaction() as session:
                session.pop("_flashes", None)
        return response.status_code


def build_world(session: Session) -> dict:
    """A study west of UTC with a contact cohort (three people, one wave, one submitted response), an
    anonymous cohort with two waves, organisations, briefings, an analysis run and a mailbox message."""
    from studyapp.core.models import Cohort, Study

    instrument = make_flow_instrument(session)
    study = make_study(session)
    study.timezone = "America/Los_Angeles"
    cohort = make_cohort(session, study)
    cohort.signup_open, cohort.signup_code = True, "open-code"
    session.add_all([study, cohort])
    session.commit()
    wave = make_wave(session, cohort, instrument)
    ana = enrol(session, cohort, "ana@example.org", name="Ana Example")
    bram = enrol(session, cohort, "bram@example.org", name="Bram Example")
    cara = enrol(session, cohort, "cara@example.org", name="Cara Example")
    done_invitation, done_token = invite_with_token(session, ana, wave)
    invitation, token = invite_with_token(session, bram, wave)
    _, leave_token = invite_with_token(session, cara, wave)
    submit_response(session, done_invitation, {"prof_title": 1, "bg_age": 30})
    anon = make_cohort(session, study, name="Anonymous")
    anon.linkage = "code"
    session.add(anon)
    session.commit()
    anon_waves = [make_wave(session, anon, instrument, label=label) for label in ("A1", "A2")]
    own, other = make_organisation(session, "Acme"), make_organisation(session, "Other Co")
    briefing = Briefing(study_id=study.id, organisation_id=own.id, wave_id=wave.id, pdf=b"%PDF-1.4", checksum="x")
    run = AnalysisRun(study_id=study.id, cohort_id=cohort.id, status="failed", error="test")
    message = MailboxMessage(message_id="<m@x>", recipient="ana@example.org", subject="s", raw="Subject: s\n\nbody")
    session.add_all([briefing, run, message])
    session.commit()
    make_user(session, email="admin@example.org", role="admin", can_view_identities=True)
    researcher = make_user(session, email="researcher@example.org", can_view_identities=True)
    make_user(session, email="hr@acme.example", role="company_contact", organisation_id=own.id)
    assert session.get(Study, study.id) and session.get(Cohort, anon.id)
    return {
        "study_id": study.id,
        "cohort_id": cohort.id,
        "anon_cohort_id": anon.id,
        "anon_wave_1": anon_waves[0].id,
        "anon_wave_2": anon_waves[1].id,
        "wave_id": wave.id,
        "instrument_id": instrument.id,
        "organisation_id": other.id,
        "participant_id": ana.id,
        "invitation_id": invitation.id,
        "message_id": message.id,
        "briefing_id": briefing.id,
        "run_id": run.id,
        "token": token,
        "done_token": done_token,
        "leave_token": leave_token,
        "code": "open-code",
        "section_code": "background",
        "filename": "css/app.css",
        "user_id": researcher.id,
        "account_link": make_link_token(researcher, purpose="reset", secret_key=DEV_SECRET_KEY),
    }


def fill(template: str, world: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(world[m.group(1)]) if m.group(1) in world else m.group(0), template)


def path_for(rule, world: dict, endpoint: str, overrides: dict[str, str] | None = None) -> str:
    """The rule's path with the world's values (or raw ``overrides``, inserted as they are)."""
    inputs = INPUTS[endpoint]

    def value(match: re.Match) -> str:
        name, converter = match.group("name"), match.group("converter")
        if overrides and name in overrides:
            return overrides[name]
        if converter == "any":
            return re.search(r"'([^']+)'", match.group("options")).group(1)  # type: ignore[union-attr]
        if name == "token":
            return str(world[inputs.token])
        if name == "cohort_id" and endpoint == "participants.linkage":
            return str(world["anon_cohort_id"])
        return str(world[name])

    return _ARGUMENT.sub(value, rule.rule)


def rules_in_order(app: Flask) -> list:
    rules = [r for r in app.url_map.iter_rules()]
    return sorted(rules, key=lambda r: (r.endpoint in LAST, r.endpoint, r.rule))


def methods_of(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def variants(inputs: Inputs, method: str, world: dict, values: Iterable[str]) -> Iterator[tuple[dict, dict, dict]]:
    """(args, form, files): the valid inputs, then each field in turn replaced by each bad value."""
    args = {k: fill(v, world) for k, v in inputs.args.items()}
    form = {k: [fill(x, world) for x in v] if isinstance(v, list) else fill(v, world) for k, v in inputs.form.items()}
    files = dict(inputs.files)
    if method == "GET":
        form, files = {}, {}
    yield args, form, files
    values = list(values)
    for name in args:
        for bad in values:
            yield {**args, name: bad}, form, files
    for name in form:
        for bad in values:
            yield args, {**form, name: bad}, files
    for name in files:
        for upload in UPLOAD_VARIANTS:
            yield args, form, {**files, name: upload}


def send_variant(sweep: Sweep, endpoint: str, method: str, path: str, args: dict, form: dict, files: dict) -> None:
    full = f"{path}?{query_string(args)}" if args else path
    if method == "GET":
        sweep.send(endpoint, method, full)
    elif files:
        data: dict = {}
        for name, value in form.items():  # multipart cannot carry a lone surrogate: the client would fail
            data[name] = (
                [v.encode("utf-8", "replace").decode() for v in value]
                if isinstance(value, list)
                else (value.encode("utf-8", "replace").decode())
            )
        for name, (filename, content) in files.items():
            data[name] = (io.BytesIO(content), filename.encode("utf-8", "replace").decode())
        sweep.send(endpoint, method, full, files=data)
    else:
        sweep.send(endpoint, method, full, body=form_body(form))


def sweep_routes(sweep: Sweep, world: dict, *, reaches) -> None:
    """Every route and method: a full sweep where this visitor reaches the view, a sample elsewhere."""
    for rule in rules_in_order(sweep.app):
        inputs = INPUTS[rule.endpoint]
        path = path_for(rule, world, rule.endpoint)
        for method in methods_of(rule):
            if not reaches(rule.endpoint):
                args = {k: v for k in inputs.args for v in REFUSED_SAMPLE[:1]}
                form = {k: REFUSED_SAMPLE[0] for k in inputs.form} if method == "POST" else {}
                send_variant(sweep, rule.endpoint, method, path, args, form, {})
                continue
            if rule.endpoint in SLOW:
                send_variant(sweep, rule.endpoint, method, path, {k: "\x00" for k in inputs.args}, {}, {})
                continue
            for args, form, files in variants(inputs, method, world, BAD_VALUES):
                send_variant(sweep, rule.endpoint, method, path, args, form, files)


def sweep_paths(sweep: Sweep, world: dict) -> None:
    """Each path part of each route replaced by odd values (the rest as in the world)."""
    for rule in rules_in_order(sweep.app):
        if rule.endpoint in SLOW:
            continue
        for match in _ARGUMENT.finditer(rule.rule):
            name, converter = match.group("name"), match.group("converter")
            if converter == "any":
                continue
            odd = INT_PATH_VARIANTS if converter == "int" else TEXT_PATH_VARIANTS
            for value in odd:
                path = path_for(rule, world, rule.endpoint, {name: value})
                for method in methods_of(rule):
                    sweep.send(rule.endpoint, method, path, body="")


def report(sweep: Sweep, started: float) -> None:
    elapsed = time.perf_counter() - started
    print(f"{sweep.role}: {sweep.sent} requests in {elapsed:.1f} s, {len(sweep.errors)} server errors")
    shown = "\n".join(sweep.errors[:80])
    more = f"\n... and {len(sweep.errors) - 80} more" if len(sweep.errors) > 80 else ""
    assert sweep.errors == [], f"{len(sweep.errors)} server errors:\n{shown}{more}"


@pytest.fixture
def robust_app(engine, settings, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app with rate limits off (thousands of requests from one address are the point here) and cheap
    password hashes (each failed login verifies one, by design slow)."""
    from argon2 import PasswordHasher

    from studyapp.accounts import services

    cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(services, "_hasher", cheap)
    monkeypatch.setattr(services, "_DUMMY_HASH", cheap.hash("not-a-real-password-just-for-timing"))
    return create_app(
        {"TESTING": True, "ENGINE": engine, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False},
        settings=settings,
    )


def test_every_route_lists_what_it_reads(robust_app: Flask) -> None:
    endpoints = {rule.endpoint for rule in robust_app.url_map.iter_rules()}
    assert endpoints == set(INPUTS), (
        f"list the query parameters and form fields of new routes in INPUTS: {sorted(endpoints ^ set(INPUTS))}"
    )


def test_anonymous_visitors_and_participants_cause_no_server_error(robust_app: Flask, session: Session) -> None:
    world = build_world(session)
    started = time.perf_counter()
    sweep = Sweep(robust_app, robust_app.test_client(), "anonymous")
    sweep_routes(
        sweep,
        {**world, "token": "no-such-link", "done_token": "no", "leave_token": "x", "code": "nope"},
        reaches=lambda endpoint: classify(endpoint) == "public",
    )
    sweep_paths(sweep, world)
    participant = Sweep(robust_app, robust_app.test_client(), "participant")
    sweep_routes(participant, world, reaches=lambda endpoint: classify(endpoint) == "link")
    sweep.errors += participant.errors
    sweep.sent += participant.sent
    report(sweep, started)


def _sweep_logged_in(robust_app: Flask, session: Session, email: str, role: str, classes: tuple[str, ...]) -> None:
    world = build_world(session)
    started = time.perf_counter()
    client = robust_app.test_client()
    login(client, email)
    sweep = Sweep(robust_app, client, role)
    sweep_routes(sweep, world, reaches=lambda endpoint: classify(endpoint) in classes)
    if role == "researcher":
        login(client, email)  # the sweep ends with logging out
        sweep_paths(sweep, world)
    report(sweep, started)


def test_company_contacts_cause_no_server_error(robust_app: Flask, session: Session) -> None:
    _sweep_logged_in(robust_app, session, "hr@acme.example", "company", ("company",))


def test_researchers_cause_no_server_error(robust_app: Flask, session: Session) -> None:
    _sweep_logged_in(robust_app, session, "researcher@example.org", "researcher", ("staff", "logged_in"))


def test_admins_cause_no_server_error(robust_app: Flask, session: Session) -> None:
    _sweep_logged_in(robust_app, session, "admin@example.org", "admin", ("admin",))
