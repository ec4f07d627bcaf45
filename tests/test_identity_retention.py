"""Identities deleted on schedule (issue 20): a study's retention date, set and moved on the study page with
a reason, the notice 30 days before through the outbox, and the scheduler erasing e-mail addresses and names
exactly once on the day, research data and pseudonyms kept. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from studyapp.core.models import (
    Answer,
    AuditEvent,
    ConsentEvent,
    Identity,
    MailboxMessage,
    OutboxMessage,
    Participant,
    Response,
    Study,
)
from studyapp.scheduler import tick
from studyapp.studies import retention
from tests.factories import (
    enrol,
    invite_with_token,
    load_carriere_kompas,
    login,
    make_cohort,
    make_study,
    make_user,
    make_wave,
    privacy_for_tests,
    submit_response,
)
from tests.fieldwork_helpers import send_outbox

# the factories' waves close on 1 March 2027; the identities are kept two years after
UNTIL = date(2029, 3, 1)


def at(day: date, hour: int = 12) -> datetime:
    """Noon (UTC) of ``day``: the same day in Amsterdam."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def study_with_people(session: Session) -> dict:
    """A study with two participants (one answered T1), a reminder waiting and a mailbox copy for one of
    them, a researcher who may see identities, one who may not, and a company contact."""
    study = make_study(session)
    cohort = make_cohort(session, study)
    wave = make_wave(session, cohort, load_carriere_kompas(session))
    anna = enrol(session, cohort, "anna@example.org", name="Anna de Vries")
    bram = enrol(session, cohort, "bram@example.org", name="Bram Jansen")
    invitation, _ = invite_with_token(session, anna, wave)
    submit_response(session, invitation, {"work_status": 1})
    reminder, _ = invite_with_token(session, bram, wave)
    session.add(
        OutboxMessage(
            idempotency_key=f"reminder:{reminder.id}:1",
            kind="reminder",
            invitation_id=reminder.id,
            wave_id=wave.id,
            participant_id=bram.id,
            not_before=datetime(2031, 1, 1, tzinfo=UTC),  # still waiting when the identities go
        )
    )
    session.add(MailboxMessage(message_id="<m1@x>", recipient="bram@example.org", subject="Uitnodiging", raw="..."))
    keeper = make_user(session, email="keeper@example.org", can_view_identities=True)
    make_user(session, email="plain@example.org")
    session.commit()
    return {"study": study, "wave": wave, "anna": anna, "bram": bram, "keeper": keeper}


def _set(session: Session, study: Study, until: date) -> None:
    from studyapp.core.models import User

    user = session.exec(select(User).where(User.email == "keeper@example.org")).one()
    retention.set_retention(session=session, study=study, until=until, reason="", user=user, now=at(date(2027, 4, 1)))
    session.commit()


def _to_keeper(messages: list) -> list:
    """The messages (of those the test SMTP server received) sent to the researcher who may see identities."""
    return [m for m in messages if "<keeper@example.org>" in m["To"]]


# --- the study page -----------------------------------------------------------------------------------


def test_a_researcher_who_may_see_identities_sets_and_moves_the_date_with_a_reason(
    client: FlaskClient, session: Session, study_with_people: dict
) -> None:
    study: Study = study_with_people["study"]
    login(client, "keeper@example.org")
    page = client.get(f"/studies/{study.id}").get_data(as_text=True)
    assert "No day is set" in page and "1 March 2029" in page, "two years after the last wave is suggested"
    assert client.post(f"/studies/{study.id}/retention", data={"until": "2029-03-01"}).status_code == 302
    session.expire_all()
    assert session.get(Study, study.id).identity_retention_until == UNTIL  # type: ignore[union-attr]
    set_event = _events(session, "study.identity_retention_set")
    assert len(set_event) == 1 and set_event[0].detail == {"from": None, "to": "2029-03-01", "reason": ""}
    page = client.get(f"/studies/{study.id}").get_data(as_text=True)
    assert "2 participants are erased on 1 March 2029" in page and "30 January 2029" in page
    # moving it needs a reason; without one nothing changes
    refused = client.post(f"/studies/{study.id}/retention", data={"until": "2030-03-01"}, follow_redirects=True)
    assert "Say why the date moves" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Study, study.id).identity_retention_until == UNTIL  # type: ignore[union-attr]
    reason = "Wave T4 was added: the addresses are needed a year longer."
    client.post(f"/studies/{study.id}/retention", data={"until": "2030-03-01", "reason": reason})
    moved = _events(session, "study.identity_retention_moved")
    assert len(moved) == 1 and moved[0].detail == {"from": "2029-03-01", "to": "2030-03-01", "reason": reason}
    assert moved[0].user_id == study_with_people["keeper"].id


