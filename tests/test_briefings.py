"""Company briefings end to end: coding names, generating PDFs with suppression, the portal, the notice."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import insert
from sqlmodel import Session, select

from analysis.suppression import recoverable_cells
from studyapp.analyses.runs import execute, queue_analysis
from studyapp.briefings.content import figures, wave_people
from studyapp.core.models import (
    AnalysisRun,
    Answer,
    AuditEvent,
    Briefing,
    Invitation,
    Item,
    Organisation,
    OutboxMessage,
    Participant,
    Response,
)
from studyapp.synthetic_cohort import store_synthetic_cohort
from tests.conftest import artifact_dir
from tests.factories import (
    load_carriere_kompas,
    login,
    make_cohort,
    make_study,
    make_user,
    make_wave,
)
from tests.fieldwork_helpers import send_outbox

#: Who typed which employer: 60 at Acme (three spellings), 6 at Tiny Tech (below the threshold).
EMPLOYERS = [("Acme Engineering B.V.", 30), ("acme engineering", 20), ("ACME Engineering", 10), ("Tiny Tech", 6)]


@pytest.fixture
def setting(session: Session, engine) -> dict:
    """250 simulated alumni over two waves, employers typed, analysed."""
    instrument = load_carriere_kompas(session)
    study = make_study(session)
    cohort = make_cohort(session, study, "Alumni")
    waves = [make_wave(session, cohort, instrument, label=label) for label in ("T1", "T2")]
    store_synthetic_cohort(session=session, cohort=cohort, waves=waves, n=250, separation=1.0, random_state=3)
    item = session.exec(select(Item).where(Item.code == "work_organisation")).one()
    people = session.exec(select(Participant).where(Participant.cohort_id == cohort.id).order_by(Participant.id)).all()
    typed = [name for name, count in EMPLOYERS for _ in range(count)]
    rows = []
    for participant, name in zip(people, typed, strict=False):
        for response in session.exec(
            select(Response)
            .join(Invitation, Invitation.id == Response.invitation_id)
            .where(Invitation.participant_id == participant.id)
        ):
            rows.append({"response_id": response.id, "item_id": item.id, "value_text": name, "value_number": None})
    session.execute(insert(Answer), rows)
    session.commit()
    run = queue_analysis(
        session=session,
        study=study,
        cohort=cohort,
        parameters={"k_min": 6, "k_max": 6, "parameterisations": ["EEI"], "n_starts": 5, "transition_bootstrap": 0},
        requested_by="test",
    )
    session.commit()
    _finish(session, engine, run)
    return {"study": study, "cohort": cohort, "waves": waves, "people": people}


#: The fitted result of the setting's analysis per database backend: the data are the same in every test
#: (seeded), so the fit (tested in tests/test_analyses.py) is done once per backend and stored as its run's
#: result in the other tests' databases.
_FITTED: dict[str, dict] = {}


def _finish(session: Session, engine, run: AnalysisRun) -> None:
    backend = engine.dialect.name
    if backend not in _FITTED:
        run.status = "running"
        session.add(run)
        session.commit()
        finished = execute(engine, run.id)
        assert finished.status == "done"
        _FITTED[backend] = finished.result
        session.refresh(run)
        return
    run.status, run.result, run.finished_at = "done", _FITTED[backend], datetime.now(UTC)
    session.add(run)
    session.commit()


def make_briefings(client, setting: dict, **form: str) -> None:
    """Ask for the second wave's briefings on the page, and let the scheduler's pass make them."""
    from studyapp.database import engine_of
    from studyapp.scheduler import run_analyses
    from studyapp.settings import load_settings

    made = client.post(
        f"/studies/{setting['study'].id}/briefings/generate", data={"wave_id": setting["waves"][1].id, **form}
    )
    assert made.status_code == 302
    run_analyses(engine_of(client.application), load_settings({}, scheduler_enabled=False))


def pdf_text(data: bytes, name: str) -> str:
    path = artifact_dir("pdf") / f"{name}.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(path), str(path.with_suffix(""))], check=True)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def code_all(client, study_id: int) -> None:
    page = client.get(f"/studies/{study_id}/briefings").get_data(as_text=True)
    assert "Acme Engineering B.V." in page and "Tiny Tech" in page
    client.post(f"/studies/{study_id}/briefings/code", data={"key": "acme engineering", "new_name": "Acme Engineering"})
    client.post(f"/studies/{study_id}/briefings/code", data={"key": "tiny tech", "new_name": "Tiny Tech"})


def test_names_are_grouped_suggested_and_coded(client, session, setting) -> None:
    make_user(session)
    login(client)
    study_id = setting["study"].id
    page = client.get(f"/studies/{study_id}/briefings").get_data(as_text=True)
    assert page.count('name="key" value="acme engineering"') == 1  # three spellings, one name
    code_all(client, study_id)
    acme = session.exec(select(Organisation).where(Organisation.name == "Acme Engineering")).one()
    coded = session.exec(select(Participant).where(Participant.organisation_id == acme.id)).all()
    assert len(coded) == 60
    session.add(Organisation(name="Acme Engineering Group"))
    session.commit()
    page = client.get(f"/studies/{study_id}/briefings").get_data(as_text=True)
    assert (
        "Suggested" in page and session.exec(select(AuditEvent).where(AuditEvent.action == "organisation.coded")).all()
    )


def test_briefings_suppress_small_groups_and_carry_no_identities(client, session, setting, database) -> None:
    make_user(session)
    login(client)
    study_id = setting["study"].id
    code_all(client, study_id)
    make_briefings(client, setting)
    briefings = session.exec(select(Briefing)).all()
    assert len(briefings) == 6  # sample, Acme, Tiny Tech x nl, en
    acme = session.exec(select(Organisation).where(Organisation.name == "Acme Engineering")).one()
    tiny = session.exec(select(Organisation).where(Organisation.name == "Tiny Tech")).one()
    texts = {}
    for briefing in briefings:
        name = {None: "sample", acme.id: "acme", tiny.id: "tiny"}[briefing.organisation_id]
        texts[(name, briefing.language)] = pdf_text(
            briefing.pdf, f"briefing-{name}-{briefing.language}-{database.backend}"
        )
    acme_en = texts[("acme", "en")]
    assert "Acme Engineering" in acme_en and "Contents" in acme_en and "What the profiles mean" in acme_en
    assert "Movement since wave T1" in acme_en and "Method" in acme_en
    assert "What Mind the Gap! found" in acme_en and "Wat Mind the Gap! vond" in texts[("acme", "nl")]
    tiny_en = texts[("tiny", "en")]
    assert "Fewer than 10 people of Tiny Tech took part" in tiny_en
    assert "Minder dan 10 medewerkers van Tiny Tech" in texts[("tiny", "nl")]
    # nothing that identifies a person, in any briefing
    forbidden = {p.pseudonym for p in setting["people"]}
    for text in texts.values():
        assert not any(pseudonym in text for pseudonym in forbidden)
        assert "@" not in text
    # every figure shown rests on at least 10 people and no hidden one can be worked out
    data = wave_people(session=session, wave=setting["waves"][1])
    shown = figures(data, acme, min_cell=10)
    for table in (shown.profile_counts, shown.job_profile, shown.movement, shown.future):
        values = table.shown().to_numpy(dtype=float, na_value=np.nan)
        assert not ((values > 0) & (values < 10)).any()
        assert recoverable_cells(table) == []
    assert shown.job_profile is not None and shown.job_profile.mask.to_numpy().any()  # crafted small groups


def test_the_same_cells_stay_hidden_in_consecutive_briefings(session, setting) -> None:
    from studyapp.briefings.coding import code_name

    code_name(session=session, study=setting["study"], key="acme engineering", new_name="Acme Engineering")
    acme = session.exec(select(Organisation).where(Organisation.name == "Acme Engineering")).one()
    second = figures(wave_people(session=session, wave=setting["waves"][1]), acme, min_cell=10).job_profile
    first = figures(wave_people(session=session, wave=setting["waves"][0]), acme, min_cell=10).job_profile
    # whatever the first wave's briefing hid is hidden in the second one too
    assert (second.mask | ~first.mask).to_numpy().all()


def test_a_run_stored_before_results_had_versions_still_makes_the_same_briefings(session, setting) -> None:
    import pandas as pd

    from studyapp.analyses.result import SCHEMA_VERSION
    from studyapp.core.models import AnalysisRun

    wave = setting["waves"][1]
    current = wave_people(session=session, wave=wave)
    run = session.exec(select(AnalysisRun)).one()
    assert run.result["schema_version"] == SCHEMA_VERSION
    run.result = {key: value for key, value in run.result.items() if key != "schema_version"}  # as stored before
    session.add(run)
    session.commit()
    session.expire_all()
    assert "schema_version" not in session.get(AnalysisRun, run.id).result  # type: ignore[union-attr]
    migrated = wave_people(session=session, wave=wave)
    assert migrated.analysis_id == run.id and migrated.profiles == current.profiles
    pd.testing.assert_frame_equal(migrated.people, current.people)


def test_company_contacts_see_only_their_own_briefings_and_get_a_notice(
    client, session, setting, engine, smtp_server
) -> None:
    make_user(session)
    login(client)
    study_id = setting["study"].id
    code_all(client, study_id)
    acme = session.exec(select(Organisation).where(Organisation.name == "Acme Engineering")).one()
    tiny = session.exec(select(Organisation).where(Organisation.name == "Tiny Tech")).one()
    make_user(session, email="hr@acme.example", role="company_contact", organisation_id=acme.id, language="nl")
    make_briefings(client, setting)
    notices = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "notification")).all()
    assert len(notices) == 1  # one per contact and version, in the contact's language (was one per briefing)
    received = send_outbox(engine, smtp_server)
    assert len(received) == 1 and {m["To"] for m in received} == {"Hr <hr@acme.example>"}
    assert received[0]["Subject"].startswith("Nieuwe briefing")  # the contact's language (Dutch)
    assert "https://study.example.org/company" in received[0].get_body(("plain",)).get_content()

    company = client.application.test_client()
    login(company, "hr@acme.example")
    assert company.get("/").headers["Location"].endswith("/company")
    portal = company.get("/company").get_data(as_text=True)
    own = session.exec(select(Briefing).where(Briefing.organisation_id == acme.id)).all()
    other = session.exec(select(Briefing).where(Briefing.organisation_id == tiny.id)).first()
    sample = session.exec(select(Briefing).where(Briefing.organisation_id.is_(None))).first()  # type: ignore[union-attr]
    for briefing in own:
        assert f"/company/briefings/{briefing.id}.pdf" in portal
        assert company.get(f"/company/briefings/{briefing.id}.pdf").data.startswith(b"%PDF")
    for briefing in (other, sample):
        assert company.get(f"/company/briefings/{briefing.id}.pdf").status_code == 404
        assert company.get(f"/briefings/{briefing.id}.pdf").status_code == 403
    assert company.get(f"/studies/{study_id}").status_code == 403
    assert company.get(f"/studies/{study_id}/briefings").status_code == 403


def test_the_scheduler_analyses_and_briefs_a_wave_after_it_closes(session, setting, engine) -> None:
    from studyapp.briefings.coding import code_name
    from studyapp.core.models import AnalysisRun
    from studyapp.core.types import utcnow
    from studyapp.scheduler import run_analyses
    from studyapp.settings import load_settings

    code_name(session=session, study=setting["study"], key="acme engineering", new_name="Acme Engineering")
    for run in session.exec(select(AnalysisRun)).all():
        session.delete(run)  # no analysis yet: the scheduler must ask for one itself
    wave = setting["waves"][1]
    wave.opens_at, wave.closes_at = utcnow() - timedelta(days=29), utcnow() - timedelta(days=1)
    session.add(wave)
    session.commit()
    settings = load_settings({}, scheduler_enabled=False)
    run_analyses(engine, settings)  # queues the cohort's analysis and runs it
    runs = session.exec(select(AnalysisRun)).all()
    assert [(r.status, r.requested_by) for r in runs] == [("done", "scheduler")]
    run_analyses(engine, settings)  # now the briefings
    made = session.exec(select(Briefing).where(Briefing.wave_id == wave.id)).all()
    assert len(made) == 4  # the sample and Acme, in Dutch and English
    run_analyses(engine, settings)
    assert len(session.exec(select(Briefing)).all()) == 4  # made once


def test_cli_makes_and_writes_the_briefings(runner, session, setting, tmp_path) -> None:
    out = tmp_path / "briefings"
    from studyapp.briefings.coding import code_name

    code_name(session=session, study=setting["study"], key="tiny tech", new_name="Tiny Tech")
    session.commit()
    result = runner.invoke(
        args=["briefings", "make", "--study", "bridge-the-gap", "--cohort", "Alumni", "--wave", "T2",
              "--out", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "sample-wide only): Tiny Tech" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "briefing-Tiny-Tech-T2-en.pdf",
        "briefing-Tiny-Tech-T2-nl.pdf",
        "briefing-sample-T2-en.pdf",
        "briefing-sample-T2-nl.pdf",
    ]


# --- small organisations and tables that say nothing (issue 16, findings 1 and 4) ----------------------------

#: The sections of a briefing with figures, by language, in the order they are printed.
SECTIONS = {
    "en": (
        "Profiles",
        "Profiles by job type",
        "Movement since wave T1",
        "Identification and career",
        "Intention to stay in the technical sector",
        "What the profiles mean, and what you can do",
    ),
    "nl": (
        "Profielen",
        "Profielen naar soort functie",
        "Verschuivingen sinds meting T1",
        "Verbondenheid en loopbaan",
        "Voornemen om in de technische sector te blijven",
        "Wat de profielen betekenen, en wat u kunt doen",
    ),
}
SAMPLE_ROW = {"en": "All participants", "nl": "Alle deelnemers"}
JOB_LABELS = {
    "en": {"technical": "Technical job", "non_technical": "Non-technical job", "other": "Other job"},
    "nl": {"technical": "Technische functie", "non_technical": "Niet-technische functie", "other": "Andere functie"},
}
SCALE_LABELS = {
    "en": ["Identification with the profession", "Career clarity", "Career commitment", "Career exploration"],
    "nl": ["Verbondenheid met het beroep", "Duidelijkheid over loopbaan", "Loopbaancommitment", "Loopbaanverkenning"],
}
TOO_SMALL = {"en": "Figures for {name} itself are not shown here", "nl": "Cijfers van {name} zelf staan hier niet"}
LEFT_OUT = {"en": "The table for {name} itself is left out", "nl": "De tabel van {name} zelf is weggelaten"}


def sections(text: str, language: str) -> dict[str, str]:
    """The text of each section with figures, found by its heading on a line of its own (not in the contents)."""
    import re

    headings = SECTIONS[language]
    starts = []
    for heading in headings:
        found = re.search(rf"^\s*{re.escape(heading)}\s*$", text, flags=re.MULTILINE)
        assert found is not None, f"no section {heading!r}"
        starts.append(found.end())
    return {heading: text[start:end] for heading, start, end in zip(headings, starts, starts[1:], strict=False)}


def figures_in(line: str) -> list[str]:
    """The figures on a line of a table: counts, means, percentages and the dash of a hidden figure."""
    return [token for token in line.split() if any(c.isdigit() for c in token) or token == "\u2013"]


def has_row(section: str, label: str, expected: list[str], *, ending: bool = False) -> bool:
    """A line of ``section`` starts with ``label`` (or its first words, when the label wraps) and carries
    exactly ``expected`` (with ``ending``: ends with it, after the organisation's own figures)."""
    for line in section.splitlines():
        words = []
        for token in line.split():
            if token in figures_in(token):
                break
            words.append(token)
        values = figures_in(line)
        if words and label.startswith(" ".join(words)) and (values[-len(expected) :] if ending else values) == expected:
            return True
    return False


def flat(text: str) -> str:
    return " ".join(text.split())


def count_cells(table, row) -> list[str]:
    import pandas as pd

    return ["\u2013" if pd.isna(v) else str(int(v)) for v in table.shown().loc[row]]


def assert_sample_figures(text: str, language: str, sample) -> None:
    """Every section shows the whole sample's chart values and table rows (numbers, not only labels)."""
    from studyapp.briefings.content import worth_printing
    from studyapp.formatting import decimal

    parts = sections(text, language)
    profiles, jobs, movement, identification, future = (parts[h] for h in SECTIONS[language][:5])
    counts = sample.profile_counts
    expected = [*count_cells(counts, "sample"), str(int(counts.counts.loc["sample"].sum()))]
    assert has_row(profiles, SAMPLE_ROW[language], expected), profiles
    for share in counts.percentages(axis=1).loc["sample"].dropna():
        assert f"{share:.0f}%" in profiles.split()  # the chart's bars carry their share
    if not worth_printing(sample.job_profile.shown()):  # the profiles by job type are nearly all hidden
        assert "This table is left out" in flat(jobs) or "Deze tabel is weggelaten" in flat(jobs)
        totals = [
            "\u2013" if hidden else str(int(n))
            for hidden, n in zip(
                sample.job_profile.row_totals_hidden, sample.job_profile.counts.sum(axis=1), strict=True
            )
        ]
        assert has_row(jobs, SAMPLE_ROW[language], totals), jobs  # the people per job type instead
    for job, label in JOB_LABELS[language].items() if worth_printing(sample.job_profile.shown()) else ():
        row = count_cells(sample.job_profile, job)
        total = (
            "\u2013"
            if sample.job_profile.row_totals_hidden[job]
            else str(int(sample.job_profile.counts.loc[job].sum()))
        )
        assert has_row(jobs, label, [*row, total]), jobs
    if not worth_printing(sample.movement.shown()):  # interval-safe suppression can leave it nearly all hidden
        assert "This table is left out" in flat(movement) or "Deze tabel is weggelaten" in flat(movement)
    for before in sample.profiles if worth_printing(sample.movement.shown()) else ():
        assert has_row(movement, before, count_cells(sample.movement, before)), movement
    for scale, label in zip(
        ("identification", "career_clarity", "career_commitment", "career_exploration"),
        SCALE_LABELS[language],
        strict=True,
    ):
        mean = decimal(float(sample.means.loc[scale, "sample"]), 1, language)
        by_job = [decimal(float(sample.job_means.loc[scale, job]), 1, language) for job in JOB_LABELS[language]]
        assert has_row(identification, label, [mean], ending=True), identification
        assert has_row(identification, label, by_job), identification
    shares = [f"{v:.0f}%" for v in sample.future.percentages(axis=1).loc["sample"]]
    assert has_row(future, SAMPLE_ROW[language], shares), future


def test_a_small_organisation_gets_a_complete_sample_wide_briefing(session, setting, database) -> None:
    from studyapp.briefings.coding import code_name
    from studyapp.briefings.service import generate_briefings

    tiny = code_name(session=session, study=setting["study"], key="tiny tech", new_name="Tiny Tech")
    wave = setting["waves"][1]
    report = generate_briefings(session=session, wave=wave, min_cell=10)
    assert report.below_threshold == ["Tiny Tech"]
    sample = figures(wave_people(session=session, wave=wave), None, min_cell=10)
    for language in ("en", "nl"):
        briefing = session.exec(
            select(Briefing).where(Briefing.organisation_id == tiny.id, Briefing.language == language)
        ).one()
        text = pdf_text(briefing.pdf, f"briefing-small-{language}-{database.backend}")
        assert_sample_figures(text, language, sample)
        for heading, section in sections(text, language).items():
            assert TOO_SMALL[language].format(name="Tiny Tech") in flat(section), heading
        # not even the number of its people: 6 is below the threshold
        assert "6 people" not in text and "6 medewerkers" not in text
        assert not any(line.split()[-1:] == ["6"] and "Tiny" in line for line in text.splitlines())


def test_a_table_with_nearly_every_cell_hidden_is_replaced_by_a_sentence(session, setting, database) -> None:
    from studyapp.briefings.content import worth_printing
    from studyapp.briefings.render import render_pdf

    wave = setting["waves"][1]
    middle = Organisation(name="Middle Works")
    session.add(middle)
    session.flush()
    for participant in setting["people"][100:114]:  # 14 people without a typed employer
        participant.organisation_id = middle.id
        session.add(participant)
    session.commit()
    data = wave_people(session=session, wave=wave)
    shown = figures(data, middle, min_cell=10)
    assert 10 <= shown.n_organisation < 18  # enough for its total, too few for any profile
    # the table of dashes: every count above zero hidden
    assert shown.movement is not None and not (shown.movement.shown().fillna(0) > 0).to_numpy().any()
    for language in ("en", "nl"):
        pdf, _ = render_pdf(shown, study=setting["study"], language=language, analysis_id=data.analysis_id)
        text = pdf_text(pdf, f"briefing-middle-{language}-{database.backend}")
        parts = sections(text, language)
        for heading in SECTIONS[language][:3]:  # profiles, job types, movement: every cell is under 10
            assert LEFT_OUT[language].format(name="Middle Works") in flat(parts[heading]), heading
        assert_sample_figures(text, language, figures(data, None, min_cell=10))
        # no table of dashes is printed for the organisation: one table per section, the whole sample's
        own_row = {"en": "Your organisation", "nl": "Uw organisatie"}[language]
        assert not any(
            line.strip().startswith(own_row) and set(figures_in(line)) == {"\u2013"} for line in text.splitlines()
        )
        for label in JOB_LABELS[language].values():
            assert (
                sum(line.strip().startswith(label) for line in parts[SECTIONS[language][1]].splitlines()) <= 1
            )  # the sample's at most
        sample_rows = 1 if worth_printing(figures(data, None, min_cell=10).movement.shown()) else 0
        for name in shown.profiles:
            assert (
                sum(line.strip().startswith(name) for line in parts[SECTIONS[language][2]].splitlines()) == sample_rows
            )  # the sample's only (when the sample's own table is worth printing)
        assert f"{shown.n_organisation} people of Middle Works" in text or "medewerkers van Middle Works" in text
        assert "fewer than a quarter of its cells" in flat(text) or "minder dan een kwart van de cellen" in flat(text)


def test_a_table_is_printed_only_when_it_says_something() -> None:
    import pandas as pd

    from studyapp.briefings.content import worth_printing

    assert worth_printing(pd.Series([12.0, 15.0, None, None, 0.0, 0.0]))
    assert not worth_printing(pd.Series([12.0, None, None, None, None, None]))  # one figure of six
    assert not worth_printing(pd.DataFrame([[0.0, None, None], [None, 0.0, 0.0]]))  # only zeros
    two_of_eighteen = pd.DataFrame([[19.0, 19.0, *[None] * 4], [None] * 6, [None] * 6], dtype=float)
    assert not worth_printing(two_of_eighteen)  # the job-type table: under a quarter
    assert worth_printing(pd.Series([4.5, 4.8, 4.1, 4.0]))


def test_an_organisation_with_every_table_suppressed_is_told_so_in_both_languages(tmp_path) -> None:
    """Twelve people with scores nobody answered, spread over six profiles: no table of its own is printed."""
    import pandas as pd

    from studyapp.briefings.content import SCALES, WavePeople
    from studyapp.briefings.render import render_pdf
    from studyapp.core.models import Study

    profiles = ["A", "B", "C", "D", "E", "F"]
    rows = []
    for i in range(240):
        organisation = 1 if i < 12 else None
        profile = profiles[i % 6]
        job = ("technical", "non_technical", "other")[i % 3]
        scores = {scale: np.nan if organisation else 4.0 + (i % 5) / 4 for scale in SCALES}
        rows.append({"organisation_id": organisation, "profile": profile, "profile_before": profile,
                     "job_type": job, "future": "inside" if i % 4 else "outside", **scores})  # fmt: skip
    people = pd.DataFrame(rows, index=[f"p{i}" for i in range(240)])
    data = WavePeople("T2", "T1", profiles, people, 1)
    shown = figures(data, Organisation(id=1, name="Spread Ltd"), min_cell=10)
    assert not shown.too_small and shown.nothing_own
    study = Study(name="Bridge the Gap", slug="bridge-the-gap")
    for language, sentence in (("en", "The 12 people of Spread Ltd are spread"), ("nl", "De 12 medewerkers van")):
        pdf, _ = render_pdf(shown, study=study, language=language, analysis_id=1)
        path = tmp_path / f"spread-{language}.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert sentence in flat(text)
        parts = sections(text, language)
        for heading in SECTIONS[language][:5]:
            assert LEFT_OUT[language].format(name="Spread Ltd") in flat(parts[heading]), heading


def test_the_sample_gets_profile_shares_weighted_for_dropout(client, session, setting, database) -> None:
    """From the second wave on, the whole sample's profile shares weighted by the analysis' attrition weights
    stand beside its counts (here planted: every Nerd counts three times), hidden where the count is."""
    run = session.exec(select(AnalysisRun)).one()
    first = wave_people(session=session, wave=setting["waves"][0])
    assert figures(first, None, min_cell=10).weighted_shares is None, "the first wave has lost nobody"
    data = wave_people(session=session, wave=setting["waves"][1])
    planted = [(p, "T2", 3.0 if profile == "Nerd" else 1.0) for p, profile in data.people["profile"].items()]
    result = dict(run.result)
    result["attrition"] = {**(result.get("attrition") or {}), "predictors": ["profile"], "numerator": "rate",
                           "trim": None, "weights": planted}  # fmt: skip
    run.result = result
    session.add(run)
    session.commit()
    data = wave_people(session=session, wave=setting["waves"][1])
    sample = figures(data, None, min_cell=10)
    counts = data.people["profile"].value_counts().reindex(data.profiles, fill_value=0)
    weighted = counts * np.where(counts.index == "Nerd", 3.0, 1.0)
    expected = weighted / weighted.sum()
    assert sample.profile_counts is not None and sample.weighted_shares is not None
    hidden = sample.profile_counts.mask.loc["sample"]
    for name, share in zip(data.profiles, sample.weighted_shares, strict=True):
        assert share is None if hidden[name] else share == pytest.approx(expected[name])
    assert counts["Nerd"] >= 10 and sample.weighted_shares[data.profiles.index("Nerd")] > counts["Nerd"] / counts.sum()
    # an organisation's briefing carries the sample's weighted shares too, in words beside the chart
    make_user(session)
    login(client)
    code_all(client, setting["study"].id)
    make_briefings(client, setting)
    briefing = session.exec(select(Briefing).where(Briefing.organisation_id.is_(None), Briefing.language == "en")).one()  # type: ignore[union-attr]
    text = " ".join(pdf_text(briefing.pdf, f"briefing-weighted-{database.backend}").split())
    nerd = f"Nerd {round(100 * expected['Nerd'])}%"
    assert "All participants, weighted for dropout" in text and "Weighted for dropout" in text and nerd in text
