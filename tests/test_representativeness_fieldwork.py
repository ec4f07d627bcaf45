"""Representativeness during fieldwork (issue 19): the scheduler keeps each wave's R-indicators, the fieldwork
page and the command line show them, small categories stay hidden. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from studyapp.core.models import AuditEvent, Invitation, Participant, RepresentativenessFigures, Study, Wave
from studyapp.scheduler import tick
from tests.factories import (
    enrol,
    load_carriere_kompas,
    login,
    make_cohort,
    make_study,
    make_user,
    make_wave,
    submit_response,
)
from waves.representativeness import UNKNOWN, wave_frame

NOW = datetime(2027, 2, 10, 12, tzinfo=UTC)
# (institution, gender, how many, how many completed T2): wo responds far better than hbo; four people
# have gender "x" (too few to show)
GROUPS = [("wo", "woman", 22, 16), ("wo", "man", 24, 17), ("hbo", "woman", 14, 4), ("hbo", "man", 16, 5)]
SMALL = ("hbo", "x", 4, 1)


@pytest.fixture
def fieldwork(session: Session) -> dict:
    """A study keeping institution and gender; a cohort with T1 (work status asked) and T2 (open)."""
    study = make_study(session)
    study.frame_variables = ["institution", "gender"]
    session.add(study)
    cohort = make_cohort(session, study)
    instrument = load_carriere_kompas(session)
    first = make_wave(session, cohort, instrument, label="T1")
    second = make_wave(session, cohort, instrument, label="T2")
    people = []
    for institution, gender, count, completed in [*GROUPS, SMALL]:
        for i in range(count):
            person = _participant(
                session, cohort.id, f"P{len(people):04d}", {"institution": institution, "gender": gender}
            )
            people.append(person)
            earlier = Invitation(participant_id=person, wave_id=first.id, state="sent")
            later = Invitation(participant_id=person, wave_id=second.id, state="sent")
            session.add_all([earlier, later])
            session.flush()
            if len(people) % 3:  # two in three answered T1: employed or studying; the others are unknown
                submit_response(session, earlier, {"work_status": 1 if len(people) % 2 else 3})
            if i < completed:
                later.state, later.completed_at = "completed", NOW - timedelta(days=1)
                session.add(later)
    session.commit()
    return {"study": study, "first": first, "second": second, "people": people}


def _participant(session: Session, cohort_id: int, pseudonym: str, frame: dict[str, str]) -> int:
    person = Participant(pseudonym=pseudonym, cohort_id=cohort_id, frame=frame)
    session.add(person)
    session.flush()
    return int(person.id)  # type: ignore[arg-type]


def _kept(session: Session, wave: Wave) -> list[RepresentativenessFigures]:
    session.expire_all()
    return list(
        session.exec(
            select(RepresentativenessFigures)
            .where(RepresentativenessFigures.wave_id == wave.id)
            .order_by(RepresentativenessFigures.day)
        )
    )


def test_the_frame_holds_everyone_invited_with_their_frame_and_earlier_answers(
    session: Session, fieldwork: dict
) -> None:
    frame = wave_frame(session, fieldwork["second"])
    people = frame.people
    assert len(people) == 80 and int(people["responded"].sum()) == 16 + 17 + 4 + 5 + 1
    assert frame.auxiliaries == ["institution", "gender", "work_status (T1)"]
    assert people.groupby("institution")["responded"].agg(["size", "sum"]).to_dict() == {
        "size": {"hbo": 34, "wo": 46},
        "sum": {"hbo": 10, "wo": 33},
    }
    answered = people["work_status (T1)"].value_counts().to_dict()
    assert answered == {"1": 27, "3": 27, UNKNOWN: 26}  # two in three answered T1, alternately 1 and 3
    assert frame.labels["work_status (T1)"]["3"]["en"] == "I am studying"
    first = wave_frame(session, fieldwork["first"])
    assert first.auxiliaries == ["institution", "gender"], "a cohort's first wave has no earlier answers"


def test_each_tick_keeps_a_waves_figures_once_a_day(
    engine: Engine, session: Session, fieldwork: dict, settings
) -> None:
    tick(engine, name="test:1", now=NOW, settings=settings)
    tick(engine, name="test:1", now=NOW + timedelta(minutes=1), settings=settings)
    assert _kept(session, fieldwork["second"])[0].computed_at == NOW, "at most every ten minutes"
    tick(engine, name="test:1", now=NOW + timedelta(minutes=10), settings=settings)
    kept = _kept(session, fieldwork["second"])
    assert len(kept) == 1, "the same day's figures are replaced"
    latest = kept[0]
    assert (latest.invited, latest.respondents) == (80, 43)
    assert latest.computed_at == NOW + timedelta(minutes=10)
    assert latest.r_lower <= latest.r_indicator <= latest.r_upper <= 1
    by_category = {(p["variable"], p["category"]): p for p in latest.figures["partials"]}
    hbo, wo = by_category[("institution", "hbo")], by_category[("institution", "wo")]
    assert (hbo["n"], hbo["respondents"], wo["n"], wo["respondents"]) == (34, 10, 46, 33)
    assert hbo["unconditional"] < 0 < wo["unconditional"] and hbo["lagging"] and not wo["lagging"]
    assert latest.figures["partials"][0]["variable"] == "institution", "the most lagging category first"
    tick(engine, name="test:1", now=NOW + timedelta(days=1), settings=settings)
    assert [k.day.isoformat() for k in _kept(session, fieldwork["second"])] == ["2027-02-10", "2027-02-11"]


def test_a_closed_wave_is_no_longer_measured(engine: Engine, session: Session, fieldwork: dict, settings) -> None:
    tick(engine, name="test:1", now=datetime(2027, 3, 3, tzinfo=UTC), settings=settings)  # closed 1 March
    assert _kept(session, fieldwork["second"]) == []


def test_the_fieldwork_page_shows_the_figures_and_hides_small_categories(
    engine: Engine, client: FlaskClient, session: Session, fieldwork: dict, settings
) -> None:
    make_user(session, language="en")
    login(client)
    study: Study = fieldwork["study"]
    before = client.get(f"/studies/{study.id}/fieldwork")
    assert before.status_code == 200 and "Partial R-indicator" not in before.get_data(as_text=True)
    tick(engine, name="test:1", now=NOW, settings=settings)
    page = client.get(f"/studies/{study.id}/fieldwork").get_data(as_text=True)
    assert "Representativeness" in page and "R-indicator over time" in page
    assert "institution: hbo" in page and "lags behind" in page
    assert "main occupation at T1: I am studying" in page
    assert "gender: x" not in page, "four people: too few to show"
    assert "categories are not shown" in page
    assert "Method: Logistic regression of response on the main effects of institution, gender, main occupation" in page


def test_a_dutch_researcher_reads_the_panel_in_dutch(
    engine: Engine, client: FlaskClient, session: Session, fieldwork: dict, settings
) -> None:
    """The earlier answers by what they asked and the method sentence in the reader's language (they showed
    item codes, ``work_status (T1)``, and the analysis package's English sentence)."""
    make_user(session, language="nl")
    login(client)
    tick(engine, name="test:1", now=NOW, settings=settings)
    page = client.get(f"/studies/{fieldwork['study'].id}/fieldwork").get_data(as_text=True)
    assert "hoofdbezigheid bij T1: Ik studeer" in page
    assert "work_status" not in page
    assert (
        "Logistische regressie van respons op de hoofdeffecten van institution, gender, hoofdbezigheid bij T1" in page
    )
    assert "Logistic regression" not in page