@pytest.mark.parametrize(
    ("until", "message"),
    [
        ("2027-02-15", "Choose a day after the last wave closes (2027-03-01)"),
        ("2020-01-01", "Choose a day after today."),
        ("", "Give the day the identities are erased."),
        ("31-12-2029", "Not a valid date value."),
        ("2029-02-30", "Not a valid date value."),
        ("\x00", "Not a valid date value."),
    ],
)
def test_a_date_that_cannot_be_is_refused_with_a_reason_and_nothing_changes(
    client: FlaskClient, session: Session, study_with_people: dict, until: str, message: str
) -> None:
    study: Study = study_with_people["study"]
    login(client, "keeper@example.org")
    answer = client.post(f"/studies/{study.id}/retention", data={"until": until}, follow_redirects=True)
    assert answer.status_code == 200 and message in answer.get_data(as_text=True)
    session.expire_all()
    assert session.get(Study, study.id).identity_retention_until is None  # type: ignore[union-attr]


def test_a_researcher_without_the_identity_permission_cannot_set_the_date(
    client: FlaskClient, session: Session, study_with_people: dict
) -> None:
    study: Study = study_with_people["study"]
    login(client, "plain@example.org")
    page = client.get(f"/studies/{study.id}").get_data(as_text=True)
    assert "Only a researcher with the identity permission" in page and 'name="until"' not in page
    assert client.post(f"/studies/{study.id}/retention", data={"until": "2029-03-01"}).status_code == 403
    session.expire_all()
    assert session.get(Study, study.id).identity_retention_until is None  # type: ignore[union-attr]


# --- the scheduler --------------------------------------------------------------------------------------


def test_the_notice_goes_out_30_days_before_once_to_those_who_may_see_identities(
    engine: Engine, app, session: Session, study_with_people: dict, smtp_server
) -> None:
    """(The app registers the notice's composer with the dispatcher at start-up, as the scheduler does.)"""
    study: Study = study_with_people["study"]
    _set(session, study, UNTIL)
    assert retention.queue_notices(session, at(date(2029, 1, 29))) == 0, "31 days before: not yet"
    assert retention.queue_notices(session, at(date(2029, 1, 30))) == 1
    session.commit()
    assert retention.queue_notices(session, at(date(2029, 2, 10))) == 0, "once per researcher and date"
    session.commit()
    arrived = _to_keeper(send_outbox(engine, smtp_server))
    assert len(arrived) == 1
    message = arrived[0]
    assert message["To"] == "Keeper <keeper@example.org>"
    body = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Identities of Bridge the Gap are erased on 1 March 2029"
    assert "the e-mail addresses and names of the 2 participants of Bridge the Gap" in " ".join(body.split())
    assert f"/studies/{study.id}" in body
    html = message.get_body(("html",)).get_content()
    assert "<html lang=" in html and "<title>" in html
    assert len(_events(session, "study.identity_retention_notice")) == 1


def test_a_moved_date_is_announced_again_and_the_old_notice_is_not_sent(
    engine: Engine, app, session: Session, study_with_people: dict, smtp_server
) -> None:
    study: Study = study_with_people["study"]
    _set(session, study, UNTIL)
    retention.queue_notices(session, at(date(2029, 2, 1)))
    session.commit()
    study = session.get_one(Study, study.id)
    study.identity_retention_until = date(2030, 3, 1)  # moved (the page's path is tested above)
    session.add(study)
    session.commit()
    assert _to_keeper(send_outbox(engine, smtp_server)) == [], "the notice of the old date says nothing any more"
    assert retention.queue_notices(session, at(date(2030, 1, 30))) == 1
    session.commit()
    assert [m["Subject"] for m in _to_keeper(send_outbox(engine, smtp_server))] == [
        "Identities of Bridge the Gap are erased on 1 March 2030"
    ]


