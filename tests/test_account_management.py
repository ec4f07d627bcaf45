"""Account management by admins: invite by e-mail, set a password with the link, change role and
permission, deactivate, reset a password; the audit log; the last-admin rule; `organisations list`."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.accounts.tokens import make_link_token
from studyapp.core.models import AuditEvent, OutboxMessage, User
from studyapp.settings import DEV_SECRET_KEY
from tests.conftest import Database
from tests.factories import PASSWORD, login, make_organisation, make_user
from tests.fieldwork_helpers import dispatcher_process, helper_dispatcher_process, send_outbox

NEW_PASSWORD = "a-new-password-for-btg"
LINK = re.compile(r"https://study\.example\.org(/account/password/[A-Za-z0-9_.\-]+)")


def actions(session: Session, target: User) -> list[str]:
    """The audit actions on one account, oldest first."""
    session.expire_all()
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.target_type == "user", AuditEvent.target_id == str(target.id))
        .order_by(AuditEvent.id)  # type: ignore[arg-type]
    ).all()
    return [event.action for event in events]


def link_in(message) -> str:
    match = LINK.search(message.get_body(("plain",)).get_content())
    assert match, message.get_body(("plain",)).get_content()
    return match.group(1)


@pytest.fixture
def admin_client(client: FlaskClient, session: Session) -> FlaskClient:
    make_user(session, email="admin@example.org", role="admin")
    assert login(client, "admin@example.org").status_code == 302
    return client


def test_an_invited_researcher_sets_a_password_with_the_link_once(
    admin_client, session, database: Database, smtp_server
) -> None:
    page = admin_client.get("/admin/accounts").get_data(as_text=True)
    assert "Invite someone" in page and "admin@example.org" in page
    response = admin_client.post(
        "/admin/accounts",
        data={"email": "New.Person@Example.org", "name": "New Person", "role": "researcher", "language": "en"},
    )
    assert response.status_code == 302
    user = session.exec(select(User).where(User.email == "new.person@example.org")).one()
    assert user.role == "researcher" and user.active and not user.can_view_identities
    assert "invited" in admin_client.get("/admin/accounts").get_data(as_text=True)
    # no password works yet, and nothing of the link is stored: the outbox key holds no token
    assert login(admin_client.application.test_client(), "new.person@example.org", "").status_code == 200
    row = session.exec(select(OutboxMessage).where(OutboxMessage.user_id == user.id)).one()
    assert row.idempotency_key.startswith(f"account:invite:{user.id}:")

    # the real dispatcher process sends it (it signs the link with the app's secret key)
    process = dispatcher_process(database, smtp_server.port)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    received = [message for _, message in smtp_server.handler_obj.messages]
    assert len(received) == 1 and received[0]["To"] == "New Person <new.person@example.org>"
    assert received[0]["Subject"] == "Your account for Bridge the Gap"
    path = link_in(received[0])
    assert "72 hours" in received[0].get_body(("plain",)).get_content()
    token = path.rsplit("/", 1)[1]
    session.expire_all()
    stored = " ".join(
        [row.idempotency_key for row in session.exec(select(OutboxMessage))]
        + [json.dumps(event.detail) for event in session.exec(select(AuditEvent))]
    )
    assert token not in stored and token[:20] not in stored

    visitor = admin_client.application.test_client()  # signed out
    form = visitor.get(path)
    assert form.status_code == 200 and "Choose your password" in form.get_data(as_text=True)
    short = visitor.post(path, data={"password": "short", "confirm": "short"})
    assert short.status_code == 200 and "at least 12" in short.get_data(as_text=True).lower()
    differ = visitor.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert "The passwords differ." in differ.get_data(as_text=True)
    done = visitor.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert login(visitor, "new.person@example.org", NEW_PASSWORD).status_code == 302
    session.expire_all()
    assert session.get(User, user.id).password_hash.startswith("$argon2id$")

    # the link worked once: now it gets a clear page, also when posted again
    again = admin_client.application.test_client()
    reused = again.get(path)
    assert reused.status_code == 400 and "no longer works" in reused.get_data(as_text=True)
    assert "administrator for a new one" in reused.get_data(as_text=True)
    assert again.post(path, data={"password": "x" * 20, "confirm": "x" * 20}).status_code == 400
    assert login(again, "new.person@example.org", NEW_PASSWORD).status_code == 302
    assert actions(session, user) == ["user.created", "user.invited", "user.password_set", "user.login", "user.login"]


def test_a_link_that_expired_or_was_tampered_with_gets_a_clear_page(admin_client, session, app, monkeypatch) -> None:
    user = make_user(session, email="bo@example.org")
    visitor = app.test_client()
    # a reset link lives one hour; signed 61 minutes ago it is refused
    import itsdangerous.timed

    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() - 61 * 60)
    old_reset = make_link_token(user, purpose="reset", secret_key=DEV_SECRET_KEY)
    old_invite = make_link_token(user, purpose="invite", secret_key=DEV_SECRET_KEY)
    monkeypatch.setattr(itsdangerous.timed.time, "time", real)
    expired = visitor.get(f"/account/password/{old_reset}")
    assert expired.status_code == 400 and "It has expired." in expired.get_data(as_text=True)
    assert visitor.get(f"/account/password/{old_invite}").status_code == 200  # an invitation lives 72 hours
    fresh = make_link_token(user, purpose="reset", secret_key=DEV_SECRET_KEY)
    for bad in (fresh[:-2] + "xx", "A" * 300, "..", make_link_token(user, purpose="reset", secret_key="other")):
        response = visitor.get(f"/account/password/{bad}")
        assert response.status_code in (400, 404) and b"Traceback" not in response.data
        if response.status_code == 400:
            assert "not a valid link" in response.get_data(as_text=True)
    # logging in after the link was made ends it, too
    assert login(visitor, "bo@example.org").status_code == 302
    assert app.test_client().get(f"/account/password/{fresh}").status_code == 400


def test_an_admin_resets_a_password_by_email(admin_client, session, engine, smtp_server) -> None:
    user = make_user(session, email="bo@example.org", language="nl")
    assert admin_client.post(f"/admin/accounts/{user.id}/reset-password").status_code == 302
    received = send_outbox(engine, smtp_server)
    assert len(received) == 1 and received[0]["Subject"] == "Kies een nieuw wachtwoord voor Bridge the Gap"  # nl
    assert "binnen 1 uur" in received[0].get_body(("plain",)).get_content()
    path = link_in(received[0])
    visitor = admin_client.application.test_client()
    assert login(visitor, "bo@example.org").status_code == 302  # the old password works until the link is used
    # ...and the login ended the link: the admin sends another
    assert visitor.get(path).status_code == 400
    assert admin_client.post(f"/admin/accounts/{user.id}/reset-password").status_code == 302
    path = link_in(send_outbox(engine, smtp_server)[-1])
    anonymous = admin_client.application.test_client()
    assert anonymous.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert login(anonymous, "bo@example.org", PASSWORD).status_code == 200  # the old password is gone
    assert login(anonymous, "bo@example.org", NEW_PASSWORD).status_code == 302
    assert anonymous.post(path, data={"password": "y" * 20, "confirm": "y" * 20}).status_code == 400
    events = actions(session, user)
    assert events.count("user.password_reset_sent") == 2 and events.count("user.password_set") == 1
    # a reset for an account still invited, or deactivated, is refused with a message
    admin_client.post(f"/admin/accounts/{user.id}/deactivate")
    page = admin_client.post(f"/admin/accounts/{user.id}/reset-password", follow_redirects=True)
    assert "reactivate the account first" in page.get_data(as_text=True)


def test_a_queued_email_whose_account_changed_since_is_not_sent(admin_client, session, engine, smtp_server) -> None:
    user = make_user(session, email="bo@example.org")
    admin_client.post(f"/admin/accounts/{user.id}/reset-password")
    assert login(admin_client.application.test_client(), "bo@example.org").status_code == 302
    assert send_outbox(engine, smtp_server) == []  # its link would be dead: nothing goes out


def test_changing_role_organisation_and_identity_permission(admin_client, session) -> None:
    acme, other = make_organisation(session, "Acme"), make_organisation(session, "Other Co")
    user = make_user(session, email="bo@example.org")
    page = admin_client.get(f"/admin/accounts/{user.id}").get_data(as_text=True)
    assert "Acme" in page and "Other Co" in page  # the organisation is picked from a list
    no_org = admin_client.post(f"/admin/accounts/{user.id}", data={"role": "company_contact"}, follow_redirects=True)
    assert "needs an organisation" in no_org.get_data(as_text=True)
    bad = admin_client.post(f"/admin/accounts/{user.id}", data={"role": "company_contact", "organisation_id": "99999"})
    assert bad.status_code == 200  # not a choice: the form says so, nothing changes
    session.expire_all()
    assert session.get(User, user.id).role == "researcher"
    response = admin_client.post(
        f"/admin/accounts/{user.id}", data={"role": "company_contact", "organisation_id": str(acme.id)}
    )
    assert response.status_code == 302
    session.expire_all()
    assert (session.get(User, user.id).role, session.get(User, user.id).organisation_id) == ("company_contact", acme.id)
    admin_client.post(f"/admin/accounts/{user.id}", data={"role": "company_contact", "organisation_id": str(other.id)})
    admin_client.post(f"/admin/accounts/{user.id}", data={"role": "researcher", "can_view_identities": "y"})
    session.expire_all()
    changed = session.get(User, user.id)
    assert (changed.role, changed.organisation_id, changed.can_view_identities) == ("researcher", None, True)
    assert actions(session, user) == [
        "user.created",
        "user.role_changed",
        "user.role_changed",
        "user.role_changed",
        "user.identity_permission_changed",
    ]
    last = session.exec(
        select(AuditEvent).where(AuditEvent.action == "user.role_changed").order_by(AuditEvent.id.desc())
    ).first()  # type: ignore[union-attr]
    assert (
        last.actor == "admin@example.org"
        and last.detail["from"] == "company_contact"
        and last.detail["to"] == "researcher"
    )


def test_a_deactivated_account_cannot_log_in_and_its_session_ends(admin_client, session, app) -> None:
    user = make_user(session, email="bo@example.org")
    theirs = app.test_client()
    assert login(theirs, "bo@example.org").status_code == 302
    assert theirs.get("/").status_code == 200
    assert admin_client.post(f"/admin/accounts/{user.id}/deactivate").status_code == 302
    assert theirs.get("/").status_code == 302 and "/login" in theirs.get("/").headers["Location"]
    assert login(app.test_client(), "bo@example.org").status_code == 200
    listing = admin_client.get("/admin/accounts").get_data(as_text=True)
    assert "bo@example.org" in listing and "deactivated" in listing  # never deleted
    assert admin_client.post(f"/admin/accounts/{user.id}/reactivate").status_code == 302
    assert login(app.test_client(), "bo@example.org").status_code == 302
    assert actions(session, user)[-3:] == ["user.deactivated", "user.reactivated", "user.login"]


def test_there_is_always_one_active_admin(admin_client, session) -> None:
    me = session.exec(select(User).where(User.email == "admin@example.org")).one()
    for attempt in (
        admin_client.post(f"/admin/accounts/{me.id}/deactivate", follow_redirects=True),
        admin_client.post(f"/admin/accounts/{me.id}", data={"role": "researcher"}, follow_redirects=True),
    ):
        assert "the only active admin" in attempt.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, me.id).active and session.get(User, me.id).role == "admin"
    other = make_user(session, email="second@example.org", role="admin")
    admin_client.post(f"/admin/accounts/{other.id}/deactivate")  # a deactivated admin does not count
    attempt = admin_client.post(f"/admin/accounts/{me.id}/deactivate", follow_redirects=True)
    assert "the only active admin" in attempt.get_data(as_text=True)
    admin_client.post(f"/admin/accounts/{other.id}/reactivate")
    assert admin_client.post(f"/admin/accounts/{me.id}", data={"role": "researcher"}).status_code == 302
    session.expire_all()
    assert session.get(User, me.id).role == "researcher"
    assert admin_client.get("/admin/accounts").status_code == 403  # no longer an admin
    assert "user.role_changed" in actions(session, me)


def test_invitations_refuse_bad_input_without_losing_it(admin_client, session) -> None:
    make_user(session, email="bo@example.org")
    taken = admin_client.post("/admin/accounts", data={"email": "bo@example.org", "name": "Bo", "role": "researcher"})
    assert taken.status_code == 200 and "already exists" in taken.get_data(as_text=True)
    contact = admin_client.post(
        "/admin/accounts", data={"email": "hr@x.example", "name": "HR", "role": "company_contact"}
    )
    body = contact.get_data(as_text=True)
    assert contact.status_code == 200 and "needs an organisation" in body and 'value="hr@x.example"' in body
    assert (
        admin_client.post("/admin/accounts", data={"email": "x@y", "name": "\x00", "role": "boss"}).status_code == 200
    )
    assert session.exec(select(OutboxMessage)).all() == []
    assert admin_client.get("/admin/accounts/999999").status_code == 404
    assert admin_client.post("/admin/accounts/999999/deactivate").status_code == 404


def test_organisations_list_and_users_create_with_an_organisation(runner, session) -> None:
    acme = make_organisation(session, "Acme")
    make_organisation(session, "Zeta Works")
    make_user(session, email="hr@acme.example", role="company_contact", organisation_id=acme.id)
    result = runner.invoke(args=["organisations", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "contacts", "name"]
    assert lines[1].split() == [str(acme.id), "1", "Acme"] and lines[2].split()[1:] == ["0", "Zeta", "Works"]
    listed = json.loads(runner.invoke(args=["organisations", "list", "--json"]).output)
    assert listed[0] == {"id": acme.id, "name": "Acme", "contacts": 1} and listed[1]["contacts"] == 0
    base = ["users", "create", "--email", "hr2@acme.example", "--name", "HR", "--password", PASSWORD]
    missing = runner.invoke(args=[*base, "--role", "company_contact", "--organisation-id", "99999"])
    assert missing.exit_code != 0 and "no organisation 99999" in missing.output
    assert "studyapp organisations list" in missing.output
    researcher = runner.invoke(args=[*base, "--role", "researcher", "--organisation-id", "99999"])
    assert researcher.exit_code != 0 and "no organisation 99999" in researcher.output  # was an IntegrityError
    ok = runner.invoke(args=[*base, "--role", "company_contact", "--organisation-id", str(acme.id)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(runner.invoke(args=["organisations", "list", "--json"]).output)[0]["contacts"] == 2


def test_organisations_list_with_none_yet(runner) -> None:
    assert runner.invoke(args=["organisations", "list"]).output == "No organisations yet.\n"
    assert runner.invoke(args=["organisations", "list", "--json"]).output == "[]\n"


def test_the_set_password_page_is_rate_limited_and_never_cached(client, session) -> None:
    user = make_user(session, email="bo@example.org")
    token = make_link_token(user, purpose="reset", secret_key=DEV_SECRET_KEY)
    assert client.get(f"/account/password/{token}").headers["Cache-Control"] == "no-store"
    differ = {"password": NEW_PASSWORD, "confirm": "something else entirely"}
    statuses = [client.post(f"/account/password/{token}", data=differ).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    assert client.get(f"/account/password/{token}").status_code == 200  # the page itself stays reachable


def test_a_link_used_meanwhile_by_another_request_is_refused(engine, session) -> None:
    """Two requests with one link: the second had read the account before the first set the password."""
    from studyapp.accounts.management import check_link, set_password_with_link
    from studyapp.accounts.tokens import LinkInvalid

    user = make_user(session, email="bo@example.org")
    token = make_link_token(user, purpose="reset", secret_key=DEV_SECRET_KEY)
    with Session(engine) as first, Session(engine) as second:
        shown, _ = check_link(session=second, token=token, secret_key=DEV_SECRET_KEY)  # the page, to both
        set_password_with_link(session=first, token=token, password=NEW_PASSWORD, secret_key=DEV_SECRET_KEY)
        first.commit()
        with pytest.raises(LinkInvalid):
            set_password_with_link(
                session=second, token=token, password="another-password-1", secret_key=DEV_SECRET_KEY
            )
        assert shown.id == user.id  # (held, as the view holds it, while the second request goes on)


def test_a_helper_dispatcher_process_sends_account_emails_too(
    admin_client, session, database: Database, smtp_server
) -> None:
    """The helper processes a large tick starts (DISPATCH_PROCESSES) sign account links with the same key."""
    response = admin_client.post(
        "/admin/accounts",
        data={"email": "helper.sent@example.org", "name": "Helper Sent", "role": "researcher", "language": "en"},
    )
    assert response.status_code == 302
    process = helper_dispatcher_process(database, smtp_server.port)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert json.loads(output.strip().splitlines()[-1])["sent"] == 1, output
    received = [message for _, message in smtp_server.handler_obj.messages]
    assert len(received) == 1 and received[0]["To"] == "Helper Sent <helper.sent@example.org>"
    assert admin_client.application.test_client().get(link_in(received[0])).status_code == 200


def test_the_invite_form_shows_every_error_at_once(admin_client, session) -> None:
    """A missing name (the form's check) and a taken address and a company contact without an organisation
    (the service's checks) show together, each beside its field."""
    make_user(session, email="taken@example.org")
    form = {"name": "", "email": "taken@example.org", "role": "company_contact", "language": "nl"}
    page = admin_client.post("/admin/accounts", data=form).get_data(as_text=True)
    assert 'id="name-error"' in page
    assert "An account for taken@example.org already exists." in page
    assert "A company contact needs an organisation: pick one from the list." in page
    assert "The invitation was not sent: see the fields marked below." in page
    assert session.exec(select(User).where(User.email == "taken@example.org")).one()
    assert len(session.exec(select(User)).all()) == 2
