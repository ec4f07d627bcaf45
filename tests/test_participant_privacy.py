"""Identities seen only with permission and audited; participants manage mail, withdrawal, erasure."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.core.models import (
    Answer,
    AuditEvent,
    Cohort,
    ConsentEvent,
    Identity,
    Instrument,
    Invitation,
    OutboxMessage,
    Participant,
    Response,
    Study,
    Wave,
)
from tests.factories import (
    enrol,
    invite_with_token,
    login,
    make_cohort,
    make_instrument,
    make_study,
    make_user,
    make_wave,
    privacy_for_tests,
    submit_response,
)


@pytest.fixture
def wave(session: Session) -> Wave:
    return make_wave(session, make_cohort(session, make_study(session)), make_instrument(session))


@pytest.fixture
def ana(session: Session, wave: Wave) -> Participant:
    return enrol(
        session,
        session.get(Cohort, wave.cohort_id),
        "ana@student.ut.nl",
        name="Ana Jansen",
        language="en",
        keep_data=True,
    )


def test_identity_needs_permission_and_is_audited(client: FlaskClient, session: Session, ana: Participant) -> None:
    make_user(session, email="plain@example.org")
    make_user(session, email="trusted@example.org", can_view_identities=True)
    login(client, email="plain@example.org")
    page = client.get(f"/participants/{ana.id}?identity=1").get_data(as_text=True)
    assert "ana@student.ut.nl" not in page and "does not have the identity permission" in page
    study_id = session.get(Cohort, ana.cohort_id).study_id
    listing = client.get(f"/studies/{study_id}/participants?identities=1").get_data(as_text=True)
    assert ana.pseudonym in listing and "ana@student.ut.nl" not in listing
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "identity.viewed")).all() == []
    client.post("/logout")

    login(client, email="trusted@example.org")
    assert "ana@student.ut.nl" not in client.get(f"/participants/{ana.id}").get_data(as_text=True)
    page = client.get(f"/participants/{ana.id}?identity=1").get_data(as_text=True)
    assert "ana@student.ut.nl" in page and "Ana Jansen" in page
    listing = client.get(f"/studies/{study_id}/participants?identities=1").get_data(as_text=True)
    assert "ana@student.ut.nl" in listing
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "identity.viewed")).all()
    assert [e.actor for e in events] == ["trusted@example.org"] * 2
    assert {e.detail["purpose"] for e in events} == {"participant detail", "participant list"}
    assert all("ana@" not in str(e.detail) for e in events)


def test_researcher_changes_address_and_pseudonym_stays(
    client: FlaskClient, session: Session, ana: Participant
) -> None:
    make_user(session, can_view_identities=True)
    login(client)
    before = ana.pseudonym
    client.post(f"/participants/{ana.id}/email", data={"email": "ana.jansen@gmail.com"})
    identity = session.exec(select(Identity)).one()
    session.refresh(identity)
    assert privacy_for_tests().decrypt(identity.email_encrypted) == "ana.jansen@gmail.com"
    session.refresh(ana)
    assert ana.pseudonym == before
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "identity.email_changed")).one()


def test_participant_changes_address_through_personal_link(
    client: FlaskClient, session: Session, ana: Participant, wave: Wave
) -> None:
    _invitation, token = invite_with_token(session, ana, wave)
    page = client.get(f"/p/{token}/privacy").get_data(as_text=True)
    assert "Your participation and data" in page  # the identity's language is English
    assert "Je deelname" not in page
    bad = client.post(f"/p/{token}/email", data={"email": "not an address"})
    assert "Enter a valid e-mail address." in bad.get_data(as_text=True)
    response = client.post(f"/p/{token}/email", data={"email": "ana@gmail.com"}, follow_redirects=True)
    assert "Your e-mail address has been changed." in response.get_data(as_text=True)
    identity = session.exec(select(Identity)).one()
    session.refresh(identity)
    assert privacy_for_tests().decrypt(identity.email_encrypted) == "ana@gmail.com"
    assert "Jouw deelname" in client.get(f"/p/{token}/privacy?lang=nl").get_data(as_text=True)


def test_stop_mail_through_link(client: FlaskClient, session: Session, ana: Participant, wave: Wave) -> None:
    invitation, token = invite_with_token(session, ana, wave)
    session.add(
        OutboxMessage(
            idempotency_key="reminder-1",
            kind="reminder",
            participant_id=ana.id,
            invitation_id=invitation.id,
            wave_id=invitation.wave_id,
        )
    )
    session.commit()
    confirm = client.get(f"/p/{token}/stop").get_data(as_text=True)
    assert "You will get no more invitations or reminders" in confirm
    client.post(f"/p/{token}/stop", follow_redirects=True)
    session.refresh(ana)
    assert ana.status == "unsubscribed"
    assert session.exec(select(OutboxMessage)).all() == [], "the pending reminder is cancelled"
    event = session.exec(select(ConsentEvent).where(ConsentEvent.kind == "mail_stopped")).one()
    assert event.actor == "participant"


def test_withdraw_keeps_answers_when_consent_allows(
    client: FlaskClient, session: Session, ana: Participant, wave: Wave
) -> None:
    invitation, token = invite_with_token(session, ana, wave)
    submit_response(session, invitation, {"cc_1": 3, "cc_2": 1})
    page = client.get(f"/p/{token}/withdraw").get_data(as_text=True)
    assert "your earlier answers are kept under your pseudonym" in page
    client.post(f"/p/{token}/withdraw")
    session.refresh(ana)
    assert ana.status == "withdrawn"
    assert len(session.exec(select(Answer)).all()) == 2


def test_withdraw_deletes_answers_without_that_consent(client: FlaskClient, session: Session, wave: Wave) -> None:
    bram = enrol(session, session.get(Cohort, wave.cohort_id), "bram@ut.nl", keep_data=False)
    invitation, token = invite_with_token(session, bram, wave)
    submit_response(session, invitation, {"cc_1": 2})
    assert "worden je eerdere antwoorden verwijderd" in client.get(f"/p/{token}/withdraw").get_data(as_text=True)
    client.post(f"/p/{token}/withdraw")
    assert session.exec(select(Answer)).all() == [] and session.exec(select(Response)).all() == []


def test_erasure_through_link_deletes_identity_and_link_stops_working(
    client: FlaskClient, session: Session, ana: Participant, wave: Wave
) -> None:
    invitation, token = invite_with_token(session, ana, wave)
    submit_response(session, invitation, {"cc_1": 3})
    response = client.post(f"/p/{token}/erase")
    assert "Your data have been erased." in response.get_data(as_text=True)
    session.refresh(ana)
    assert ana.status == "erased"
    assert session.exec(select(Identity)).all() == []
    assert len(session.exec(select(Answer)).all()) == 1, "kept pseudonymously, as consented"
    gone = client.get(f"/p/{token}/privacy")
    assert gone.status_code == 404
    assert "Deze link werkt niet" in gone.get_data(as_text=True)  # no identity left: the default language
    kinds = [e.kind for e in session.exec(select(ConsentEvent).order_by(ConsentEvent.id))]
    assert kinds == ["consent_given", "erasure_requested", "erased"]


def test_researcher_erases_without_keep_consent(client: FlaskClient, session: Session, wave: Wave) -> None:
    bram = enrol(session, session.get(Cohort, wave.cohort_id), "bram@ut.nl", keep_data=False)
    bram.frame = {"institution": "wo", "gender": "man"}  # research data too: goes with the answers
    session.add(bram)
    session.commit()
    invitation, _ = invite_with_token(session, bram, wave)
    submit_response(session, invitation, {"cc_1": 2, "cc_2": 2})
    make_user(session)
    login(client)
    page = client.get(f"/participants/{bram.id}").get_data(as_text=True)
    response = client.post(
        f"/participants/{bram.id}/erase",
        data={"note": "request by e-mail, ref 17", "csrf_token": "x"},
        follow_redirects=True,
    )
    assert "Identity erased." in response.get_data(as_text=True)
    assert session.exec(select(Identity)).all() == []
    assert session.exec(select(Answer)).all() == [] and session.exec(select(Invitation)).all() == []
    session.refresh(bram)
    assert bram.frame == {}
    event = session.exec(select(ConsentEvent).where(ConsentEvent.kind == "erasure_requested")).one()
    assert event.note == "request by e-mail, ref 17" and event.actor == "researcher"
    assert "Erase identity" in page


def test_unknown_link_is_a_clear_page(client: FlaskClient) -> None:
    response = client.get("/p/not-a-real-token/privacy")
    assert response.status_code == 404
    assert "Deze link werkt niet" in response.get_data(as_text=True)


def test_cli_withdraw_and_erase(app, runner, session: Session, ana: Participant, wave: Wave) -> None:
    invitation, _ = invite_with_token(session, ana, wave)
    submit_response(session, invitation, {"cc_1": 1})
    result = runner.invoke(args=["participants", "leave", ana.pseudonym, "--how", "withdraw"])
    assert result.exit_code == 0 and "Answers kept under the pseudonym." in result.output
    result = runner.invoke(args=["participants", "leave", ana.pseudonym, "--how", "erase", "--note", "ref 9"])
    assert "Identity erased; answers kept under the pseudonym." in result.output
    assert session.exec(select(Identity)).all() == []
    result = runner.invoke(args=["participants", "leave", "PNOSUCH", "--how", "erase"])
    assert result.exit_code != 0 and "No participant with pseudonym" in result.output


def test_simulated_participants_offer_no_contact_details(client: FlaskClient, session: Session, wave: Wave) -> None:
    """A simulated participant has no identity: 'Show contact details' led nowhere (and was audit-logged)."""
    from studyapp.synthetic_cohort import store_synthetic_cohort

    study_id = session.get(Cohort, wave.cohort_id).study_id
    simulated = make_cohort(session, session.get(Study, study_id), "Alumni (simulated data)")
    simulated_wave = make_wave(session, simulated, session.get(Instrument, wave.instrument_id), label="S1")
    store_synthetic_cohort(session=session, cohort=simulated, waves=[simulated_wave], n=5, random_state=1)
    session.commit()
    person = session.exec(select(Participant).where(Participant.cohort_id == simulated.id)).first()
    make_user(session, email="trusted@example.org", can_view_identities=True)
    login(client, email="trusted@example.org")
    page = client.get(f"/participants/{person.id}").get_data(as_text=True)
    assert "Show contact details" not in page and "No contact details are stored for this participant" in page
    asked = client.get(f"/participants/{person.id}?identity=1").get_data(as_text=True)
    assert "No contact details are stored for this participant" in asked
    listing = client.get(f"/studies/{study_id}/participants?cohort={simulated.id}").get_data(as_text=True)
    assert person.pseudonym in listing and "Show e-mail addresses" not in listing
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "identity.viewed")).all() == []
