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
    privacy_for_tests,
)
from waves.dispatcher import DispatchConfig, dispatch
from waves.transport import SmtpTransport

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
    run.status = "running"
    session.add(run)
    session.commit()
    assert execute(engine, run.id).status == "done"
    return {"study": study, "cohort": cohort, "waves": waves, "people": people}


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
    make_user(session, email="hr@acme.example", role="company_contact", organisation_id=acme.id)
    make_briefings(client, setting)
    notices = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "notification")).all()
    assert len(notices) == 1  # one per contact and version, in the contact's language (was one per briefing)
    transport = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    try:
        dispatch(
            engine=engine,
            privacy=privacy_for_tests(),
            transport=transport,
            config=DispatchConfig(base_url="https://study.example.org", sender="Bridge the Gap <btg@example.org>"),
            worker="t",
            now=datetime.now(UTC) + timedelta(seconds=1),
        )
    finally:
        transport.close()
    received = [message for _, message in smtp_server.handler_obj.messages]
    assert len(received) == 1 and {m["To"] for m in received} == {"Hr <hr@acme.example>"}
    assert received[0]["Subject"].startswith("Nieuwe briefing")  # the contact's language (Dutch, the default)
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
