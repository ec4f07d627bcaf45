"""Fieldwork through its real entry points: admin pages, personal links, the scheduler tick, SMTP."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.core.models import Invitation, InvitationToken, MailboxMessage, OutboxMessage, Participant, Wave
from studyapp.participants import consent
from studyapp.scheduler import tick
from studyapp.settings import load_settings
from tests.factories import login, make_study, make_user, privacy_for_tests
from tests.fieldwork_helpers import CONFIG, outbox_with
from waves.dispatcher import dispatch
from waves.messages import message_id_for
from waves.planner import invitation_key, plan_due
from waves.transport import SmtpTransport

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def researcher(client: FlaskClient, session: Session) -> FlaskClient:
    make_user(session)
    login(client)
    return client


def _send(engine, smtp_server, now: datetime | None = None):
    now = now or datetime.now(UTC) + timedelta(seconds=1)
    transport = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    try:
        return dispatch(
            engine=engine, privacy=privacy_for_tests(), transport=transport, config=CONFIG, worker="t", now=now
        )
    finally:
        transport.close()


def _link(message) -> str:
    return re.search(
        r"https://study\.example\.org(/p/[A-Za-z0-9_-]+)\n", message.get_body(("plain",)).get_content()
    ).group(1)


def test_messages_are_multipart_with_unsubscribe_and_derived_message_id(engine, session: Session, smtp_server) -> None:
    outbox_with(session, 2, now=NOW)
    _send(engine, smtp_server)
    (_, message), _ = smtp_server.handler_obj.messages
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    participant = session.exec(select(Participant).order_by(Participant.id)).first()
    wave = session.exec(select(Wave)).one()
    assert message["Message-ID"] == message_id_for(invitation_key(participant.id, wave.id), CONFIG.sender)
    assert message["List-Unsubscribe"].startswith("<https://study.example.org/p/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Open the questionnaire" in message.get_body(("html",)).get_content()


def test_tokens_are_random_and_only_hashed(engine, session: Session, smtp_server, client: FlaskClient) -> None:
    outbox_with(session, 1, now=NOW)
    _send(engine, smtp_server)
    ((_, message),) = smtp_server.handler_obj.messages
    token = _link(message).split("/")[-1]
    assert len(token) >= 22, "at least 128 bits"
    stored = session.exec(select(InvitationToken)).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    page = client.get(f"/p/{token}")
    assert page.status_code == 200 and "Welcome to wave T1" in page.get_data(as_text=True)
    invitation = session.exec(select(Invitation)).one()
    session.refresh(invitation)
    assert invitation.state == "opened" and invitation.opened_at is not None


def test_link_stops_working_when_the_wave_closes(engine, session: Session, smtp_server, client: FlaskClient) -> None:
    outbox_with(session, 1, now=NOW)
    _send(engine, smtp_server)
    ((_, message),) = smtp_server.handler_obj.messages
    invitation = session.exec(select(Invitation)).one()
    invitation.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    session.add(invitation)
    session.commit()
    page = client.get(_link(message))
    assert page.status_code == 410 and "This wave has closed" in page.get_data(as_text=True)


def test_one_click_unsubscribe_needs_no_form(engine, session: Session, smtp_server, client: FlaskClient) -> None:
    from studyapp.app import create_app

    outbox_with(session, 1, now=NOW)
    _send(engine, smtp_server)
    ((_, message),) = smtp_server.handler_obj.messages
    url = message["List-Unsubscribe"].strip("<>").replace("https://study.example.org", "")
    csrf_client = create_app(
        {"TESTING": True, "ENGINE": engine}, settings=load_settings({}, scheduler_enabled=False)
    ).test_client()
    assert csrf_client.post(url).status_code == 204
    assert session.exec(select(Participant)).one().status == "unsubscribed"


def test_edited_template_reaches_messages_not_yet_sent(
    researcher: FlaskClient,
    engine,
    session: Session,
    smtp_server,
) -> None:
    study = outbox_with(session, 3, now=NOW)
    url = f"/studies/{study.id}/messages/invitation/en"
    page = researcher.get(url).get_data(as_text=True)
    assert "Invitation: {study} – wave {wave}" in page and "Preview" in page
    bad = researcher.post(url, data={"subject": "Hi {nam}", "body": "Go: {link}", "action": "save"})
    assert "Unknown placeholder {nam}" in bad.get_data(as_text=True)
    missing = researcher.post(url, data={"subject": "Hi", "body": "No link here", "action": "save"})
    assert "must contain {link}" in missing.get_data(as_text=True)
    preview = researcher.post(
        url, data={"subject": "Wave {wave} of {study}", "body": "Dear {name}, {link}", "action": "preview"}
    ).get_data(as_text=True)
    assert "Wave T2 of Bridge the Gap" in preview
    researcher.post(
        url,
        data={
            "subject": "Your turn, {name}: wave {wave}",
            "body": "Please answer: {link}\n\n{stop_link}",
            "action": "save",
        },
    )
    _send(engine, smtp_server)
    subjects = {m["Subject"] for _, m in smtp_server.handler_obj.messages}
    assert subjects == {"Your turn, participant: wave T1"}


def test_test_message_to_myself(researcher: FlaskClient, engine, session: Session, smtp_server) -> None:
    study = make_study(session)
    response = researcher.post(
        f"/studies/{study.id}/test-message", data={"kind": "reminder", "language": "nl"}, follow_redirects=True
    )
    assert "goes out with the next scheduler tick" in response.get_data(as_text=True)
    _send(engine, smtp_server)
    ((_, message),) = smtp_server.handler_obj.messages
    assert message["To"].addresses[0].addr_spec == "researcher@example.org"
    assert message["Subject"].startswith("[TEST] Herinnering: Bridge the Gap")


def test_pause_holds_everything_and_resume_releases_it(
    researcher: FlaskClient,
    engine,
    session: Session,
    smtp_server,
) -> None:
    study = outbox_with(session, 5, now=NOW)
    wave = session.exec(select(Wave)).one()
    researcher.post(f"/waves/{wave.id}/pause")
    assert _send(engine, smtp_server).sent == 0
    assert "Paused" in researcher.get(f"/studies/{study.id}/fieldwork").get_data(as_text=True)
    researcher.post(f"/waves/{wave.id}/resume")
    assert _send(engine, smtp_server).sent == 5


def test_resend_to_one_participant(
    researcher: FlaskClient,
    engine,
    session: Session,
    smtp_server,
    client: FlaskClient,
) -> None:
    outbox_with(session, 2, now=NOW)
    _send(engine, smtp_server)
    invitation = session.exec(select(Invitation).order_by(Invitation.id)).first()
    response = researcher.post(f"/invitations/{invitation.id}/resend", follow_redirects=True)
    assert "goes out again" in response.get_data(as_text=True)
    _send(engine, smtp_server)
    messages = smtp_server.handler_obj.messages
    assert len(messages) == 3 and len({m["Message-ID"] for _, m in messages}) == 3
    first, again = [
        m for _, m in messages if m["To"].addresses[0].addr_spec == messages[0][1]["To"].addresses[0].addr_spec
    ]
    assert _link(first) != _link(again)
    assert client.get(_link(first)).status_code == 200 and client.get(_link(again)).status_code == 200


def test_nobody_who_left_or_completed_gets_more(engine, session: Session, smtp_server) -> None:
    outbox_with(session, 4, now=NOW)
    _send(engine, smtp_server)
    people = session.exec(select(Participant).order_by(Participant.id)).all()
    consent.withdraw(session=session, participant=people[0], actor="participant")
    consent.stop_mail(session=session, participant=people[1], actor="participant")
    completed = session.exec(select(Invitation).where(Invitation.participant_id == people[2].id)).one()
    completed.state = "completed"
    session.add(completed)
    session.commit()
    later = NOW + timedelta(days=7, hours=1)
    plan = plan_due(session=session, now=later)
    assert plan.reminders == 1
    _send(engine, smtp_server, later)
    reminded = [
        m["To"].addresses[0].addr_spec
        for _, m in smtp_server.handler_obj.messages
        if m["Subject"].startswith("Reminder")
    ]
    assert reminded == ["p00003@example.org"]


def test_edited_reminder_days_apply_to_reminders_not_yet_planned(engine, session: Session) -> None:
    outbox_with(session, 3, now=NOW)
    for invitation in session.exec(select(Invitation)):
        invitation.state = "sent"
        session.add(invitation)
    wave = session.exec(select(Wave)).one()
    wave.reminder_days = [3]
    session.add(wave)
    session.commit()
    assert plan_due(session=session, now=NOW + timedelta(days=3, hours=1)).reminders == 3
    keys = {row.idempotency_key for row in session.exec(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))}
    assert all(key.endswith(":d3") for key in keys)


def test_without_smtp_the_mailbox_catches_mail_and_its_link_works(
    researcher: FlaskClient,
    engine,
    session: Session,
    client: FlaskClient,
) -> None:
    outbox_with(session, 2, now=NOW)
    tick(engine, name="host:1", now=NOW, settings=load_settings({}, scheduler_enabled=False))
    stored = session.exec(select(MailboxMessage)).all()
    assert len(stored) == 2
    assert researcher.get("/mailbox").status_code == 403  # it shows addresses: the identity permission is needed
    from studyapp.core.models import User

    user = session.exec(select(User)).one()
    user.can_view_identities = True
    session.add(user)
    session.commit()
    page = researcher.get("/mailbox").get_data(as_text=True)
    assert "Invitation: Bridge the Gap" in page
    detail = researcher.get(f"/mailbox/{stored[0].id}").get_data(as_text=True)
    assert "List-Unsubscribe" in detail and "Open the questionnaire" in detail
    link = re.search(r"http://127\.0\.0\.1:5000(/p/[A-Za-z0-9_-]+)\n", detail).group(1)
    assert "Welcome to wave T1" in client.get(link).get_data(as_text=True)


def test_tokens_drawn_together_look_like_single_ones_and_never_repeat() -> None:
    from studyapp.core.links import TOKEN_BYTES, new_token, new_tokens, token_hash

    single, _ = new_token()
    drawn = new_tokens(5000)
    assert len({token for token, _ in drawn}) == 5000 and new_tokens(0) == []
    for token, digest in drawn:
        assert len(token) == len(single) == 32 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
        assert digest == token_hash(token)
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == TOKEN_BYTES
