"""The typed analysis result: stored as JSON with its schema version, read back equal, older runs migrated,
runs this version cannot read refused with a message (pages, PDF, CLI) and skipped by the briefings."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from studyapp.analyses.result import (
    SCHEMA_VERSION,
    AnalysisResult,
    UnreadableResult,
    load_result,
    parse_result,
    result_summary,
    to_stored,
)
from studyapp.briefings.auto import make_due_briefings
from studyapp.briefings.content import NoAnalysis, wave_people
from studyapp.core.models import AnalysisRun, Cohort, Study, Wave
from studyapp.core.types import utcnow
from tests.factories import (
    enrol,
    invite_with_token,
    login,
    make_cohort,
    make_instrument,
    make_study,
    make_user,
    make_wave,
    submit_response,
)

#: A result as the app stored it before results were typed (no ``schema_version``): made by
#: ``studyapp analyze run`` on the 300 simulated alumni of test_analyses.py (K 5-6, EEI, 5 starts, 5 bootstrap
#: draws), its profile assignments cut to 30 participants.
VERSION_1 = Path(__file__).parent / "data" / "analysis_result_v1.json"


def version_1() -> dict[str, Any]:
    return json.loads(VERSION_1.read_text(encoding="utf-8"))


def store_run(session: Session, result: dict[str, Any], *, label: str = "T1") -> tuple[Study, AnalysisRun]:
    """A study with one cohort and wave, and a finished analysis run holding ``result`` as stored JSON."""
    study = make_study(session)
    cohort = make_cohort(session, study)
    make_wave(session, cohort, make_instrument(session), label=label)
    run = AnalysisRun(study_id=study.id, cohort_id=cohort.id, status="done", parameters={}, result=result)  # type: ignore[arg-type]
    session.add(run)
    session.commit()
    return study, run


def holds(stored: Any, parsed: Any) -> bool:
    """``parsed`` (a current result as JSON) holds every value of ``stored``; what it adds is empty."""
    if isinstance(stored, dict) and isinstance(parsed, dict):
        added = set(parsed) - set(stored)
        return all(k in parsed and holds(v, parsed[k]) for k, v in stored.items()) and all(
            parsed[k] in (None, 0, [], {}, "", SCHEMA_VERSION) for k in added
        )
    if isinstance(stored, list) and isinstance(parsed, list):
        return len(stored) == len(parsed) and all(holds(a, b) for a, b in zip(stored, parsed, strict=True))
    return stored == parsed


def test_a_version_1_result_is_migrated_whole() -> None:
    stored = version_1()
    assert "schema_version" not in stored
    result = parse_result(stored)
    assert result.schema_version == SCHEMA_VERSION == 3
    assert result.recommended is not None and (result.recommended.k, result.recommended.parameterisation) == (6, "EEI")
    transitions = result.transitions
    assert transitions is not None and transitions.waves == ["T1", "T2", "T3"] and len(transitions.names) == 6
    assert transitions.ci_low is not None and transitions.bootstrap_draws == 5
    assert transitions.invariance is not None and transitions.invariance.df == 420
    assert result.regressions is not None and result.regressions.identification is not None
    assert result.distal is None  # the corrected outcomes need posteriors older runs did not keep
    assert holds(stored, to_stored(result))  # nothing dropped, nothing changed


def test_a_version_2_result_is_migrated_without_corrected_outcomes() -> None:
    stored = version_1() | {"schema_version": 2}
    result = parse_result(stored)
    assert result.schema_version == 3 and result.distal is None and result.regressions is not None
    assert holds(stored | {"schema_version": 3}, to_stored(result))


def test_a_version_1_result_with_too_few_responses_is_migrated() -> None:
    stored = {
        "waves": ["T1"], "indicators": ["a", "b", "c"], "indicator_names": {"a": "A", "b": "B", "c": "C"},
        "n_participants": 4, "n_observations": 4, "per_wave": {"T1": 4}, "reliability": [], "descriptives": [],
        "fieldwork": [{"wave": "T1", "invited": 9, "completed": 4, "rate": 0.444444, "retained": None,
                       "retention": None}],
        "message": "Too few submitted responses (at least 30 needed) for profile analyses.",
    }  # fmt: skip
    result = parse_result(stored)
    assert result.message and result.transitions is None and result.fit == [] and result.fieldwork[0].completed == 4
    assert holds(stored, to_stored(result))


def test_a_result_stored_and_loaded_is_equal(session: Session) -> None:
    result = parse_result(version_1())
    _, run = store_run(session, to_stored(result))
    session.expunge_all()
    stored = session.get(AnalysisRun, run.id)
    assert stored is not None and stored.result["schema_version"] == SCHEMA_VERSION
    assert load_result(stored) == result
    assert AnalysisResult.model_validate_json(result.model_dump_json()) == result


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda r: r | {"schema_version": 99}, "stored by a newer version"),
        (lambda r: r | {"schema_version": "two"}, "stored by an older version"),
        (lambda r: {k: v for k, v in r.items() if k != "per_wave"}, "stored by an older version"),
        (lambda r: r | {"transitions": {**r["transitions"], "names": None}}, "stored by an older version"),
        (lambda r: {}, "stored by an older version"),
    ],
    ids=["future version", "bad version", "missing field", "wrong type", "empty"],
)
def test_a_result_that_cannot_be_read_is_refused_with_a_message(change, says: str, caplog) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(UnreadableResult, match=says):
        parse_result(change(version_1()), source="analysis 7")
    assert "Cannot read analysis 7" in caplog.text


def test_pages_show_a_migrated_run_and_refuse_a_newer_one(client, session: Session, runner) -> None:
    make_user(session)
    login(client)
    study, old = store_run(session, version_1())
    page = client.get(f"/studies/{study.id}/analysis/{old.id}").get_data(as_text=True)
    assert "Recommended: 6 profiles (EEI)" in page and page.count("<svg") == 3 and "Cronbach" in page
    # an old run has only the naive regressions: they are shown (there is nothing corrected to show instead)
    assert "Identification with the profession by profile" in page and "Outcomes by profile" not in page
    future = version_1() | {"schema_version": 99}
    newer = AnalysisRun(study_id=study.id, cohort_id=old.cohort_id, status="done", parameters={}, result=future)
    session.add(newer)
    session.commit()
    response = client.get(f"/studies/{study.id}/analysis/{newer.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "stored by a newer version of the app" in page and "run it again" in page and "<svg" not in page
    assert "report.pdf" not in page
    pdf = client.get(f"/studies/{study.id}/analysis/{newer.id}/report.pdf")
    assert pdf.status_code == 302 and pdf.headers["Location"].endswith(f"/analysis/{newer.id}")
    listing = client.get(f"/studies/{study.id}/analysis").get_data(as_text=True)
    assert "6 profiles (EEI)" in listing and "stored by another version; run it again" in listing
    assert result_summary(newer) is None and result_summary(old).recommended.k == 6  # type: ignore[union-attr]
    shown = runner.invoke(args=["analyze", "show", str(newer.id)])
    assert shown.exit_code != 0 and "stored by a newer version" in shown.output
    shown = runner.invoke(args=["analyze", "show", str(old.id), "--json"])
    assert shown.exit_code == 0 and json.loads(shown.output)["schema_version"] == SCHEMA_VERSION


def test_briefings_skip_a_run_they_cannot_read_and_say_why(session: Session, engine, caplog) -> None:
    _, run = store_run(session, version_1() | {"schema_version": 99})
    cohort = session.get(Cohort, run.cohort_id)
    wave = session.exec(select(Wave).where(Wave.cohort_id == run.cohort_id)).one()
    with caplog.at_level(logging.WARNING), pytest.raises(NoAnalysis):
        wave_people(session=session, wave=wave)
    assert f"Briefings of wave T1 skip analysis {run.id}" in caplog.text and "newer version" in caplog.text

    # the scheduler: the closed wave gets no briefings from it, and its cohort is analysed again
    participant = enrol(session, cohort, "a@example.org")  # type: ignore[arg-type]
    submit_response(session, invite_with_token(session, participant, wave)[0], {"cc_1": 3, "cc_2": 1})
    wave.opens_at, wave.closes_at = utcnow() - timedelta(days=29), utcnow() - timedelta(days=1)
    session.add(wave)
    session.commit()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert make_due_briefings(engine, min_cell=5, now=utcnow()) == 0
    assert f"skip analysis {run.id}" in caplog.text
    # one response is too few for an analysis: nothing is queued, and the log says why
    assert "The briefings of wave T1 wait for an analysis: " in caplog.text and "needs at least 30" in caplog.text
    assert session.exec(select(AnalysisRun).where(AnalysisRun.status == "queued")).first() is None
    for n in range(29):
        person = enrol(session, cohort, f"p{n}@example.org")  # type: ignore[arg-type]
        submit_response(session, invite_with_token(session, person, wave)[0], {"cc_1": 3, "cc_2": 1})
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert make_due_briefings(engine, min_cell=5, now=utcnow()) == 0
    # 30 submitted, but this instrument has no profile indicators: none is usable, so none is queued (it would
    # end "done" with nothing fitted), and the log says why
    assert "0 usable responses" in caplog.text and "of 30 submitted" in caplog.text
    assert session.exec(select(AnalysisRun).where(AnalysisRun.status == "queued")).first() is None


def test_the_fit_table_marks_spurious_solutions_on_the_page_and_in_the_summary(
    client, session: Session, runner
) -> None:
    """Issue 15: a model whose every solution was spurious, and one whose higher spurious solution was set
    aside, are marked in the fit table of the result page and of `studyapp analyze show`, with starts used."""
    make_user(session)
    login(client)
    stored = version_1()
    stored["fit"][0] |= {"spurious": True, "starts": 80}
    stored["fit"][1] |= {"set_aside_loglik": -99.17, "starts": 40}
    study, run = store_run(session, stored)
    page = client.get(f"/studies/{study.id}/analysis/{run.id}").get_data(as_text=True)
    assert '<th scope="col">Starts</th>' in page and '<th scope="col">Spurious solutions</th>' in page
    assert 'class="row--spurious"' in page and "only these: not considered" in page
    assert "set aside (log-lik -99.2)" in page or "set aside (log-lik −99.2)" in page
    shown = runner.invoke(args=["analyze", "show", str(run.id)])
    assert "only spurious solutions: not considered" in shown.output and "set aside (log-lik -99.2)" in shown.output


def test_the_layers_below_the_analyses_read_a_stored_result_as_the_typed_model_wrote_it() -> None:
    """The fieldwork engine and the exports read a result's assignments and attrition weights by their JSON
    keys (``studyapp.core.latest_analysis``); a typed result, once stored, must give the same."""
    from studyapp.analyses.result import Attrition
    from studyapp.core.latest_analysis import attrition_weights, modal_profiles

    result = parse_result(version_1())
    assert result.transitions is not None
    names = result.transitions.names
    assignments = [("P1", "T1", 0), ("P1", "T2", 2), ("P2", "T1", len(names) - 1)]
    weights = [("P1", "T1", 1.0), ("P1", "T2", 1.25), ("P2", "T1", 0.8)]
    typed = result.model_copy(
        update={
            "transitions": result.transitions.model_copy(update={"assignments": assignments}),
            "attrition": Attrition(predictors=["profile"], numerator="rate", trim=[0.01, 0.99], weights=weights),
        }
    )
    stored = json.loads(json.dumps(to_stored(typed)))
    assert modal_profiles(stored) == {
        ("P1", "T1"): names[0],
        ("P1", "T2"): names[2],
        ("P2", "T1"): names[-1],
    }
    assert attrition_weights(stored) == weights
    assert attrition_weights(version_1()) == [], "kept before the weights"
    assert modal_profiles({}) == {} and modal_profiles({"transitions": None}) == {}
