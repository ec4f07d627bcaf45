"""The admin in each user's language, the language choice, and texts outside requests (issue 18)."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.core.errors import NotAllowed
from studyapp.core.models import AuditEvent, Cohort, Instrument, Study, User
from studyapp.formatting import decimal
from studyapp.studies import services
from tests.factories import PASSWORD, enrol, login, make_cohort, make_instrument, make_study, make_user, make_wave
from waves import i18n as waves_i18n
from waves.messages import default_template, local_date

CATALOGUE = Path(__file__).resolve().parent.parent / "studyapp" / "translations" / "nl" / "LC_MESSAGES" / "messages.po"
ADMIN = "chief@example.org"  # its name (Chief) is no text of the catalogue
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _dutch_of() -> dict[str, str]:
    """English msgid → Dutch, for the texts whose Dutch differs (singular, without placeholders)."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="nl")
    pairs = {}
    for message in catalogue:
        simple = isinstance(message.id, str) and isinstance(message.string, str) and message.string != message.id
        if simple and message.id and "%(" not in message.id and "{" not in message.id:
            pairs[message.id.replace("%%", "%")] = message.string.replace("%%", "%")
    return pairs


class _Texts(HTMLParser):
    """The text nodes of a page, leaving out scripts and elements that name their own language."""

    def __init__(self, skip: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.skip = skip
        self.texts: list[str] = []
        self.html_lang: str | None = None
        self._stack: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "html":
            self.html_lang = named.get("lang")
            return
        if tag in VOID:
            return
        skip = tag in ("script", "style", *self.skip) or "lang" in named or (bool(self._stack) and self._stack[-1][1])
        self._stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not (self._stack and self._stack[-1][1]):
            self.texts.append(text)


def _read(html: str, skip: tuple[str, ...] = ()) -> _Texts:
    parser = _Texts(skip)
    parser.feed(html)
    return parser


@pytest.fixture
def world(session: Session) -> dict[str, int]:
    """A study with a cohort, a wave and an enrolled participant; a researcher and an admin in each language."""
    study = make_study(session)
    cohort = make_cohort(session, study)
    make_wave(session, cohort, make_instrument(session))
    participant = enrol(session, cohort, "ana@example.org")
    make_user(session, email="nl@example.org", language="nl")
    make_user(session, email="en@example.org", language="en")
    admin = make_user(session, email=ADMIN, role="admin", language="nl")
    return {"study": study.id, "participant": participant.id, "admin": admin.id}  # type: ignore[dict-item]


def _pages(world: dict[str, int], *, admin: bool) -> list[str]:
    study = world["study"]
    pages = [
        "/",
        "/studies/new",
        f"/studies/{study}",
        f"/studies/{study}/fieldwork",
        f"/studies/{study}/participants",
        f"/participants/{world['participant']}",
        f"/studies/{study}/participants/import",
        f"/studies/{study}/responses/import",
        f"/studies/{study}/analysis",
        f"/studies/{study}/export",
        f"/studies/{study}/briefings",
    ]
    return pages + (["/admin/accounts", f"/admin/accounts/{world['admin']}", "/audit"] if admin else [])


def test_a_dutch_researcher_sees_every_main_admin_page_in_dutch(client: FlaskClient, world: dict[str, int]) -> None:
    login(client, ADMIN)
    dutch_of = _dutch_of()
    for path in _pages(world, admin=True):
        response = client.get(path)
        assert response.status_code == 200, path
        # the audit log's cells are records (actions, the words stored in their details), not texts
        page = _read(response.get_data(as_text=True), skip=("td",) if path == "/audit" else ())
        assert page.html_lang == "nl", path
        english = sorted({text for text in page.texts if text in dutch_of})
        assert not english, f"{path} shows English: {english}"
    nav = _read(client.get("/").get_data(as_text=True)).texts
    assert {"Onderzoeken", "Accounts", "Auditlog", "Uitloggen", "Naar de inhoud"} <= set(nav)
    study = _read(client.get(f"/studies/{world['study']}").get_data(as_text=True)).texts
    assert {"Veldwerk", "Deelnemers", "Analyse", "Gegevens exporteren", "Meting", "Schema"} <= set(study)


def test_an_english_researcher_sees_the_admin_in_english(client: FlaskClient, world: dict[str, int]) -> None:
    login(client, "en@example.org")
    dutch_of = _dutch_of()
    only_dutch = set(dutch_of.values()) - set(dutch_of)
    for path in _pages(world, admin=False):
        response = client.get(path)
        assert response.status_code == 200, path
        page = _read(response.get_data(as_text=True))
        assert page.html_lang == "en", path
        dutch = sorted({text for text in page.texts if text in only_dutch})
        assert not dutch, f"{path} shows Dutch: {dutch}"
    study = _read(client.get(f"/studies/{world['study']}").get_data(as_text=True)).texts
    assert {"Fieldwork", "Participants", "Analysis", "Export data", "Log out"} <= set(study)


def test_the_login_page_follows_the_browser_language(client: FlaskClient) -> None:
    dutch = client.get("/login", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="nl">' in dutch and "Inloggen" in dutch and "Log in" not in dutch
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Log in" in english
    neither = client.get("/login", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert '<html lang="en">' in neither


def test_a_user_switches_their_own_language_audit_logged(
    client: FlaskClient, session: Session, world: dict[str, int]
) -> None:
    login(client, "en@example.org")
    page = client.get("/").get_data(as_text=True)
    assert 'name="language" value="nl"' in page  # the switch offers the other language
    response = client.post("/account/language", data={"language": "nl", "next": "/audit?x"}, follow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"].endswith("/audit?x")
    dashboard = client.get("/").get_data(as_text=True)
    assert '<html lang="nl">' in dashboard and "De app spreekt nu Nederlands met je." in dashboard
    user = session.exec(select(User).where(User.email == "en@example.org")).one()
    session.refresh(user)
    assert user.language == "nl"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.language_changed")).one()
    assert event.detail == {"email": "en@example.org", "from": "en", "to": "nl"}
    # an unknown language, or a page elsewhere, is refused
    assert client.post("/account/language", data={"language": "de", "next": "/"}).status_code == 400
    away = client.post("/account/language", data={"language": "en", "next": "https://evil.example/"})
    assert away.status_code == 302 and away.headers["Location"] == "/"


def test_an_admin_sets_the_language_of_another_account(
    client: FlaskClient, session: Session, world: dict[str, int]
) -> None:
    login(client, ADMIN)
    other = session.exec(select(User).where(User.email == "en@example.org")).one()
    response = client.post(
        f"/admin/accounts/{other.id}",
        data={"role": "researcher", "organisation_id": "", "language": "nl"},
        follow_redirects=True,
    )
    assert "Gewijzigd: taal." in response.get_data(as_text=True)
    session.refresh(other)
    assert other.language == "nl"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.language_changed")).one()


def test_plurals_follow_the_number(client: FlaskClient, session: Session, world: dict[str, int]) -> None:
    login(client, ADMIN)
    study = client.get(f"/studies/{world['study']}").get_data(as_text=True)
    assert "1 deelnemer" in study and "1 deelnemers" not in study
    client.post("/account/language", data={"language": "en", "next": "/"})
    study = client.get(f"/studies/{world['study']}").get_data(as_text=True)
    assert "1 participant" in study and "1 participants" not in study
    detail = client.get(f"/admin/accounts/{world['admin']}").get_data(as_text=True)  # the reset link: one hour
    assert "for 1 hour;" in detail and "hour(s)" not in detail
    accounts = client.get("/admin/accounts").get_data(as_text=True)  # the invitation link: 72 hours
    assert "for 72 hours." in accounts


def test_numbers_and_dates_are_written_by_babel() -> None:
    from datetime import UTC, datetime

    assert decimal(1234.56, 1, "nl") == "1234,6" and decimal(1234.56, 1, "en") == "1234.6"
    moment = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert local_date(moment, "Europe/Amsterdam", "nl") == "1 maart 2026"
    assert local_date(moment, "Europe/Amsterdam", "en") == "1 March 2026"


def test_the_fieldwork_engine_loads_each_catalogue_once() -> None:
    """Composing messages must not reload catalogues (the dispatcher composes ~1,000 a second)."""
    waves_i18n.translations.cache_clear()
    default_template.cache_clear()
    for _ in range(200):
        for language in ("nl", "en"):
            waves_i18n.translated(language, "Open the questionnaire")
            default_template("invitation", language)
    assert waves_i18n.translations.cache_info().misses == 2
    assert waves_i18n.translated("nl", "Open the questionnaire") == "Open de vragenlijst"
    assert default_template("reminder", "nl")[0].startswith("Herinnering:")
    assert default_template("reminder", "en")[0].startswith("Reminder:")


def test_cli_messages_follow_the_environment_language(runner, session: Session) -> None:
    dutch = {"LANGUAGE": "nl_NL:nl", "LC_ALL": None, "LC_MESSAGES": None, "LANG": "en_US.UTF-8"}
    result = runner.invoke(
        args=["users", "create", "--email", "ana@example.org", "--name", "Ana", "--password", PASSWORD], env=dutch
    )
    assert result.exit_code == 0, result.output
    assert "researcher ana@example.org aangemaakt." in result.output
    english = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "de_DE.UTF-8"}
    result = runner.invoke(
        args=["users", "create", "--email", "bo@example.org", "--name", "Bo", "--password", PASSWORD], env=english
    )
    assert "Created researcher bo@example.org." in result.output


def _cohort_of(session: Session, study_id: int) -> Cohort:
    return session.exec(select(Cohort).where(Cohort.study_id == study_id)).one()


def test_service_problems_reach_a_dutch_researcher_in_dutch(
    client: FlaskClient, session: Session, world: dict[str, int]
) -> None:
    """The wave form's problems come from the service and the schedule rules; the flashes from the views."""
    cohort = _cohort_of(session, world["study"])
    instrument = session.exec(select(Instrument)).one()
    login(client, "nl@example.org")
    form = {
        "label": "T1",  # the world's wave has it already
        "instrument_id": instrument.id,
        "schedule": "on_date",
        "opens_at": "2027-03-29T09:00",
        "closes_at": "2027-03-01T09:00",
        "reminder_days": "7, elf",
    }
    page = client.post(f"/cohorts/{cohort.id}/waves/new", data=form).get_data(as_text=True)
    assert "Dit cohort heeft al een meting met het label &#39;T1&#39;." in page
    assert "&#39;elf&#39; is geen geheel aantal dagen." in page
    assert "already has a wave" not in page and "whole number of days" not in page
    form.update(label="T2", opens_at="2027-03-01T09:00", closes_at="2027-03-29T09:00", reminder_days="7")
    page = client.post(f"/cohorts/{cohort.id}/waves/new", data=form, follow_redirects=True).get_data(as_text=True)
    assert f"Meting “T2” toegevoegd aan {cohort.name}." in page
    # a cohort with participants stays, and says why in Dutch
    page = client.post(f"/cohorts/{cohort.id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "Dit cohort heeft deelnemers; het kan niet worden verwijderd." in page
    assert "cannot be deleted" not in page
    # the same refusal for an English researcher keeps its English wording
    client.post("/account/language", data={"language": "en", "next": "/"})
    page = client.post(f"/cohorts/{cohort.id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "This cohort has participants; it cannot be deleted." in page


def test_a_dutch_researcher_reads_the_problems_of_an_enrolment_list_in_dutch(
    client: FlaskClient, session: Session, world: dict[str, int]
) -> None:
    login(client, "nl@example.org")
    upload = (io.BytesIO(b"email,cohort\nnot-an-address,Nobody\n"), "people.csv")
    page = client.post(
        f"/studies/{world['study']}/participants/import", data={"file": upload}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "onjuist e-mailadres &#39;not-an-address&#39;" in page
    assert "onbekend cohort &#39;Nobody&#39; (dit onderzoek heeft:" in page
    assert "malformed" not in page and "unknown cohort" not in page


def test_service_messages_outside_a_request_follow_the_environment_language(
    app: Flask, session: Session, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The services also run from the CLI and the scheduler: English there, unless the locale asks for Dutch."""
    cohort = _cohort_of(session, world["study"])
    with pytest.raises(NotAllowed, match=r"^This cohort has participants; it cannot be deleted\.$"):
        services.delete_cohort(session=session, cohort=cohort)  # no app context at all
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    with app.app_context(), pytest.raises(NotAllowed, match=r"^This cohort has participants"):
        services.delete_cohort(session=session, cohort=cohort)
    monkeypatch.setenv("LANG", "nl_NL.UTF-8")
    with app.app_context(), pytest.raises(NotAllowed, match=r"^Dit cohort heeft deelnemers"):
        services.delete_cohort(session=session, cohort=cohort)


def test_account_problems_in_the_cli_follow_the_environment_language(runner, session: Session) -> None:
    dutch = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "nl_NL.UTF-8"}
    args = ["users", "create", "--email", "ana@example.org", "--name", "Ana", "--password", PASSWORD]
    assert runner.invoke(args=args, env=dutch).exit_code == 0
    result = runner.invoke(args=args, env=dutch)
    assert result.exit_code != 0
    assert "Er bestaat al een account voor ana@example.org." in result.output
    result = runner.invoke(args=args, env={**dutch, "LANG": "C.UTF-8"})
    assert "An account for ana@example.org already exists." in result.output


def test_the_cli_speaks_the_environment_language(runner, session: Session, world: dict[str, int], tmp_path) -> None:
    dutch = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "nl_NL.UTF-8"}
    english = {**dutch, "LANG": "C.UTF-8"}
    assert runner.invoke(args=["organisations", "list"], env=dutch).output.strip() == "Nog geen organisaties."
    assert runner.invoke(args=["organisations", "list"], env=english).output.strip() == "No organisations yet."
    study = session.get(Study, world["study"])
    assert study is not None
    listing = tmp_path / "people.csv"
    listing.write_text("email,cohort\nnew@example.org,Final-year students\n", encoding="utf-8")
    result = runner.invoke(args=["participants", "import", str(listing), "--study", study.slug, "--dry-run"], env=dutch)
    assert result.exit_code == 0, result.output
    assert "1 nieuw, 0 al ingeschreven, 0 gekoppeld aan eerdere gegevens." in result.output
    assert "Proefrun: niets opgeslagen." in result.output
    result = runner.invoke(args=["participants", "import", str(listing), "--study", "nope"], env=dutch)
    assert result.exit_code != 0 and "Geen onderzoek met de korte naam 'nope'." in result.output
    result = runner.invoke(
        args=["participants", "import", str(listing), "--study", study.slug, "--dry-run"], env=english
    )
    assert "1 new, 0 already enrolled, 0 linked to earlier data." in result.output
    assert "Dry run: nothing stored." in result.output


def test_durations_and_placeholder_descriptions_in_the_readers_language(
    client: FlaskClient, session: Session, world: dict[str, int]
) -> None:
    """A running analysis says how long it has run; the e-mail editor explains each placeholder."""
    from datetime import timedelta

    from studyapp.core.models import AnalysisRun
    from studyapp.core.types import utcnow

    cohort = _cohort_of(session, world["study"])
    run = AnalysisRun(
        study_id=world["study"],
        cohort_id=cohort.id,  # type: ignore[arg-type]
        status="running",
        parameters={
            "k_min": 1,
            "k_max": 4,
            "parameterisations": ["EEI"],
            "n_starts": 10,
            "blrt_draws": 0,
            "transition_bootstrap": 0,
        },
        started_at=utcnow() - timedelta(hours=2, minutes=5, seconds=10),
    )
    session.add(run)
    session.commit()
    login(client, "nl@example.org")
    page = client.get(f"/studies/{world['study']}/analysis/{run.id}").get_data(as_text=True)
    assert '<span class="analysis-elapsed">2 u 05 min</span>' in page
    editor = client.get(f"/studies/{world['study']}/messages/invitation/nl").get_data(as_text=True)
    assert 'title="de naam van het onderzoek"' in editor and 'title="het label van de meting"' in editor
    assert "the study&#39;s name" not in editor
    client.post("/account/language", data={"language": "en", "next": "/"})
    page = client.get(f"/studies/{world['study']}/analysis/{run.id}").get_data(as_text=True)
    assert '<span class="analysis-elapsed">2 h 05 min</span>' in page
    editor = client.get(f"/studies/{world['study']}/messages/invitation/nl").get_data(as_text=True)
    assert 'title="the study&#39;s name"' in editor


def test_the_fieldwork_engines_refusals_reach_a_dutch_researcher_in_dutch(
    client: FlaskClient, session: Session, world: dict[str, int]
) -> None:
    """The engine writes its refusals in English without knowing the reader; the admin page translates them."""
    url = f"/studies/{world['study']}/messages/invitation/nl"
    login(client, "nl@example.org")
    bad = client.post(url, data={"subject": "Hoi {nam}", "body": "Ga: {link}", "action": "save"}).get_data(as_text=True)
    assert "Onbekend invulveld {nam}; gebruik {name}, " in bad and "Unknown placeholder" not in bad
    missing = client.post(url, data={"subject": "Hoi", "body": "Geen link", "action": "save"}).get_data(as_text=True)
    assert "De tekst moet {link} bevatten, de persoonlijke link van de deelnemer." in missing
    client.post("/account/language", data={"language": "en", "next": "/"})
    bad = client.post(url, data={"subject": "Hoi {nam}", "body": "Ga: {link}", "action": "save"}).get_data(as_text=True)
    assert "Unknown placeholder {nam}; use {name}, " in bad


def test_a_participants_status_inside_a_refusal_is_dutch(
    client: FlaskClient, session: Session, world: dict[str, int]
) -> None:
    """The engine puts the stored status code into its sentence; the Dutch researcher reads the Dutch word."""
    from studyapp.core.models import Participant, Wave
    from studyapp.participants import consent
    from tests.factories import invite_with_token

    participant = session.get(Participant, world["participant"])
    assert participant is not None
    wave = session.exec(select(Wave)).one()
    invitation, _token = invite_with_token(session, participant, wave)
    consent.stop_mail(session=session, participant=participant, actor="researcher")
    session.commit()
    login(client, "nl@example.org")
    page = client.post(f"/invitations/{invitation.id}/resend", data={}, follow_redirects=True).get_data(as_text=True)
    assert "Deze deelnemer heeft de status afgemeld: er gaat geen mail naar deze deelnemer." in page


DUTCH_ENV = {"LANGUAGE": "nl_NL:nl", "LC_ALL": None, "LC_MESSAGES": None, "LANG": "en_US.UTF-8"}
ENGLISH_ENV = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}


def test_db_current_speaks_the_environment_language(runner, session: Session) -> None:
    dutch = runner.invoke(args=["db", "current"], env=DUTCH_ENV)
    assert dutch.exit_code == 0, dutch.output
    assert "huidig:" in dutch.output and "nieuwste:" in dutch.output and "current:" not in dutch.output
    english = runner.invoke(args=["db", "current"], env=ENGLISH_ENV)
    assert "current:" in english.output and "newest:" in english.output


def test_the_demo_seed_summary_speaks_the_environment_language(runner, session: Session) -> None:
    from tests.factories import load_carriere_kompas

    load_carriere_kompas(session)
    dutch = runner.invoke(args=["demo", "seed"], env=DUTCH_ENV)
    assert dutch.exit_code == 0, dutch.output
    assert "Aangemaakt: " in dutch.output and "onderzoek Bridge the Gap" in dutch.output, dutch.output
    assert "Created" not in dutch.output and "with three waves each" not in dutch.output
    again = runner.invoke(args=["demo", "seed"], env=ENGLISH_ENV)
    assert "Demo study already present." in again.output


def test_a_refused_address_is_explained_in_dutch(client: FlaskClient, session: Session, world: dict[str, int]) -> None:
    """email-validator's English reason becomes our own translated sentence; the original goes to the log."""
    login(client, ADMIN)
    invite = {"name": "Ana", "role": "researcher", "language": "nl"}
    page = client.post("/admin/accounts", data={**invite, "email": "ana.example.org"}).get_data(as_text=True)
    assert "Een e-mailadres heeft een @-teken nodig." in page
    assert "must have an @-sign" not in page
    page = client.post("/admin/accounts", data={**invite, "email": "ana@example"}).get_data(as_text=True)
    assert "Na het @-teken is een punt nodig, zoals in example.org." in page
    assert "It should have a period" not in page


def test_the_analysis_notes_reach_a_dutch_researcher_in_dutch(client: FlaskClient, session: Session) -> None:
    """The recommendation's reason, written in English by the analysis package and stored so, reads Dutch."""
    from tests.test_analysis_result import store_run, version_1

    make_user(session, email="nl@example.org", language="nl")
    study, run = store_run(session, version_1())
    login(client, "nl@example.org")
    page = client.get(f"/studies/{study.id}/analysis/{run.id}").get_data(as_text=True)
    assert "De BIC is het laagst voor EEI met K = 6 (BIC 56182.6); de op een na beste is K = 5 (57472.1)." in page
    assert "De BIC daalt nog bij de grootste geschatte K" in page and "dus beslist de BIC alleen." in page
    assert "BIC is lowest" not in page and "BIC alone decides" not in page
    # the charts' titles, axis titles, tooltips and descriptions
    for dutch in (
        "Profielgemiddelden (gestandaardiseerd)",
        "Aantal profielen (K)",
        "Informatiecriterium (lager is beter)",
    ):
        assert dutch in page, dutch
    for english in ("Profile means", "Number of profiles (K)", "lower is better", "Lines show each"):
        assert english not in page, english


def test_the_analysis_packages_own_warnings_are_translated() -> None:
    """What the analysis package itself writes (a model that did not converge, a reliability note) is
    recognised and translated; an unknown sentence stays as it is."""
    import warnings

    import numpy as np
    import pandas as pd

    from analysis.lpa.model import LatentProfileModel
    from analysis.scoring import ScaleDefinition, reliability
    from studyapp.analyses.texts import analysis_text

    def dutch(msgid: str, **values: object) -> str:
        text = waves_i18n.translated("nl", msgid)
        return text % values if values else text

    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LatentProfileModel(2, "EEI", n_starts=1, max_iter=1, random_state=1).fit(frame)
    note = " ".join(model.warnings_)
    assert "EM did not converge within max_iter=1 iterations." in note
    shown = analysis_text(f"Note on this model: {note}", dutch)
    assert "Opmerking bij dit model: " in shown and "EM is niet geconvergeerd binnen max_iter=1 iteraties." in shown
    assert "did not converge" not in shown
    items = pd.DataFrame({"q1": [1.0, 2.0, 3.0]})
    table = reliability(items, [ScaleDefinition(code="s", items=("q1",), min_value=1, max_value=5)])
    assert analysis_text(str(table["note"].iloc[0]), dutch) == "minder dan 2 items"
    assert analysis_text("Something new; fewer than 2 items", dutch) == "Something new; minder dan 2 items"
    # the spurious-solution guard's reasons inside a model's warning
    guard = (
        "Every solution the starts found is spurious: profile 2 has 0.5 members by posterior mass, fewer than "
        "the 4 its covariance needs; profile 3's variance of 'a' is at the floor (1.0e-07 of the overall "
        "variance). Do not interpret this model: fit fewer profiles or a more constrained parameterisation."
    )
    assert analysis_text(guard, dutch) == (
        "Elke oplossing die de starts vonden is onecht: profiel 2 heeft 0.5 leden naar posterior massa, minder "
        "dan de 4 die de covariantie ervan nodig heeft; de variantie van 'a' in profiel 3 zit op de ondergrens "
        "(1.0e-07 van de totale variantie). Interpreteer dit model niet: schat minder profielen of een meer "
        "beperkte parametrisering."
    )


def test_an_analysis_runs_status_in_the_cli_is_in_the_environments_language(runner, session: Session) -> None:
    from studyapp.core.models import AnalysisRun

    study = make_study(session)
    cohort = make_cohort(session, study)
    run = AnalysisRun(study_id=study.id, cohort_id=cohort.id, status="queued", parameters={})  # type: ignore[arg-type]
    session.add(run)
    session.commit()
    shown = runner.invoke(args=["analyze", "show", str(run.id)], env=DUTCH_ENV)
    assert f"Analyse {run.id} heeft de status in de wachtrij." in shown.output and "queued" not in shown.output
    listed = runner.invoke(args=["analyze", "list", "--study", study.slug], env=DUTCH_ENV)
    assert "in de wachtrij" in listed.output and "queued" not in listed.output
