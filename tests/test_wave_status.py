"""Where a wave stands is one rule (studyapp.core.wave_status) shown the same on every page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from studyapp.core import wave_status as wave_status_module
from studyapp.core.models import Cohort, Wave
from studyapp.core.wave_status import WaveStatus, wave_status
from tests.conftest import csrf_token_from
from tests.factories import login, make_cohort, make_instrument, make_study, make_user

NOW = datetime(2027, 6, 15, 12, tzinfo=UTC)


def _wave(
    session: Session,
    cohort_id: int,
    instrument_id: int,
    position: int,
    label: str,
    opens: datetime,
    closes: datetime,
    *,
    paused: bool = False,
) -> Wave:
    wave = Wave(
        cohort_id=cohort_id,
        position=position,
        label=label,
        instrument_id=instrument_id,
        schedule="on_date",
        opens_at=opens,
        closes_at=closes,
        paused=paused,
    )
    session.add(wave)
    session.commit()
    return wave


@pytest.fixture
def waves(session: Session, monkeypatch: pytest.MonkeyPatch) -> dict[str, Wave]:
    monkeypatch.setattr(wave_status_module, "utcnow", lambda: NOW)
    study = make_study(session)
    cohort = make_cohort(session, study)
    instrument = make_instrument(session)
    day = timedelta(days=1)
    return {
        "closed": _wave(session, cohort.id, instrument.id, 1, "Closed long ago", NOW - 120 * day, NOW - 90 * day),
        "open": _wave(session, cohort.id, instrument.id, 2, "Open now", NOW - 2 * day, NOW + 20 * day),
        "paused": _wave(session, cohort.id, instrument.id, 3, "Paused now", NOW - 2 * day, NOW + 20 * day, paused=True),
        "scheduled": _wave(session, cohort.id, instrument.id, 4, "Next autumn", NOW + 90 * day, NOW + 120 * day),
        "closed_paused": _wave(
            session, cohort.id, instrument.id, 5, "Paused then closed", NOW - 60 * day, NOW - 30 * day, paused=True
        ),
    }


def test_status_follows_dates_pause_and_clock(waves: dict[str, Wave]) -> None:
    assert wave_status(waves["closed"]) is WaveStatus.CLOSED
    assert wave_status(waves["open"]) is WaveStatus.OPEN
    assert wave_status(waves["paused"]) is WaveStatus.PAUSED
    assert wave_status(waves["scheduled"]) is WaveStatus.SCHEDULED
    assert wave_status(waves["closed_paused"]) is WaveStatus.CLOSED
    # the boundaries: open at opens_at, closed at closes_at
    scheduled = waves["scheduled"]
    assert scheduled.opens_at is not None and scheduled.closes_at is not None
    assert wave_status(scheduled, now=scheduled.opens_at) is WaveStatus.OPEN
    assert wave_status(scheduled, now=scheduled.closes_at) is WaveStatus.CLOSED


def _statuses(html: str) -> list[str]:
    return re.findall(r'data-wave-status="(\w+)"', html)


def test_study_page_and_fieldwork_dashboard_show_the_same_status(
    client: FlaskClient, session: Session, waves: dict[str, Wave]
) -> None:
    make_user(session)
    login(client)
    cohort = session.get(Cohort, waves["open"].cohort_id)
    assert cohort is not None
    expected = ["closed", "open", "paused", "scheduled", "closed"]
    study_page = client.get(f"/studies/{cohort.study_id}").get_data(as_text=True)
    fieldwork = client.get(f"/studies/{cohort.study_id}/fieldwork").get_data(as_text=True)
    assert _statuses(study_page) == expected
    assert _statuses(fieldwork) == expected
    assert "Running" not in fieldwork
    # Pause for the open and scheduled waves, Resume for the paused one, nothing for closed ones
    buttons = re.findall(r"/waves/(\d+)/(pause|resume)", fieldwork)
    assert sorted(buttons) == sorted(
        [
            (str(waves["open"].id), "pause"),
            (str(waves["paused"].id), "resume"),
            (str(waves["scheduled"].id), "pause"),
        ]
    )


def test_a_closed_wave_cannot_be_paused(client: FlaskClient, session: Session, waves: dict[str, Wave]) -> None:
    make_user(session)
    login(client)
    closed = waves["closed"]
    cohort = session.get(Cohort, closed.cohort_id)
    assert cohort is not None
    token = csrf_token_from(client.get(f"/studies/{cohort.study_id}/fieldwork").get_data(as_text=True))
    response = client.post(f"/waves/{closed.id}/pause", data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    assert "is closed; there is nothing to pause" in response.get_data(as_text=True)
    session.refresh(closed)
    assert closed.paused is False
