"""Analyses of stored cohorts: loading scores, the CLI, the scheduler job and the admin pages."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session, select

from analysis.synthetic import simulate_cohort
from studyapp.analyses.data import cohort_data
from studyapp.analyses.result import load_result
from studyapp.core.models import AnalysisRun, AuditEvent, Cohort
from studyapp.scheduler import run_analyses
from studyapp.synthetic_cohort import store_synthetic_cohort
from tests.factories import (
    enrol,
    invite_with_token,
    load_carriere_kompas,
    login,
    make_cohort,
    make_instrument,
    make_study,
    make_user,
    make_wave,
    submit_response,
)


@pytest.fixture
def simulated(session: Session) -> dict:
    """300 simulated alumni over three waves, stored through the real tables."""
    instrument = load_carriere_kompas(session)
    study = make_study(session)
    cohort = make_cohort(session, study, "Alumni")
    waves = [make_wave(session, cohort, instrument, label=f"T{n}") for n in (1, 2, 3)]
    stored = store_synthetic_cohort(session=session, cohort=cohort, waves=waves, n=300, separation=1.0, random_state=7)
    session.commit()
    return {"study": study, "cohort": cohort, "waves": waves, "stored": stored}


def test_cohort_data_scores_submitted_answers_only(session: Session) -> None:
    instrument = make_instrument(session)
    study = make_study(session)
    cohort = make_cohort(session, study)
    wave = make_wave(session, cohort, instrument)
    done = enrol(session, cohort, "a@example.org")
    submit_response(session, invite_with_token(session, done, wave)[0], {"cc_1": 3, "cc_2": 1})
    busy = enrol(session, cohort, "b@example.org")
    invitation, _ = invite_with_token(session, busy, wave)
    response = submit_response(session, invitation, {"cc_1": 1, "cc_2": 3})
    response.submitted_at = None  # still filling in: not part of any analysis
    session.add(response)
    session.commit()
    data = cohort_data(session=session, cohort=cohort)
    assert data.scores["pseudonym"].tolist() == [done.pseudonym]
    assert data.scores["clarity"].tolist() == [3.0]  # mean of 3 and the reversed 1 (3 + 1 - 1 = 3)


def test_stored_simulation_matches_what_was_simulated(session: Session, simulated: dict) -> None:
    truth = simulate_cohort(300, 3, separation=1.0, random_state=7, attrition=0.15)
    data = cohort_data(session=session, cohort=simulated["cohort"])
    per_wave = data.scores.groupby("wave", observed=True).size().tolist()
    assert per_wave == truth.answers.groupby("wave")["pseudonym"].nunique().tolist()
    assert simulated["stored"] == sum(per_wave)


def test_cli_fits_and_names_the_planted_profiles(runner, session: Session, simulated: dict) -> None:
    result = runner.invoke(
        args=["analyze", "run", "--study", "bridge-the-gap", "--cohort", "Alumni", "--profiles", "4-7",
              "--models", "EEI", "--starts", "10", "--bootstrap", "10"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Recommended: 6 profiles (EEI)" in result.output
    run = session.exec(select(AnalysisRun)).one()
    assert run.status == "done" and run.requested_by == "command line"
    transitions = load_result(run).transitions
    assert transitions is not None
    assert sorted(transitions.names) == sorted(
        ["Nerd", "Einzelgänger", "Traditionalist", "Innovator", "All-rounder", "Status Seeker"]
    )
    # the planted transition matrix, in the estimated profiles' order
    truth = simulate_cohort(300, 3, separation=1.0, random_state=7, attrition=0.15).truth["transition"]
    names = transitions.names
    planted = truth.loc[names, names].to_numpy()
    estimated = np.array(transitions.model[0])
    assert np.abs(estimated - planted).mean() < 0.05
    assert transitions.ci_low is not None and transitions.ci_high is not None
    low, high = np.array(transitions.ci_low[0], dtype=float), np.array(transitions.ci_high[0], dtype=float)
    assert (low <= high).all() and (high - low).mean() > 0.01
    # percentile intervals need not hold the estimate (a rate at 0 resampled is often above it); most do
    assert ((low - 1e-9 <= estimated) & (estimated <= high + 1e-9)).mean() >= 0.8
    shown = runner.invoke(args=["analyze", "show", str(run.id)])
    assert "Transitions T1 → T2" in shown.output and "Measurement invariance" in shown.output


def test_admin_queues_the_scheduler_runs_and_the_page_shows_charts(client, session, simulated, engine) -> None:
    make_user(session)
    login(client)
    cohort_id = simulated["cohort"].id
    form = {"cohort_id": cohort_id, "k_min": 5, "k_max": 6, "parameterisations": ["EEI"], "n_starts": 8,
            "blrt_draws": 0, "transition_bootstrap": 0}  # fmt: skip
    queued = client.post(f"/studies/{simulated['study'].id}/analysis", data=form)
    assert queued.status_code == 302
    waiting = client.get(queued.headers["Location"]).get_data(as_text=True)
    assert "is queued" in waiting and 'http-equiv="refresh"' in waiting
    assert run_analyses(engine) == 1
    page = client.get(queued.headers["Location"]).get_data(as_text=True)
    assert "Recommended: 6 profiles (EEI)" in page and "Cronbach" in page
    assert page.count("<svg") == 3  # fit indices, profile plot, transitions
    assert 'style="' not in page
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "analysis.queued")).one()


def test_form_refuses_impossible_settings(client, session, simulated) -> None:
    make_user(session)
    login(client)
    form = {"cohort_id": simulated["cohort"].id, "k_min": 5, "k_max": 3, "parameterisations": [], "n_starts": 0,
            "blrt_draws": 0, "transition_bootstrap": 0}  # fmt: skip
    page = client.post(f"/studies/{simulated['study'].id}/analysis", data=form).get_data(as_text=True)
    assert "Choose at least one model." in page and "Number must be between 1 and 500." in page
    assert session.exec(select(AnalysisRun)).all() == []


def test_too_few_responses_is_refused_when_queued_with_the_numbers(session, engine, runner) -> None:
    instrument = load_carriere_kompas(session)
    study = make_study(session)
    small = make_cohort(session, study, "Small")
    wave = make_wave(session, small, instrument)
    for n in range(3):
        participant = enrol(session, small, f"small{n}@example.org")
        invitation, _ = invite_with_token(session, participant, wave)
        submit_response(session, invitation, {})
    empty = Cohort(study_id=study.id, name="No waves")
    session.add(empty)
    session.commit()
    refused = runner.invoke(args=["analyze", "run", "--study", "bridge-the-gap", "--cohort", "Small"])
    assert refused.exit_code != 0
    assert "Small has 3 submitted responses; this analysis (up to 7 profiles, EEI, VVI) needs at least 30" in (
        refused.output
    )
    # a full covariance per profile needs indicators + 1 responses in each of the largest K's profiles
    vvv = runner.invoke(
        args=[
            "analyze",
            "run",
            "--study",
            "bridge-the-gap",
            "--cohort",
            "Small",
            "--profiles",
            "2-7",
            "--models",
            "VVV",
        ]
    )
    assert vvv.exit_code != 0 and "needs at least 217" in vvv.output  # 7 x (30 facets + 1)
    no_waves = runner.invoke(args=["analyze", "run", "--study", "bridge-the-gap", "--cohort", "No waves"])
    assert no_waves.exit_code != 0 and "has no waves" in no_waves.output
    assert session.exec(select(AnalysisRun)).all() == []


def test_form_refuses_a_cohort_without_enough_responses(client, session) -> None:
    instrument = load_carriere_kompas(session)
    study = make_study(session)
    cohort = make_cohort(session, study, "Nobody yet")
    make_wave(session, cohort, instrument)
    make_user(session)
    login(client)
    form = {"cohort_id": cohort.id, "k_min": 1, "k_max": 4, "parameterisations": ["EEI"], "n_starts": 8,
            "blrt_draws": 0, "transition_bootstrap": 0}  # fmt: skip
    page = client.post(f"/studies/{study.id}/analysis", data=form)
    assert page.status_code == 200
    assert "Nobody yet has 0 submitted responses; this analysis (up to 4 profiles, EEI) needs at least 30." in (
        page.get_data(as_text=True)
    )
    assert session.exec(select(AnalysisRun)).all() == []


def test_wave_report_holds_response_regressions_and_transitions(client, session, simulated, runner) -> None:
    import subprocess

    from tests.conftest import artifact_dir

    result = runner.invoke(
        args=["analyze", "run", "--study", "bridge-the-gap", "--cohort", "Alumni", "--profiles", "6-6",
              "--models", "EEI", "--starts", "5", "--bootstrap", "10"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    run = session.exec(select(AnalysisRun)).one()
    make_user(session)
    login(client)
    page = client.get(f"/studies/{simulated['study'].id}/analysis/{run.id}").get_data(as_text=True)
    assert "Response and attrition" in page and "retained" in page
    # outcomes by profile corrected for classification error replace the naive regressions on the page
    assert "Outcomes by profile" in page and "BCH-corrected" in page and "ML-corrected" in page
    assert "Identification with the profession" in page and "Intention to leave the technical sector" in page
    assert "Identification with the profession by profile" not in page and "Appendix" not in page
    result = load_result(run)
    distal = result.distal
    assert distal is not None and distal.primary == "BCH" and result.transitions is not None
    names = result.transitions.names
    by_code = {o.code: o for o in distal.outcomes}
    assert list(by_code) == ["identification", "intends_to_leave", "left_sector"]
    identification = by_code["identification"]
    assert identification.error is None and identification.kind == "continuous"
    assert identification.profile_wave == identification.outcome_wave == "T3"
    assert set(identification.fits) == {"naive", "BCH", "ML"}
    for fit in identification.fits.values():
        assert [e.profile for e in fit.estimates] == names and fit.wald_df == len(names) - 1
        assert all(e.ci_low is not None and e.ci_low < e.estimate < e.ci_high for e in fit.estimates)  # type: ignore[operator]
    assert sum(e.n_modal or 0 for e in identification.fits["BCH"].estimates) == identification.n
    leave = by_code["intends_to_leave"]
    assert leave.kind == "binary" and leave.fits["BCH"].odds_ratios and leave.fits["BCH"].odds_ratios[0].reference
    left = by_code["left_sector"]
    assert (left.profile_wave, left.outcome_wave) == ("T2", "T3")
    # 30 well-separated indicators classify almost without error, so the corrections change little here
    # (tests/test_distal.py shows what they do at the study's entropy)
    assert identification.entropy is not None and identification.entropy > 0.95
    naive = [e.estimate for e in identification.fits["naive"].estimates]
    for method in ("BCH", "ML"):
        corrected = [e.estimate for e in identification.fits[method].estimates]
        assert np.allclose(corrected, naive, atol=0.05)
    pdf = client.get(f"/studies/{simulated['study'].id}/analysis/{run.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    path = artifact_dir("pdf") / "wave-report.pdf"
    path.write_bytes(pdf.data)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(path), str(path.with_suffix(""))], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for heading in ("Response and attrition", "Number of profiles", "Profiles", "Transitions", "Outcomes by profile",
                    "BCH-corrected", "Reliability", "Appendix: regressions on the most likely profile"):  # fmt: skip
        assert heading in text
    # the naive regressions are in the appendix, after everything else
    assert text.index("Appendix: regressions") > text.index("Reliability")
    truth = simulate_cohort(300, 3, separation=1.0, random_state=7, attrition=0.15)
    completed = truth.answers.groupby("wave")["pseudonym"].nunique().tolist()
    retained = len(
        set(truth.answers.loc[truth.answers.wave == 1, "pseudonym"])
        & set(truth.answers.loc[truth.answers.wave == 2, "pseudonym"])
    )
    fieldwork = load_result(run).fieldwork
    assert [row.completed for row in fieldwork] == completed and fieldwork[1].retained == retained
    # attrition (issue 19): a retention model per wave pair on the profile and earlier answers, weights
    # with mean 1 among those still answering, the profile shares with and without them
    attrition = load_result(run).attrition
    assert attrition is not None and attrition.predictors[0] == "profile"
    first = attrition.retention[0]
    assert [(t.wave, t.next_wave) for t in attrition.retention] == [("T1", "T2"), ("T2", "T3")]
    assert (first.n, first.n_retained) == (completed[0], retained)
    weights = pd.DataFrame(attrition.weights, columns=["pseudonym", "wave", "weight"])
    assert set(weights["wave"]) == {"T1", "T2", "T3"}
    assert np.allclose(weights.groupby("wave")["weight"].mean(), 1.0)
    assert {row.profile for row in attrition.shares} == set(names)
    for wave in ("T1", "T2", "T3"):
        assert math.isclose(sum(row.weighted_share for row in attrition.shares if row.wave == wave), 1.0)
    assert "Attrition: who kept answering" in page
    assert f"From T1 to T2: {retained} of {completed[0]} answered again" in page
    assert "Attrition: who kept answering" in text and "unweighted and weighted" in text
    # the transition model weighted for dropout (issue 19): refitted on those who answered every wave with
    # their attrition weight at the last wave, beside the same people unweighted, with bootstrap intervals
    assert result.transitions is not None
    weighted = result.transitions.weighted
    answered_all = truth.answers.groupby("pseudonym")["wave"].nunique()
    assert weighted is not None and weighted.n == int((answered_all == 3).sum())
    assert 0.8 * weighted.n < weighted.n_effective <= weighted.n
    assert weighted.bootstrap_draws == 10 and weighted.ci_low is not None and weighted.ci_high is not None
    for t in range(2):
        for matrix in (weighted.model[t], weighted.unweighted[t]):
            assert np.allclose(np.sum(matrix, axis=1), 1.0)
        # the profiles are in the main model's order: the weighted matrix is near the main one here, where
        # dropout is not informative
        assert np.abs(np.asarray(weighted.model[t]) - np.asarray(result.transitions.model[t])).max() < 0.15
        low, high = np.asarray(weighted.ci_low[t], dtype=float), np.asarray(weighted.ci_high[t], dtype=float)
        assert np.all(low <= np.asarray(weighted.model[t]) + 1e-9) and np.all(
            np.asarray(weighted.model[t]) <= high + 1e-9
        )
    assert "Transitions weighted for dropout" in page and "unweighted" in page
    # the retention models' terms by what they are (they showed codes: profile[Nerd], work_status[2.0])
    assert "profile[" not in page and "work_status[" not in page and "work_future_sector[" not in page
    assert "main occupation: " in page and "profile: " in page and "Odds ratios against: profile: " in page
    # a Dutch researcher reads the options, the facets and the scales in Dutch
    make_user(session, email="nl@example.org", language="nl")
    client.post("/logout")
    login(client, "nl@example.org")
    dutch = client.get(f"/studies/{simulated['study'].id}/analysis/{run.id}").get_data(as_text=True)
    assert "hoofdbezigheid: " in dutch and "profiel: " in dutch and "Ik werk in loondienst" in dutch
    assert "Beeldschermen en techniek" in dutch and "Screens and technology" not in dutch
    assert "Verbondenheid met het beroep" in dutch and "career_clarity" not in dutch


def test_the_job_records_each_stage_and_the_page_shows_it_with_the_elapsed_time(
    client, session, simulated, engine, monkeypatch
) -> None:
    from datetime import timedelta

    from studyapp.analyses import runs
    from studyapp.core.types import utcnow

    make_user(session)
    login(client)
    form = {"cohort_id": simulated["cohort"].id, "k_min": 2, "k_max": 3, "parameterisations": ["EEI"], "n_starts": 4,
            "blrt_draws": 0, "transition_bootstrap": 0}  # fmt: skip
    queued = client.post(f"/studies/{simulated['study'].id}/analysis", data=form)
    run = session.exec(select(AnalysisRun)).one()
    seen: list[tuple[str, str]] = []
    set_stage = runs.set_stage

    def record(engine_, run_id, stage):
        set_stage(engine_, run_id, stage)
        with Session(engine) as other:  # committed at once: another connection sees it
            seen.append((stage, other.get_one(AnalysisRun, run_id).stage))

    monkeypatch.setattr(runs, "set_stage", record)
    assert run_analyses(engine) == 1
    stages = [stage for stage, _ in seen]
    assert stages[0] == "loading responses" and stages[-1] == "writing the result"
    assert {"fitting K=2 (EEI)", "fitting K=3 (EEI)", "transition model"} <= set(stages)
    assert all(stage == stored for stage, stored in seen)
    session.refresh(run)
    assert run.status == "done" and run.stage == ""
    # while it runs, the page says what it is doing and for how long
    run.status, run.stage, run.started_at = "running", "fitting K=3 (EEI)", utcnow() - timedelta(minutes=3, seconds=12)
    session.add(run)
    session.commit()
    page = client.get(queued.headers["Location"]).get_data(as_text=True)
    assert "fitting K=3 (EEI)" in page and "3 min 12 s" in page


def test_enough_submitted_but_too_few_usable_responses_is_refused_when_queued(session, runner) -> None:
    """Submitted responses without answers to the profile indicators cannot be fitted: the check counts usable ones."""
    instrument = load_carriere_kompas(session)
    study = make_study(session)
    blank = make_cohort(session, study, "Blank")
    wave = make_wave(session, blank, instrument)
    for n in range(30):
        participant = enrol(session, blank, f"blank{n}@example.org")
        invitation, _ = invite_with_token(session, participant, wave)
        submit_response(session, invitation, {})
    session.commit()
    command = [
        "analyze",
        "run",
        "--study",
        "bridge-the-gap",
        "--cohort",
        "Blank",
        "--profiles",
        "1-4",
        "--models",
        "EEI",
    ]
    refused = runner.invoke(args=command)
    assert refused.exit_code != 0
    output = " ".join(refused.output.split())
    assert "Blank has 0 usable responses (submitted, with answers to at least half of the profile indicators)" in output
    assert "of 30 submitted" in output
    assert "needs at least 30" in refused.output
    assert session.exec(select(AnalysisRun)).all() == []


def test_a_cohort_with_ten_times_the_responses_needed_is_queued_without_scoring_it(session, monkeypatch) -> None:
    """Scoring a national panel's cohort (100,000 responses) on every queue and scheduler tick costs seconds."""
    from studyapp.analyses import readiness
    from studyapp.analyses.compute import AnalysisParameters

    instrument = load_carriere_kompas(session)
    cohort = make_cohort(session, make_study(session), "Panel")
    make_wave(session, cohort, instrument)
    session.commit()
    parameters = AnalysisParameters(k_min=1, k_max=4, parameterisations=("EEI",))
    needed = readiness.responses_needed(parameters, readiness.profile_indicators(session=session, cohort=cohort))

    def scored(**_kwargs):
        raise AssertionError("the whole cohort was scored")

    monkeypatch.setattr(readiness, "usable_responses", scored)
    monkeypatch.setattr(readiness, "submitted_responses", lambda **_kwargs: 10 * needed)
    assert readiness.shortfall(session=session, cohort=cohort, parameters=parameters) is None
    monkeypatch.setattr(readiness, "submitted_responses", lambda **_kwargs: 10 * needed - 1)
    with pytest.raises(AssertionError, match="scored"):
        readiness.shortfall(session=session, cohort=cohort, parameters=parameters)