def test_the_profile_at_the_wave_before_groups_people_once_an_analysis_placed_them(
    engine: Engine, client: FlaskClient, session: Session, fieldwork: dict, settings
) -> None:
    """Each person's most likely profile at T1 in the cohort's latest finished analysis is an auxiliary of T2
    (an older run and a newer failed one do not count; people the analysis did not place are unknown)."""
    from studyapp.core.models import AnalysisRun

    first: Wave = fieldwork["first"]
    pseudonyms = {p.id: p.pseudonym for p in session.exec(select(Participant))}
    placed = [pseudonyms[pid] for pid in fieldwork["people"][:70]]

    def run(status: str, finished: datetime, profile_of: list[int]) -> AnalysisRun:
        result = {
            "transitions": {
                "names": ["Nerd", "Innovator"],
                "assignments": [[p, "T1", k] for p, k in zip(placed, profile_of, strict=True)],
            }
        }
        return AnalysisRun(
            study_id=fieldwork["study"].id,
            cohort_id=first.cohort_id,
            status=status,
            parameters={},
            result=result,
            finished_at=finished,
        )

    before_any = wave_frame(session, fieldwork["second"])
    assert "profile (T1)" not in before_any.auxiliaries, "no analysis yet: nothing to group by"
    session.add_all(
        [
            run("done", NOW - timedelta(days=9), [1] * 70),
            run("done", NOW - timedelta(days=2), [0] * 40 + [1] * 30),
            run("failed", NOW - timedelta(days=1), [1] * 70),
        ]
    )
    session.commit()
    frame = wave_frame(session, fieldwork["second"])
    assert frame.auxiliaries == ["institution", "gender", "profile (T1)", "work_status (T1)"]
    assert frame.people["profile (T1)"].value_counts().to_dict() == {"Nerd": 40, "Innovator": 30, UNKNOWN: 10}
    assert wave_frame(session, first).auxiliaries == ["institution", "gender"], "no wave before the first"
    make_user(session, language="en")
    login(client)
    tick(engine, name="test:1", now=NOW, settings=settings)
    page = client.get(f"/studies/{fieldwork['study'].id}/fieldwork").get_data(as_text=True)
    assert "profile at T1: Nerd" in page and "profile at T1: Innovator" in page


