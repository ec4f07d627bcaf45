"""Personal feedback after submitting, on the page and as a PDF, checked against hand-built answers."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pandas as pd
import pytest
from sqlmodel import Session

from analysis.reference_profiles import REFERENCE_PROFILES
from analysis.synthetic import simulate_cohort
from studyapp.core.types import utcnow
from studyapp.instruments.loader import bundled_definitions, parse_definition
from tests.conftest import artifact_dir
from tests.factories import (
    enrol,
    invite_with_token,
    load_carriere_kompas,
    make_cohort,
    make_study,
    make_wave,
    submit_response,
)

DEFINITION = parse_definition(bundled_definitions()[0].read_text(), "ck.yaml")
SCALE_ITEMS = {i.code: i for s in DEFINITION.sections for i in s.items if i.facet}
CAREER = {"cc_suitable_work": 6, "cc_clear_goals": 6, "cc_unsure_direction": 2}  # clarity (2 reversed) = 6.0


def answers_like(profile: str) -> dict[str, int]:
    """Every facet item answered as the profile's signature says: 6 on high facets, 2 on low, else 4."""
    signature = REFERENCE_PROFILES[profile].signature
    answers = {}
    for code, item in SCALE_ITEMS.items():
        level = 4 + 2 * signature.get(item.facet, 0)
        answers[code] = 8 - level if item.reverse else level
    return answers | CAREER


@pytest.fixture
def study(session: Session) -> dict:
    instrument = load_carriere_kompas(session)
    study = make_study(session)
    cohort = make_cohort(session, study, "Young professionals")
    waves = [make_wave(session, cohort, instrument, label=label) for label in ("T1", "T2")]
    return {"cohort": cohort, "waves": waves}


def add_sample(session: Session, study: dict, n: int) -> None:
    """``n`` simulated participants who completed wave T1."""
    cohort = simulate_cohort(n, 1, random_state=5)
    wide = cohort.answers.pivot(index="pseudonym", columns="item", values="value")
    wide = wide[[c for c in wide.columns if c in SCALE_ITEMS]]
    for number, (_, row) in enumerate(wide.iterrows()):
        person = enrol(session, study["cohort"], f"sample{number}@example.org")
        invitation, _ = invite_with_token(session, person, study["waves"][0])
        submit_response(session, invitation, {code: int(v) for code, v in row.items() if not pd.isna(v)})


def test_feedback_names_the_resembled_profile_and_compares_with_the_sample(client, session, study) -> None:
    add_sample(session, study, 40)
    person = enrol(session, study["cohort"], "nerd@example.org", language="en")
    invitation, token = invite_with_token(session, person, study["waves"][0])
    submit_response(session, invitation, answers_like("Nerd"))
    page = client.get(f"/p/{token}/feedback?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "all 41 participants" in html
    assert 'class="fb-profile__name">Nerd' in html
    assert REFERENCE_PROFILES["Nerd"].description["en"] in html
    assert "Career clarity</strong>: 6.0" in html and "Higher than" in html
    assert html.count('<svg class="chart"') >= 6  # career + five identity domains


def test_second_wave_feedback_tells_how_the_profile_and_scores_moved(client, session, study) -> None:
    add_sample(session, study, 30)
    person = enrol(session, study["cohort"], "mover@example.org", language="en")
    first, _ = invite_with_token(session, person, study["waves"][0])
    earlier = submit_response(session, first, answers_like("Traditionalist"))
    earlier.submitted_at = utcnow() - timedelta(days=180)
    earlier.started_at = earlier.submitted_at - timedelta(minutes=20)
    session.add(earlier)
    session.commit()
    second, token = invite_with_token(session, person, study["waves"][1])
    submit_response(session, second, answers_like("Innovator"))
    html = client.get(f"/p/{token}/feedback?lang=en").get_data(as_text=True)
    assert "What changed since wave T1" in html
    assert "Last time you most resembled Traditionalist; now Innovator." in html
    assert 'class="fb-change fb-change--up">+4.0' in html or 'fb-change--up">+2.0' in html


def test_with_few_participants_scores_are_set_beside_the_scale_midpoint(client, session, study) -> None:
    person = enrol(session, study["cohort"], "early@example.org", language="en")
    invitation, token = invite_with_token(session, person, study["waves"][0])
    submit_response(session, invitation, answers_like("Status Seeker"))
    html = client.get(f"/p/{token}/feedback?lang=en").get_data(as_text=True)
    assert "Too few people have taken part yet" in html
    assert 'class="fb-profile__name">Status Seeker' in html


def test_feedback_waits_for_submission(client, session, study) -> None:
    person = enrol(session, study["cohort"], "busy@example.org")
    _, token = invite_with_token(session, person, study["waves"][0])
    assert client.get(f"/p/{token}/feedback?lang=en").status_code == 302
    assert client.get(f"/p/{token}/feedback.pdf").status_code == 302


def test_feedback_pdf_holds_the_same_content(client, session, study, database) -> None:
    add_sample(session, study, 35)
    person = enrol(session, study["cohort"], "pdf@example.org", language="nl")
    invitation, token = invite_with_token(session, person, study["waves"][0])
    submit_response(session, invitation, answers_like("All-rounder"))
    result = client.get(f"/p/{token}/feedback.pdf")
    assert result.status_code == 200 and result.headers["Content-Type"] == "application/pdf"
    assert result.data.startswith(b"%PDF") and "attachment" in result.headers["Content-Disposition"]
    folder = artifact_dir("pdf")
    path = folder / f"feedback-{database.backend}.pdf"
    path.write_bytes(result.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Jouw persoonlijke terugkoppeling" in text and "All-rounder" in text
    assert "pdf@example.org" not in text and person.pseudonym not in text
    assert "Carrièreduidelijkheid: 6,0" in text and "Je loopbaan" in text  # a decimal comma in Dutch
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(path), str(folder / f"feedback-{database.backend}")], check=True
    )
