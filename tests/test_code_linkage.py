"""Anonymous cohorts: codes are stored as keyed hashes and link waves through the admin and the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.core.models import AuditEvent, Invitation, LinkageCode, Participant, Response, Wave
from studyapp.participants.code_linkage import new_anonymous_participant, record_code
from studyapp.studies import services
from tests.factories import login, make_instrument, make_study, make_user, make_wave, privacy_for_tests

ANA = ["Maria", "Johan", 14, 2, "Deventer", "Sofie"]
BRAM = ["Anna", "Kees", 3, 0, "Zwolle", "X"]  # X: no second given name
CARLA = ["Els", "Piet", 27, 1, "Almelo", "Ingrid"]
TWIN_A = ["Ria", "Henk", 9, 1, "Enschede", "Lotte"]


@pytest.fixture
def cohort_waves(session: Session) -> tuple[Wave, Wave]:
    study = make_study(session)
    cohort = services.create_cohort(session=session, study=study, name="Feedback users", linkage="code")
    session.commit()
    instrument = make_instrument(session)
    return make_wave(session, cohort, instrument, label="T1"), make_wave(session, cohort, instrument, label="T2")


def _respond(session: Session, wave: Wave, code: list[object]) -> Participant:
    from studyapp.core.models import Cohort

    privacy = privacy_for_tests()
    participant = new_anonymous_participant(
        session=session, privacy=privacy, cohort=session.get(Cohort, wave.cohort_id)
    )
    invitation = Invitation(participant_id=participant.id, wave_id=wave.id, state="completed")
    session.add(invitation)
    session.flush()
    response = Response(invitation_id=invitation.id)
    session.add(response)
    session.flush()
    record_code(session=session, privacy=privacy, response=response, answers=code)
    session.commit()
    return participant


def _arrange(session: Session, t1: Wave, t2: Wave) -> dict[str, Participant]:
    people = {
        "ana1": _respond(session, t1, ANA),
        "bram1": _respond(session, t1, BRAM),
        "carla1": _respond(session, t1, CARLA),
        "twin1": _respond(session, t1, TWIN_A),
        "twin2": _respond(session, t1, [*TWIN_A[:5], "Lisa"]),
    }
    people["ana2"] = _respond(session, t2, [a.lower() if isinstance(a, str) else a for a in ANA])  # exact
    people["bram2"] = _respond(session, t2, [*BRAM[:2], 4, *BRAM[3:]])  # birth day off by one
    people["twin3"] = _respond(session, t2, [*TWIN_A[:5], "Mila"])  # one off from both twins: ambiguous
    people["new2"] = _respond(session, t2, ["Zoë", "Xander", 31, 9, "Urk", "Quinten"])
    return people


def test_codes_are_stored_as_keyed_hashes(session: Session, cohort_waves: tuple[Wave, Wave]) -> None:
    t1, _ = cohort_waves
    _respond(session, t1, ANA)
    stored = session.exec(select(LinkageCode)).one()
    assert len(stored.elements) == 6 and all(len(h) == 64 for h in stored.elements)
    assert not any(word.lower() in str(stored.elements).lower() for word in ("Maria", "Deventer", "Sofie"))


def test_cli_links_exact_and_one_difference_and_reports_ambiguity(
    app, runner, session: Session, cohort_waves: tuple[Wave, Wave], tmp_path: Path
) -> None:
    t1, t2 = cohort_waves
    people = _arrange(session, t1, t2)
    args = [
        "linkage",
        "run",
        "--study",
        "bridge-the-gap",
        "--cohort",
        "Feedback users",
        "--from",
        "T1",
        "--to",
        "T2",
    ]
    result = runner.invoke(args=[*args, "--report", str(tmp_path / "report.csv")])
    assert result.exit_code == 0, result.output
    assert "identical codes: 1; one element differs: 1; ambiguous: 3" in result.output
    assert f"ambiguous: {people['twin3'].pseudonym} could be" in result.output
    with (tmp_path / "report.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["status"] for r in rows} == {"linked_exact", "linked_one_difference", "ambiguous", "unmatched"}
    assert len(session.exec(select(Participant)).all()) == 9, "report only: nothing merged"

    result = runner.invoke(args=[*args, "--apply"])
    assert "Linked 2 responses." in result.output
    remaining = {p.pseudonym for p in session.exec(select(Participant))}
    assert people["ana2"].pseudonym not in remaining and people["bram2"].pseudonym not in remaining
    ana_waves = session.exec(select(Invitation.wave_id).where(Invitation.participant_id == people["ana1"].id)).all()
    assert sorted(ana_waves) == sorted([t1.id, t2.id])
    assert people["twin3"].pseudonym in remaining and people["new2"].pseudonym in remaining
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "linkage.applied")).one()

    again = runner.invoke(args=[*args, "--apply"])
    assert "identical codes: 0; one element differs: 0" in again.output


def test_researcher_resolves_an_ambiguous_case(
    client: FlaskClient, session: Session, cohort_waves: tuple[Wave, Wave]
) -> None:
    t1, t2 = cohort_waves
    people = _arrange(session, t1, t2)
    make_user(session)
    login(client)
    page = client.get(f"/cohorts/{t1.cohort_id}/linkage").get_data(as_text=True)
    assert "Link 2 responses" in page and "Ambiguous: your decision" in page
    assert f"Same person as {people['twin1'].pseudonym}" in page
    client.post(f"/cohorts/{t1.cohort_id}/linkage?earlier={t1.id}&later={t2.id}")
    response = client.post(
        f"/cohorts/{t1.cohort_id}/linkage?earlier={t1.id}&later={t2.id}",
        data={"keep": people["twin1"].pseudonym, "merge": people["twin3"].pseudonym},
        follow_redirects=True,
    )
    assert "now belongs to" in response.get_data(as_text=True)
    twin_waves = session.exec(select(Invitation.wave_id).where(Invitation.participant_id == people["twin1"].id)).all()
    assert sorted(twin_waves) == sorted([t1.id, t2.id])
    assert len(session.exec(select(Participant)).all()) == 6
    page = client.get(f"/cohorts/{t1.cohort_id}/linkage").get_data(as_text=True)
    assert "Ambiguous: your decision" not in page


def test_linkage_mode_is_fixed_once_participants_exist(session: Session, cohort_waves: tuple[Wave, Wave]) -> None:
    from studyapp.core.errors import ValidationFailed
    from studyapp.core.models import Cohort

    t1, _ = cohort_waves
    _respond(session, t1, ANA)
    cohort = session.get(Cohort, t1.cohort_id)
    with pytest.raises(ValidationFailed, match="can no longer change"):
        services.update_cohort(session=session, cohort=cohort, name=cohort.name, linkage="contact")