def test_the_command_line_prints_the_same_figures(
    engine: Engine, runner, session: Session, fieldwork: dict, settings
) -> None:
    args = ["fieldwork", "representativeness", "--study", "bridge-the-gap", "--cohort", "Final-year students"]
    printed = runner.invoke(args=[*args, "--wave", "T2", "--json"])
    assert printed.exit_code == 0, printed.output
    figures = json.loads(printed.output)
    assert (figures["n"], figures["respondents"]) == (80, 43)
    shown = {c["label"] for c in figures["categories"]}
    assert "institution: hbo" in shown and not any(label.startswith("gender: x") for label in shown)
    assert figures["hidden_categories"] >= 2, "the small category and one more, so it cannot be worked out"
    assert "partials" not in figures and "labels" not in figures
    text = runner.invoke(args=[*args, "--wave", "T2"])
    assert text.exit_code == 0 and "R-indicator" in text.output and "institution: hbo" in text.output
    assert f"{figures['r']:.3f}" in text.output
    missing = runner.invoke(args=[*args, "--wave", "T9"])
    assert missing.exit_code != 0 and "No wave 'T9'" in missing.output


# --- adaptive design: a targeted reminder to the categories that lag behind ------------------------------


@pytest.fixture
def targeted(session: Session) -> dict:
    """A wave with a targeted reminder on day 5 (budget 30): hbo alumni lag far behind wo alumni."""
    from studyapp.core.models import Cohort

    study = make_study(session)
    study.frame_variables = ["institution"]
    session.add(study)
    cohort = make_cohort(session, study)
    wave = make_wave(session, cohort, load_carriere_kompas(session))
    wave.targeted_reminder_day, wave.targeted_reminder_budget = 5, 30
    wave.reminder_days = []
    session.add(wave)
    session.commit()
    people: dict[str, list[int]] = {"wo": [], "hbo": []}
    for institution, count, completed in (("wo", 40, 30), ("hbo", 30, 5)):
        for i in range(count):
            person = enrol(session, session.get(Cohort, cohort.id), f"{institution}{i}@example.org")
            person.frame = {"institution": institution}
            state = "completed" if i < completed else "sent"
            session.add(person)
            session.add(
                Invitation(
                    participant_id=person.id,
                    wave_id=wave.id,
                    state=state,
                    opens_at=datetime(2027, 2, 1, 8, tzinfo=UTC),
                    closes_at=datetime(2027, 3, 1, 8, tzinfo=UTC),
                    completed_at=NOW if state == "completed" else None,
                )
            )
            people[institution].append(int(person.id))  # type: ignore[arg-type]
    withdrawn = session.get(Participant, people["hbo"][-1])
    withdrawn.status = "withdrawn"  # a lagging category's member who left: never targeted
    session.add(withdrawn)
    session.commit()
    return {"study": study, "wave": wave, "people": people}


