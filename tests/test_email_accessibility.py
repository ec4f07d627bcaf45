"""E-mails a screen reader can read: the HTML part of every kind states its language and has a title.

The messages are composed the way the dispatcher composes them and sent to a real SMTP server.
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

from sqlmodel import Session, select

from studyapp.accounts.management import invite_user, request_password_reset
from studyapp.core.models import Cohort
from studyapp.settings import DEV_SECRET_KEY
from tests.factories import enrol, make_user, privacy_for_tests
from tests.fieldwork_helpers import CONFIG, NOW, outbox_with, send_outbox
from waves.tick import run_tick
from waves.transport import SmtpTransport


class _Head(HTMLParser):
    """The ``lang`` of ``<html>`` and the text of ``<title>``."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def head_of(message) -> _Head:
    """The parsed head of a received message's HTML part."""
    parser = _Head()
    parser.feed(message.get_body(("html",)).get_content())
    return parser


def test_invitations_and_reminders_state_their_language_and_have_a_title(engine, session: Session, smtp_server):
    outbox_with(session, 1, emails=["bob@example.org"])  # in English
    enrol(session, session.exec(select(Cohort)).one(), "ans@example.org", language="nl")
    transport = SmtpTransport(host="127.0.0.1", port=smtp_server.port)
    try:
        for moment in (NOW, NOW + timedelta(days=8)):  # the invitations, then the day-7 reminders
            run_tick(
                engine=engine, privacy=privacy_for_tests(), transport=transport, config=CONFIG, now=moment, worker="t"
            )
    finally:
        transport.close()
    received = [message for _, message in smtp_server.handler_obj.messages]
    assert len(received) == 4
    for message in received:
        head = head_of(message)
        expected = "nl" if message["Subject"].startswith(("Uitnodiging", "Herinnering")) else "en"
        assert head.lang == expected, f"{message['Subject']}: <html lang={head.lang!r}>"
        assert head.title == message["Subject"]
        assert message["Content-Language"] == expected
    assert {head_of(m).lang for m in received} == {"nl", "en"}


def test_account_emails_state_their_language_and_have_a_title(app, engine, session: Session, smtp_server):
    admin = make_user(session, email="admin@example.org", role="admin")
    invite_user(
        session=session,
        admin=admin,
        email="new@example.org",
        name="New",
        role="researcher",
        language="en",
        secret_key=DEV_SECRET_KEY,
    )
    reset = make_user(session, email="old@example.org", language="nl")
    request_password_reset(session=session, admin=admin, user=reset, secret_key=DEV_SECRET_KEY)
    session.commit()
    received = send_outbox(engine, smtp_server)
    assert len(received) == 2
    for message in received:
        head = head_of(message)
        assert head.lang in {"nl", "en"} and head.title == message["Subject"]
        assert head.lang == message["Content-Language"]
    assert {head_of(m).lang for m in received} == {"nl", "en"}