def test_exports_carry_the_attrition_weights_of_the_latest_analysis(runner, session, simulated, tmp_path) -> None:
    """Issue 19: the weights the analysis computed go into every export, with a codebook entry."""
    import json

    import pyreadstat

    args = ["analyze", "run", "--study", "bridge-the-gap", "--cohort", "Alumni", "--profiles", "6-6",
            "--models", "EEI", "--starts", "3", "--bootstrap", "0"]  # fmt: skip
    assert runner.invoke(args=args).exit_code == 0
    run = session.exec(select(AnalysisRun)).one()
    attrition = load_result(run).attrition
    assert attrition is not None
    stored = {(p, w): weight for p, w, weight in attrition.weights}
    exported = runner.invoke(args=["export", "--study", "bridge-the-gap", "--out", str(tmp_path)])
    assert exported.exit_code == 0, exported.output
    wide = pd.read_csv(tmp_path / "bridge-the-gap_wide.csv")
    weights = {(p, w): x for p, w, x in zip(wide["pseudonym"], wide["wave"], wide["attrition_weight"], strict=True)}
    assert {k: v for k, v in weights.items() if not math.isnan(v)} == pytest.approx(stored)
    assert all(math.isnan(v) for k, v in weights.items() if k not in stored), "a wave missed before: empty"
    sav, meta = pyreadstat.read_sav(str(tmp_path / "bridge-the-gap.sav"))
    assert np.allclose(sav["attrition_weight"].to_numpy(), wide["attrition_weight"].to_numpy(), equal_nan=True)
    assert meta.variable_measure["attrition_weight"] == "scale"
    codebook = json.loads((tmp_path / "bridge-the-gap_codebook.json").read_text())
    entry = next(v for v in codebook["variables"] if v["name"] == "attrition_weight")
    assert "Attrition weight" in entry["label"] and f"analysis {run.id}" in json.dumps(codebook)