def _smtp_settings(settings, smtp_server):
    import dataclasses

    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=smtp_server.port)


def test_the_scheduler_sends_a_targeted_reminder_to_the_lagging_category_within_its_budget(
    engine: Engine, session: Session, targeted: dict, settings, smtp_server, client: FlaskClient
) -> None:
    settings = _smtp_settings(settings, smtp_server)
    tick(engine, name="test:1", now=datetime(2027, 2, 4, 9, tzinfo=UTC), settings=settings)
    assert smtp_server.handler_obj.envelopes == [], "day 3: the round is not due yet"
    tick(engine, name="test:1", now=datetime(2027, 2, 7, 9, tzinfo=UTC), settings=settings)
    recipients = sorted(address for _from, to, _options in smtp_server.handler_obj.envelopes for address in to)
    expected = sorted(f"hbo{i}@example.org" for i in range(5, 29))  # not completed, not withdrawn (hbo29)
    assert recipients == expected
    assert len(recipients) <= 30
    decision = session.exec(select(AuditEvent).where(AuditEvent.action == "reminders.targeted")).one()
    assert decision.target_id == str(targeted["wave"].id)
    assert decision.detail["categories"] == [["institution", "hbo"]] and decision.detail["messages"] == 24
    chosen = decision.detail["basis"]["chosen"][0]
    assert chosen["unconditional"] < 0 and chosen["unconditional_ci"][1] < 0, "its figures are logged"
    tick(engine, name="test:1", now=datetime(2027, 2, 8, 9, tzinfo=UTC), settings=settings)
    assert len(smtp_server.handler_obj.envelopes) == 24, "a wave is targeted once"
    make_user(session)
    login(client)
    page = client.get(f"/studies/{targeted['study'].id}/fieldwork").get_data(as_text=True)
    assert "Targeted reminder, 07 Feb 10:00:" in page and "24 messages to institution: hbo." in page


def test_a_paused_wave_waits_and_a_budget_too_small_for_a_whole_category_sends_nothing(
    engine: Engine, session: Session, targeted: dict, settings, smtp_server
) -> None:
    settings = _smtp_settings(settings, smtp_server)
    wave: Wave = targeted["wave"]
    wave.paused = True
    session.add(wave)
    session.commit()
    tick(engine, name="test:1", now=datetime(2027, 2, 7, 9, tzinfo=UTC), settings=settings)
    assert smtp_server.handler_obj.envelopes == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "reminders.targeted")).all() == []
    wave.paused, wave.targeted_reminder_budget = False, 10  # 24 people lag: the category does not fit whole
    session.add(wave)
    session.commit()
    tick(engine, name="test:1", now=datetime(2027, 2, 7, 10, tzinfo=UTC), settings=settings)
    assert smtp_server.handler_obj.envelopes == []
    decision = session.exec(select(AuditEvent).where(AuditEvent.action == "reminders.targeted")).one()
    assert (
        decision.detail["messages"] == 0
        and "does not fit whole" in decision.detail["basis"]["passed_over"][0]["reason"]
    )


def test_a_first_wave_without_frame_variables_says_there_is_nothing_to_compare(
    engine: Engine, runner, client: FlaskClient, session: Session, fieldwork: dict, settings
) -> None:
    study: Study = fieldwork["study"]
    study.frame_variables = []
    session.add(study)
    session.commit()
    tick(engine, name="test:1", now=NOW, settings=settings)
    assert _kept(session, fieldwork["first"]) == [], "no figures, and no error on the heartbeat"
    from studyapp.core.models import SchedulerHeartbeat

    assert session.exec(select(SchedulerHeartbeat)).one().last_error == ""
    args = ["fieldwork", "representativeness", "--study", "bridge-the-gap", "--cohort", "Final-year students"]
    printed = runner.invoke(args=[*args, "--wave", "T1"])
    assert printed.exit_code != 0 and "Nothing to compare groups by" in printed.output
    make_user(session)
    login(client)
    page = client.get(f"/studies/{study.id}/fieldwork").get_data(as_text=True)
    assert "Nothing to compare groups by" in page
