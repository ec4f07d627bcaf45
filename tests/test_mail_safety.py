"""What reaches the mail relay: no input forms a header, and one bad message never holds up the others.

A real SMTP server (aiosmtpd) receives everything, with and without SMTPUTF8. Names and addresses are
written into the database directly where entry validation would refuse them, as data from before that
validation (or from a database restore) would be.
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from email import headerregistry, message_from_bytes, message_from_string, policy

import pytest
from cryptography.fernet import Fernet
from email_validator import EmailNotValidError, validate_email
from flask.testing import FlaskClient
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from studyapp.core.models import Identity, Invitation, MailboxMessage, OutboxMessage, Participant
from studyapp.core.privacy import Privacy
from tests.factories import login, make_user, privacy_for_tests
from tests.fieldwork_helpers import CONFIG, NOW, outbox_with
from waves.dispatcher import dispatch
from waves.messages import (
    PLACEHOLDERS,
    AddressError,
    Mailbox,
    RenderedMessage,
    TemplateError,
    build_email,
    check_template,
    mailbox,
    one_line,
    render,
)
from waves.transport import MailboxTransport, SmtpTransport, Transport

INJECTED_NAMES = [
    "Bob\r\nReply-To: attacker@evil.example",
    "Bob\r\nContent-Type: text/html\r\n\r\n<h1>Win a prize</h1>",
    "Bob\nBcc: attacker@evil.example",
    "Bob\rBcc: attacker@evil.example",
    "Bob\x00Bcc: attacker@evil.example",
    "Bob\u2028Bcc: attacker@evil.example",
    "Bob\x85Bcc: attacker@evil.example",
]


def _set_identity(session: Session, email: str, *, name: str | None = None, new_email: str | None = None) -> None:
    privacy = privacy_for_tests()
    identity = session.exec(select(Identity).where(Identity.email_hash == privacy.email_hash(email))).one()
    if name is not None:
        identity.name_encrypted = privacy.encrypt(name)
    if new_email is not None:
        identity.email_encrypted = privacy.encrypt(new_email)
    session.add(identity)
    session.commit()


def _send(engine, transport: Transport, **kwargs):
    try:
        return dispatch(
            engine=engine,
            privacy=privacy_for_tests(),
            transport=transport,
            config=CONFIG,
            worker="t",
            now=NOW,
            **kwargs,
        )
    finally:
        transport.close()


def _smtp(server) -> SmtpTransport:
    return SmtpTransport(host="127.0.0.1", port=server.port)


def _header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    return [line.split(":", 1)[0] for line in head.split("\r\n") if line and not line[0].isspace()]


@pytest.mark.parametrize("name", INJECTED_NAMES, ids=range(len(INJECTED_NAMES)))
def test_a_name_with_line_breaks_or_nul_never_forms_a_header(engine, session: Session, smtp_server, name) -> None:
    outbox_with(session, 3)
    _set_identity(session, "p00001@example.org", name=name)
    report = _send(engine, _smtp(smtp_server))
    assert report.sent == 3 and report.failed == 0
    handler = smtp_server.handler_obj
    by_recipient = {rcpts[0]: raw for (_, raw), (_, rcpts, _) in zip(handler.raw, handler.envelopes, strict=True)}
    raw = by_recipient["p00001@example.org"]
    assert sorted(_header_names(raw)) == sorted(_header_names(by_recipient["p00000@example.org"]))
    assert b"\x00" not in raw
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Reply-To"] is None and message["Bcc"] is None
    assert message.get_content_type() == "multipart/alternative"
    (to,) = message["To"].addresses
    assert to.addr_spec == "p00001@example.org"
    assert to.display_name.startswith("Bob ") and "\r" not in to.display_name and "\n" not in to.display_name
    assert not message.defects


def test_a_study_name_with_line_breaks_never_forms_a_header_through_the_subject(
    engine, session: Session, smtp_server
) -> None:
    study = outbox_with(session, 1)
    study.name = "Bridge the Gap\r\nBcc: attacker@evil.example\r\nX-Spam: no"
    session.add(study)
    session.commit()
    assert _send(engine, _smtp(smtp_server)).sent == 1
    ((_, raw),) = smtp_server.handler_obj.raw
    expected = ["From", "To", "Subject", "Message-ID", "Date", "MIME-Version", "Content-Type", "Content-Language"]
    expected.append("List-Unsubscribe")
    assert sorted(_header_names(raw)) == sorted([*expected, "List-Unsubscribe-Post"])
    message = message_from_bytes(raw, policy=policy.default)
    assert "Bridge the Gap Bcc: attacker@evil.example X-Spam: no" in message["Subject"]


def test_an_international_address_goes_out_with_smtputf8_when_the_server_offers_it(
    engine, session: Session, smtputf8_server
) -> None:
    outbox_with(session, 0, emails=["ana@example.org", "zoë@example.org", "bram@example.org"])
    _set_identity(session, "zoë@example.org", name="Zoë de Vries")
    report = _send(engine, _smtp(smtputf8_server))
    assert (report.sent, report.failed) == (3, 0)
    handler = smtputf8_server.handler_obj
    (zoe,) = [i for i, (_, rcpts, _) in enumerate(handler.envelopes) if rcpts == ["zoë@example.org"]]
    assert "SMTPUTF8" in [option.upper() for option in handler.envelopes[zoe][2]]
    message = message_from_string(handler.raw[zoe][1].decode("utf-8"), policy=policy.SMTPUTF8)
    (to,) = message["To"].addresses
    assert (to.addr_spec, to.display_name) == ("zoë@example.org", "Zoë de Vries")
    others = [options for i, (_, _, options) in enumerate(handler.envelopes) if i != zoe]
    assert all("SMTPUTF8" not in [o.upper() for o in options] for options in others), "ASCII mail stays plain"


def test_an_international_address_fails_alone_when_the_server_has_no_smtputf8(
    engine, session: Session, smtp_server, client: FlaskClient
) -> None:
    emails = [f"p{i:05d}@example.org" for i in range(120)]
    emails.insert(3, "zoë@example.org")  # early in the first batch: before the fix it stalled the rest
    study = outbox_with(session, 0, emails=emails)
    report = _send(engine, _smtp(smtp_server))
    assert (report.sent, report.failed, report.stopped_early) == (120, 1, "")
    assert sorted(rcpts[0] for _, rcpts, _ in smtp_server.handler_obj.envelopes) == sorted(emails[:3] + emails[4:])
    rows = session.exec(select(OutboxMessage)).all()
    assert {row.status for row in rows} == {"sent", "failed"}, "nothing is left claimed"
    failed = next(row for row in rows if row.status == "failed")
    assert "SMTPUTF8" in failed.last_error and "international" in failed.last_error
    assert report.failures == [(failed.id, failed.last_error)]
    assert session.get(Invitation, failed.invitation_id).state == "failed"
    make_user(session)
    login(client)
    page = client.get(f"/studies/{study.id}/fieldwork").get_data(as_text=True)
    assert "1 address failed" in page and "SMTPUTF8" in page


def test_a_non_ascii_domain_is_sent_in_its_idna_form(engine, session: Session, smtp_server) -> None:
    outbox_with(session, 0, emails=["user@bücher.example"])
    assert _send(engine, _smtp(smtp_server)).sent == 1
    ((mail_from, rcpts, options),) = smtp_server.handler_obj.envelopes
    assert rcpts == ["user@xn--bcher-kva.example"] and mail_from == "btg@study.example.org"
    assert "SMTPUTF8" not in [o.upper() for o in options]
    message = message_from_bytes(smtp_server.handler_obj.raw[0][1], policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "user@xn--bcher-kva.example"


def test_a_nul_byte_in_a_name_does_not_stop_the_built_in_mailbox(engine, session: Session) -> None:
    outbox_with(session, 60)
    _set_identity(session, "p00002@example.org", name="Bob\x00by")
    report = _send(engine, MailboxTransport(engine))
    assert (report.sent, report.failed) == (60, 0)
    assert len(session.exec(select(MailboxMessage)).all()) == 60
    assert {row.status for row in session.exec(select(OutboxMessage))} == {"sent"}


def test_a_message_that_cannot_be_composed_fails_alone(engine, session: Session, smtp_server) -> None:
    outbox_with(session, 80)
    stranger = Privacy(pseudonym_key="x" * 32, identity_keys=Fernet.generate_key().decode())
    identity = session.exec(
        select(Identity).where(Identity.email_hash == privacy_for_tests().email_hash("p00001@example.org"))
    ).one()
    identity.email_encrypted = stranger.encrypt("p00001@example.org")  # e.g. a key rotation gone wrong
    session.add(identity)
    session.commit()
    report = _send(engine, _smtp(smtp_server))
    assert (report.sent, report.failed) == (79, 1)
    failed = session.exec(select(OutboxMessage).where(OutboxMessage.status == "failed")).one()
    assert failed.last_error.startswith("could not compose")
    assert {row.status for row in session.exec(select(OutboxMessage))} == {"sent", "failed"}


class _BrokenForOne(SmtpTransport):
    """An SMTP connection that fails in an unforeseen way for one recipient."""

    def send(self, message) -> None:
        if message.recipient == "p00004@example.org":
            raise RuntimeError("something nobody foresaw")
        super().send(message)


def test_an_unexpected_error_while_sending_fails_only_that_message(engine, session: Session, smtp_server) -> None:
    outbox_with(session, 70)
    report = _send(engine, _BrokenForOne(host="127.0.0.1", port=smtp_server.port))
    assert (report.sent, report.failed) == (69, 1)
    failed = session.exec(select(OutboxMessage).where(OutboxMessage.status == "failed")).one()
    assert "RuntimeError: something nobody foresaw" in failed.last_error
    assert len(smtp_server.handler_obj.raw) == 69


def test_the_dispatch_command_names_each_failed_message(app, engine, session: Session, smtp_server) -> None:
    outbox_with(session, 0, emails=["ana@example.org", "zoë@example.org"], now=datetime.now(UTC))
    app.config["STUDYAPP_SETTINGS"] = replace(
        app.config["STUDYAPP_SETTINGS"], smtp_host="127.0.0.1", smtp_port=smtp_server.port
    )
    result = app.test_cli_runner().invoke(args=["fieldwork", "dispatch"])
    assert result.exit_code == 0, result.output
    zoe = session.exec(select(Participant).order_by(col(Participant.id).desc())).first()
    assert "sent 1" in result.output and "failed 1" in result.output
    assert zoe.pseudonym in result.output and "SMTPUTF8" in result.output


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(alphabet=string.ascii_letters + string.digits + "'- ", max_size=60),
    local=st.text(alphabet=string.ascii_lowercase + string.digits + "._+-", min_size=1, max_size=30),
)
def test_the_quick_address_header_is_what_the_header_registry_writes(name: str, local: str) -> None:
    assume(not local.startswith(".") and not local.endswith(".") and ".." not in local)
    box = Mailbox(name=one_line(name), local_part=local, domain="example.org")
    address = headerregistry.Address(display_name=box.name, username=local, domain="example.org")
    assert box.header("To") == policy.SMTP.header_factory("To", [address]).fold(policy=policy.SMTP)


_ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-."
_DOMAINS = st.one_of(
    st.sampled_from(["example.org", "Student.UT.nl", "bücher.de", "xn--bcher-kva.de", "localhost", "a.invalid"]),
    st.from_regex(r"[a-z0-9-]{1,70}(\.[a-z0-9-]{1,20}){0,3}\.[a-z]{2,6}", fullmatch=True),
    st.text(max_size=30),
)


def _full_check(address: str) -> tuple[str, str] | str:
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return "refused"
    return checked.local_part, checked.ascii_domain


@settings(max_examples=1500, deadline=None)
@given(local=st.one_of(st.text(alphabet=_ATEXT, max_size=70), st.text(max_size=20)), domain=_DOMAINS)
def test_the_quick_address_check_agrees_with_email_validator(local: str, domain: str) -> None:
    """The dispatcher checks a plain local part itself and only the domain with email-validator."""
    address = f"{local}@{domain}"
    try:
        box = mailbox("", address)
        ours: tuple[str, str] | str = box.local_part, box.domain
    except AddressError:
        ours = "refused"
    assert ours == _full_check(address)


def test_forbidden_character_finds_the_same_as_a_character_by_character_scan() -> None:
    from studyapp.core import inputs

    for code in range(0x110000):  # every code point, alone and after printable text
        char = chr(code)
        expected = (
            char
            if unicodedata.category(char) in ("Cs", "Cc")
            or char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
            else None
        )
        assert inputs.forbidden_character("Zoë " + char) == expected, hex(code)


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=200), subject=st.text(max_size=300))
def test_no_name_or_subject_ever_adds_a_header(name: str, subject: str) -> None:
    sent = build_email(
        rendered=RenderedMessage(subject=subject, text="Hello", html="<p>Hello</p>"),
        sender="Bridge the Gap <btg@study.example.org>",
        recipient="ana@example.org",
        recipient_name=name,
        message_id="<id@study.example.org>",
        unsubscribe_url=None,
        date=NOW,
    )
    assert _header_names(sent.raw) == ["From", "To", "Subject", "Message-ID", "Date", "MIME-Version", "Content-Type"]
    message = message_from_bytes(sent.raw, policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "ana@example.org"
    assert message.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize("text", ["{name!r}", "{name:>5}", "{name!x}", "{name:abc}", "{name.foo}", "{0}", "{", "{link"])
def test_a_template_that_would_fail_when_filled_is_refused_when_checked(text: str) -> None:
    with pytest.raises(TemplateError):
        check_template(f"Dear {text}")


def test_a_literal_brace_pair_around_link_is_kept_and_the_link_still_becomes_a_button() -> None:
    body = "Write {{link}} literally.\n\nYour link: {link}"
    check_template(body)
    context = dict.fromkeys(PLACEHOLDERS, "x") | {"link": "https://study.example.org/p/abc"}
    rendered = render("Subject", body, context, language="en")
    assert "Write {link} literally." in rendered.text and "Write {link} literally." in rendered.html
    assert 'href="https://study.example.org/p/abc"' in rendered.html
