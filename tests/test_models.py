"""The database keeps data sound: uniqueness, checks, delete rules, UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, select

from studyapp.core.models import (
    Answer,
    Cohort,
    Facet,
    Identity,
    Instrument,
    Invitation,
    Item,
    OutboxMessage,
    Participant,
    Response,
    User,
    Wave,
)
from tests.factories import (
    make_cohort,
    make_instrument,
    make_organisation,
    make_participant,
    make_study,
    make_wave,
)


def _fails(session: Session, *objects: object) -> None:
    session.add_all(objects)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


@pytest.fixture
def wave(session: Session) -> Wave:
    study = make_study(session)
    return make_wave(session, make_cohort(session, study), make_instrument(session))


def test_one_invitation_per_participant_and_wave(session: Session, wave: Wave) -> None:
    cohort = session.get(Cohort, wave.cohort_id)
    participant = make_participant(session, cohort)
    session.add(Invitation(participant_id=participant.id, wave_id=wave.id))
    session.commit()
    _fails(session, Invitation(participant_id=participant.id, wave_id=wave.id))


def test_pseudonyms_are_unique(session: Session, wave: Wave) -> None:
    cohort = session.get(Cohort, wave.cohort_id)
    make_participant(session, cohort, "P-1")
    _fails(session, Participant(pseudonym="P-1", cohort_id=cohort.id))


def test_wave_must_close_after_it_opens(session: Session, wave: Wave) -> None:
    opens = datetime(2027, 5, 1, tzinfo=UTC)
    _fails(
        session,
        Wave(
            cohort_id=wave.cohort_id,
            position=2,
            label="T2",
            instrument_id=wave.instrument_id,
            schedule="on_date",
            opens_at=opens,
            closes_at=opens - timedelta(days=1),
        ),
    )


def test_wave_offsets_cannot_be_negative(session: Session, wave: Wave) -> None:
    _fails(
        session,
        Wave(
            cohort_id=wave.cohort_id,
            position=2,
            label="T2",
            instrument_id=wave.instrument_id,
            schedule="after_enrolment",
            offset_days=-1,
            window_days=14,
        ),
    )


def test_wave_schedule_kind_is_checked(session: Session, wave: Wave) -> None:
    _fails(
        session,
        Wave(
            cohort_id=wave.cohort_id,
            position=2,
            label="T2",
            instrument_id=wave.instrument_id,
            schedule="whenever",
            offset_days=1,
            window_days=14,
        ),
    )


def test_participant_status_is_checked(session: Session, wave: Wave) -> None:
    _fails(session, Participant(pseudonym="P-x", cohort_id=wave.cohort_id, status="sleeping"))


def test_company_contact_needs_organisation(session: Session) -> None:
    _fails(session, User(email="c@example.org", name="C", password_hash="x", role="company_contact"))
    organisation = make_organisation(session)
    session.add(
        User(
            email="c@example.org",
            name="C",
            password_hash="x",
            role="company_contact",
            organisation_id=organisation.id,
        )
    )
    session.commit()


def test_outbox_message_needs_recipient_and_unique_key(session: Session, wave: Wave) -> None:
    _fails(session, OutboxMessage(idempotency_key="k1", kind="invitation"))
    participant = make_participant(session, session.get(Cohort, wave.cohort_id))
    session.add(OutboxMessage(idempotency_key="k1", kind="invitation", participant_id=participant.id))
    session.commit()
    _fails(session, OutboxMessage(idempotency_key="k1", kind="reminder", participant_id=participant.id))


def test_cohort_with_participants_cannot_be_deleted(session: Session, wave: Wave) -> None:
    cohort = session.get(Cohort, wave.cohort_id)
    make_participant(session, cohort)
    session.delete(cohort)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_wave_with_invitations_cannot_be_deleted(session: Session, wave: Wave) -> None:
    participant = make_participant(session, session.get(Cohort, wave.cohort_id))
    session.add(Invitation(participant_id=participant.id, wave_id=wave.id))
    session.commit()
    session.delete(wave)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_identity_goes_with_participant_and_answers_with_response(session: Session, wave: Wave) -> None:
    participant = make_participant(session, session.get(Cohort, wave.cohort_id))
    session.add(Identity(participant_id=participant.id, email_encrypted="x", email_hash="h"))
    invitation = Invitation(participant_id=participant.id, wave_id=wave.id)
    session.add(invitation)
    session.commit()
    response = Response(invitation_id=invitation.id)
    session.add(response)
    session.commit()
    item = session.exec(select(Item)).first()
    session.add(Answer(response_id=response.id, item_id=item.id, value_number=2))
    session.commit()
    _fails(session, Answer(response_id=response.id, item_id=item.id, value_number=3))

    session.delete(response)
    session.commit()
    assert session.exec(select(Answer)).all() == []
    session.delete(invitation)
    session.delete(participant)
    session.commit()
    assert session.exec(select(Identity)).all() == []


def test_deleting_an_instrument_takes_its_items_but_not_while_a_wave_uses_it(session: Session) -> None:
    instrument = make_instrument(session)
    assert len(session.exec(select(Item).where(Item.instrument_id == instrument.id)).all()) == 2
    session.delete(instrument)
    session.commit()
    assert session.exec(select(Item)).all() == []
    assert session.exec(select(Facet)).all() == []

    study = make_study(session)
    instrument = make_instrument(session)
    make_wave(session, make_cohort(session, study), instrument)
    session.delete(session.get(Instrument, instrument.id))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_timestamps_round_trip_as_aware_utc(session: Session, wave: Wave) -> None:
    amsterdam_summer = datetime(2027, 7, 1, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    wave_id = wave.id
    wave.opens_at = amsterdam_summer
    wave.closes_at = amsterdam_summer + timedelta(days=28)
    session.add(wave)
    session.commit()
    session.expunge_all()
    stored = session.get(Wave, wave_id)
    assert stored.opens_at == datetime(2027, 7, 1, 7, 0, tzinfo=UTC)
    assert stored.opens_at.utcoffset() == timedelta(0)
    assert stored.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(session: Session, wave: Wave) -> None:
    wave.opens_at = datetime(2027, 7, 1, 9, 0)
    session.add(wave)
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()
    session.rollback()