def test_on_the_day_the_scheduler_erases_identities_once_and_keeps_the_research_data(
    engine: Engine, client: FlaskClient, session: Session, study_with_people: dict, settings
) -> None:
    study: Study = study_with_people["study"]
    anna, bram = study_with_people["anna"], study_with_people["bram"]
    _set(session, study, UNTIL)
    answers_before = session.exec(select(func.count()).select_from(Answer)).one()
    tick(engine, name="test:1", now=at(date(2029, 2, 28), hour=22), settings=settings)  # 23:00 in Amsterdam
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Identity)).one() == 2, "the day before: kept"
    tick(engine, name="test:1", now=at(date(2029, 2, 28), hour=23), settings=settings)  # 00:00 on 1 March
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Identity)).one() == 0
    assert session.get_one(Study, study.id).identities_erased_at == at(date(2029, 2, 28), hour=23)
    # research data, pseudonyms and consent evidence stay; what waited to be sent to them and the built-in
    # mailbox's copies go
    assert session.exec(select(func.count()).select_from(Answer)).one() == answers_before > 0
    assert {p.pseudonym for p in session.exec(select(Participant))} == {anna.pseudonym, bram.pseudonym}
    assert session.exec(select(func.count()).select_from(Response)).one() == 1
    assert session.exec(select(func.count()).select_from(ConsentEvent)).one() >= 2
    assert session.exec(select(OutboxMessage).where(OutboxMessage.participant_id == bram.id)).all() == []
    assert session.exec(select(MailboxMessage).where(MailboxMessage.recipient == "bram@example.org")).all() == []
    erased = _events(session, "study.identities_erased")
    assert len(erased) == 1 and erased[0].detail is not None
    assert erased[0].detail["identities"] == 2 and erased[0].detail["pending_messages"] == 1
    assert erased[0].detail["mailbox_messages"] == 1
    tick(engine, name="test:1", now=at(date(2029, 3, 2)), settings=settings)
    assert len(_events(session, "study.identities_erased")) == 1, "exactly once"
    # the study page says so, and nobody can be enrolled or sign up any more
    make_user(session, email="admin@example.org", role="admin", can_view_identities=True)
    login(client, "admin@example.org")
    page = client.get(f"/studies/{study.id}").get_data(as_text=True)
    assert "were erased on 01 Mar 2029, as scheduled" in page and 'name="until"' not in page
    from studyapp.core.errors import NotAllowed
    from studyapp.core.models import Cohort

    with pytest.raises(NotAllowed, match="identities of this study were erased"):
        enrol(session, session.exec(select(Cohort)).one(), "carla@example.org")
    session.rollback()


def test_a_crash_during_the_erasure_leaves_it_whole_for_the_next_tick(
    engine: Engine, session: Session, study_with_people: dict, settings, monkeypatch
) -> None:
    """The claim and the erasure are one transaction: a failure in between erases nothing and claims nothing,
    and the next tick (after a restart: new sessions, nothing kept in memory) does it once."""
    study: Study = study_with_people["study"]
    _set(session, study, UNTIL)
    real_record = retention.audit.record

    def failing(**kwargs):
        if kwargs.get("action") == "study.identities_erased":
            raise RuntimeError("the process was killed here")
        return real_record(**kwargs)

    monkeypatch.setattr(retention.audit, "record", failing)
    tick(engine, name="test:1", now=at(UNTIL), settings=settings)
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Identity)).one() == 2
    assert session.get_one(Study, study.id).identities_erased_at is None
    monkeypatch.setattr(retention.audit, "record", real_record)
    with Session(engine) as fresh:
        erased = retention.erase_due(fresh, at(UNTIL, hour=13), privacy_for_tests())
        fresh.commit()
    assert [e.identities for e in erased] == [2]
    with Session(engine) as again:
        assert retention.erase_due(again, at(UNTIL, hour=14), privacy_for_tests()) == []
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Identity)).one() == 0
    assert len(_events(session, "study.identities_erased")) == 1


def test_an_enrolment_list_for_a_study_whose_identities_are_gone_is_refused_whole(
    session: Session, study_with_people: dict
) -> None:
    from studyapp.core.tabular import Row, Table
    from studyapp.participants.enrolment import plan_enrolment

    study = session.get_one(Study, study_with_people["study"].id)
    study.identities_erased_at = at(date(2029, 3, 1))
    session.add(study)
    session.commit()
    plan = plan_enrolment(
        session=session,
        privacy=privacy_for_tests(),
        study=study,
        table=Table(
            columns=["email", "cohort"], rows=[Row(2, {"email": "carla@example.org", "cohort": "Final-year students"})]
        ),
    )
    assert not plan.new and "were erased on 2029-03-01" in plan.problems[0].message
