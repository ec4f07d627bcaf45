"""Admin pages for studies, cohorts and waves, with validation and clear messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.core.models import AuditEvent, Cohort, Instrument, Study, Wave
from tests.factories import (
    login,
    make_cohort,
    make_instrument,
    make_participant,
    make_study,
    make_user,
    make_wave,
)


@pytest.fixture
def researcher(client: FlaskClient, session: Session) -> FlaskClient:
    make_user(session)
    login(client)
    return client


@pytest.fixture
def instrument(session: Session) -> Instrument:
    return make_instrument(session)


def _wave_form(instrument: Instrument, **overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "label": "T1",
        "instrument_id": instrument.id,
        "schedule": "on_date",
        "opens_at": "2027-03-01T09:00",
        "closes_at": "2027-03-29T09:00",
        "reminder_days": "7, 14",
    }
    form.update(overrides)
    return form


def test_create_study_through_the_form(researcher: FlaskClient, session: Session) -> None:
    response = researcher.post(
        "/studies/new",
        data={
            "name": "Bridge the Gap",
            "slug": "bridge-the-gap",
            "description": "Follow-up",
            "timezone": "Europe/Amsterdam",
        },
    )
    assert response.status_code == 302
    study = session.exec(select(Study)).one()
    assert (study.slug, study.timezone) == ("bridge-the-gap", "Europe/Amsterdam")
    page = researcher.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bridge the Gap" in page and "No cohorts yet" in page
    assert "Bridge the Gap" in researcher.get("/").get_data(as_text=True)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "study.created")).one()


def test_study_form_explains_each_problem(researcher: FlaskClient, session: Session) -> None:
    make_study(session, slug="taken")
    response = researcher.post("/studies/new", data={"name": "X", "slug": "Not A Slug", "timezone": "Mars/Olympus"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Use lowercase letters, digits and single dashes" in page
    assert "&#39;Mars/Olympus&#39; is not a known time zone" in page
    response = researcher.post("/studies/new", data={"name": "X", "slug": "taken", "timezone": "UTC"})
    assert "Another study already uses &#39;taken&#39;" in response.get_data(as_text=True)
    assert len(session.exec(select(Study)).all()) == 1


def test_edit_and_delete_study(researcher: FlaskClient, session: Session) -> None:
    study = make_study(session)
    response = researcher.post(
        f"/studies/{study.id}/edit", data={"name": "Renamed", "slug": "renamed", "timezone": "UTC"}
    )
    assert response.status_code == 302
    session.refresh(study)
    assert (study.name, study.slug) == ("Renamed", "renamed")
    make_cohort(session, study)
    response = researcher.post(f"/studies/{study.id}/delete", follow_redirects=True)
    assert "Delete its cohorts first" in response.get_data(as_text=True)
    assert session.get(Study, study.id) is not None


def test_cohorts_are_created_and_names_checked(researcher: FlaskClient, session: Session) -> None:
    study = make_study(session)
    response = researcher.post(f"/studies/{study.id}/cohorts/new", data={"name": "Young professionals"})
    assert response.status_code == 302
    response = researcher.post(f"/studies/{study.id}/cohorts/new", data={"name": "Young professionals"})
    assert "already has a cohort called" in response.get_data(as_text=True)
    assert len(session.exec(select(Cohort)).all()) == 1


def test_wave_on_dates_is_stored_in_utc(researcher: FlaskClient, session: Session, instrument: Instrument) -> None:
    cohort = make_cohort(session, make_study(session))
    response = researcher.post(
        f"/cohorts/{cohort.id}/waves/new",
        data=_wave_form(instrument, opens_at="2027-03-27T09:00", closes_at="2027-03-29T09:00", reminder_days="1"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    wave = session.exec(select(Wave)).one()
    # Amsterdam moves to summer time in the night of 27-28 March 2027: CET then CEST.
    assert wave.opens_at == datetime(2027, 3, 27, 8, 0, tzinfo=UTC)
    assert wave.closes_at == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    assert (wave.position, wave.reminder_days, wave.offset_days) == (1, [1], None)
    page = researcher.get(f"/studies/{cohort.study_id}").get_data(as_text=True)
    assert "27 Mar 2027 09:00 to 29 Mar 2027 09:00" in page


def test_relative_waves_follow_enrolment_and_previous_wave(
    researcher: FlaskClient, session: Session, instrument: Instrument
) -> None:
    cohort = make_cohort(session, make_study(session))
    first = _wave_form(instrument, schedule="after_enrolment", offset_days=0, window_days=28, opens_at="", closes_at="")
    assert researcher.post(f"/cohorts/{cohort.id}/waves/new", data=first).status_code == 302
    second = _wave_form(
        instrument,
        label="T2",
        schedule="after_previous",
        offset_days=182,
        window_days=28,
        opens_at="",
        closes_at="",
    )
    assert researcher.post(f"/cohorts/{cohort.id}/waves/new", data=second).status_code == 302
    waves = session.exec(select(Wave).order_by(Wave.position)).all()
    assert [(w.label, w.schedule, w.offset_days, w.window_days, w.opens_at) for w in waves] == [
        ("T1", "after_enrolment", 0, 28, None),
        ("T2", "after_previous", 182, 28, None),
    ]
    page = researcher.get(f"/studies/{cohort.study_id}").get_data(as_text=True)
    assert "182 days after the previous wave opens, open 28 days" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"closes_at": "2027-02-01T09:00"}, "The wave must close after it opens."),
        ({"closes_at": ""}, "Give the date and time the wave closes."),
        ({"schedule": "after_enrolment", "offset_days": "-3", "window_days": "10"}, "Cannot be negative."),
        ({"schedule": "after_enrolment", "offset_days": "3", "window_days": "0"}, "At least 1 day."),
        (
            {"schedule": "after_previous", "offset_days": "3", "window_days": "10"},
            "The first wave of a cohort has no previous wave to follow.",
        ),
        ({"reminder_days": "7, 40"}, "Every reminder must fall before the wave closes."),
        ({"reminder_days": "7, 7"}, "Each reminder day may appear only once."),
        ({"reminder_days": "seven"}, "&#39;seven&#39; is not a whole number of days."),
        ({"reminder_days": "0"}, "use 1 or more"),
        ({"label": ""}, "This field is required."),
        ({"targeted_reminder_day": "5"}, "Give both the day and the budget of the targeted reminder, or neither."),
        ({"targeted_reminder_day": "0", "targeted_reminder_budget": "50"}, "A day from 1 to 366."),
        ({"targeted_reminder_day": "5", "targeted_reminder_budget": "-1"}, "From 1 to 1000000 messages."),
        ({"targeted_reminder_day": "5", "targeted_reminder_budget": "99999999999"}, "From 1 to 1000000 messages."),
    ],
)
def test_wave_validation_messages(
    researcher: FlaskClient, session: Session, instrument: Instrument, overrides: dict, message: str
) -> None:
    cohort = make_cohort(session, make_study(session))
    response = researcher.post(f"/cohorts/{cohort.id}/waves/new", data=_wave_form(instrument, **overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "field--error" in page
    assert session.exec(select(Wave)).all() == []


def test_edit_wave_keeps_the_form_in_local_time(
    researcher: FlaskClient, session: Session, instrument: Instrument
) -> None:
    cohort = make_cohort(session, make_study(session))
    wave = make_wave(session, cohort, instrument)  # opens 2027-02-01 08:00 UTC = 09:00 in Amsterdam
    page = researcher.get(f"/waves/{wave.id}/edit").get_data(as_text=True)
    assert 'value="2027-02-01T09:00"' in page and 'value="7, 14"' in page
    response = researcher.post(
        f"/waves/{wave.id}/edit", data=_wave_form(instrument, label="Baseline", reminder_days="3", paused="y")
    )
    assert response.status_code == 302
    session.refresh(wave)
    assert (wave.label, wave.reminder_days, wave.paused) == ("Baseline", [3], True)
    assert "Paused" in researcher.get(f"/studies/{cohort.study_id}").get_data(as_text=True)


def test_only_the_last_uninvited_wave_can_be_deleted(
    researcher: FlaskClient, session: Session, instrument: Instrument
) -> None:
    cohort = make_cohort(session, make_study(session))
    first = make_wave(session, cohort, instrument, label="T1")
    second = make_wave(session, cohort, instrument, label="T2")
    page = researcher.post(f"/waves/{first.id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "Only the last wave of a cohort can be deleted." in page
    researcher.post(f"/waves/{second.id}/delete")
    assert [w.label for w in session.exec(select(Wave))] == ["T1"]


def test_cohort_with_participants_is_kept(researcher: FlaskClient, session: Session) -> None:
    cohort = make_cohort(session, make_study(session))
    make_participant(session, cohort)
    page = researcher.post(f"/cohorts/{cohort.id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "This cohort has participants; it cannot be deleted." in page
    assert session.get(Cohort, cohort.id) is not None


def test_unknown_objects_give_404(researcher: FlaskClient) -> None:
    assert researcher.get("/studies/999").status_code == 404
    assert researcher.get("/waves/999/edit").status_code == 404
    assert b"There is no page at this address." in researcher.get("/cohorts/999/edit").data


def test_short_name_is_made_from_the_name_when_left_empty_and_stays_editable(
    researcher: FlaskClient, session: Session
) -> None:
    def create(name: str, slug: str = "") -> str:
        response = researcher.post("/studies/new", data={"name": name, "slug": slug, "timezone": "UTC"})
        assert response.status_code == 302, response.get_data(as_text=True)
        return session.exec(select(Study).where(Study.name == name).order_by(Study.id.desc())).first().slug

    assert create("Bridge the Gap") == "bridge-the-gap"
    assert create("Bridge the Gap") == "bridge-the-gap-2"  # unique
    assert create("Carrière & Kompas: 2027!") == "carriere-kompas-2027"
    assert create("Pilot", "my-own") == "my-own"
    study = session.exec(select(Study).where(Study.slug == "bridge-the-gap-2")).one()
    edited = researcher.post(
        f"/studies/{study.id}/edit", data={"name": "Second", "slug": "second-go", "timezone": "UTC"}
    )
    assert edited.status_code == 302
    session.refresh(study)
    assert study.slug == "second-go"
    cleared = researcher.post(
        f"/studies/{study.id}/edit", data={"name": "Bridge the Gap", "slug": "", "timezone": "UTC"}
    )
    assert cleared.status_code == 302
    session.refresh(study)
    assert study.slug == "bridge-the-gap-2"  # made again, still unique
    nothing = researcher.post("/studies/new", data={"name": "!!!", "slug": "", "timezone": "UTC"})
    assert nothing.status_code == 200 and "Use lowercase letters, digits and single dashes" in nothing.get_data(
        as_text=True
    )


def test_the_wave_form_shows_every_error_at_once(
    researcher: FlaskClient, session: Session, instrument: Instrument
) -> None:
    """It stopped at the first: the empty label, then the reminder days, then the dates, one submission each."""
    study = make_study(session)
    cohort = make_cohort(session, study)
    make_wave(session, cohort, instrument, label="T1")
    form = _wave_form(
        instrument, label="", reminder_days="7, soon", opens_at="2027-03-29T09:00", closes_at="2027-03-01T09:00"
    )
    page = researcher.post(f"/cohorts/{cohort.id}/waves/new", data=form).get_data(as_text=True)
    assert "This field is required." in page  # the label
    assert "is not a whole number of days." in page  # the reminder days
    assert "The wave must close after it opens." in page  # the dates
    # a clash found by the service shows together with a form error
    page = researcher.post(
        f"/cohorts/{cohort.id}/waves/new", data=_wave_form(instrument, label="T1", reminder_days="x")
    ).get_data(as_text=True)
    assert "already has a wave labelled &#39;T1&#39;" in page and "is not a whole number of days." in page
    assert len(session.exec(select(Wave)).all()) == 1


def test_the_study_form_shows_every_error_at_once(researcher: FlaskClient, session: Session) -> None:
    make_study(session, slug="taken")
    page = researcher.post("/studies/new", data={"name": "", "slug": "taken", "timezone": "Mars/Olympus"})
    text = page.get_data(as_text=True)
    assert (
        "This field is required." in text and "Another study already uses" in text and "not a known time zone" in text
    )


def test_the_cohort_form_shows_every_error_at_once(researcher: FlaskClient, session: Session) -> None:
    """A description the form refuses and a name the service refuses (taken) both show in one round."""
    study = make_study(session)
    make_cohort(session, study, "Young professionals")
    cohort = make_cohort(session, study, "Alumni")
    too_long = "x" * 5001
    for url in (f"/studies/{study.id}/cohorts/new", f"/cohorts/{cohort.id}/edit"):
        page = researcher.post(
            url, data={"name": "Young professionals", "description": too_long, "linkage": "contact"}
        ).get_data(as_text=True)
        assert "This study already has a cohort called" in page, url
        assert 'field--error" id="field-description"' in page and 'id="description-error"' in page, url
    assert len(session.exec(select(Cohort)).all()) == 2


def test_a_wave_keeps_its_targeted_reminder(researcher: FlaskClient, session: Session, instrument: Instrument) -> None:
    cohort = make_cohort(session, make_study(session))
    form = _wave_form(instrument, targeted_reminder_day="10", targeted_reminder_budget="200")
    assert researcher.post(f"/cohorts/{cohort.id}/waves/new", data=form).status_code == 302
    wave = session.exec(select(Wave)).one()
    assert (wave.targeted_reminder_day, wave.targeted_reminder_budget) == (10, 200)
    page = researcher.get(f"/waves/{wave.id}/edit").get_data(as_text=True)
    assert 'name="targeted_reminder_day" type="number" value="10"' in page.replace(' id="targeted_reminder_day"', "")
