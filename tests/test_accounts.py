"""Researcher accounts: login, logout, lockout, roles, CSRF, and `studyapp users create`."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.app import create_app
from studyapp.core.models import AuditEvent, User
from studyapp.core.types import utcnow
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, login, make_organisation, make_user


def test_anonymous_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_and_logout(client: FlaskClient, session: Session) -> None:
    make_user(session)
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and b"Studies" in page.data
    stored = session.exec(select(User)).one()
    session.refresh(stored)
    assert stored.last_login_at is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.login")).first()

    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_gives_a_generic_message(client: FlaskClient, session: Session) -> None:
    make_user(session)
    response = login(client, password="wrong password!!")
    assert response.status_code == 200
    assert b"Unknown e-mail address or wrong password." in response.data
    response = login(client, email="nobody@example.org")
    assert response.status_code == 200
    assert b"Unknown e-mail address or wrong password." in response.data


def test_email_is_case_insensitive(client: FlaskClient, session: Session) -> None:
    make_user(session)
    assert login(client, email="  Researcher@Example.ORG ").status_code == 302


def test_repeated_failures_lock_the_account(client: FlaskClient, session: Session) -> None:
    user = make_user(session)
    for _ in range(5):
        login(client, password="not the password")
    response = login(client)
    assert response.status_code == 200
    assert b"Too many failed attempts" in response.data
    session.refresh(user)
    assert user.locked_until is not None and user.locked_until > utcnow()
    user.locked_until = utcnow() - timedelta(seconds=1)  # the lockout has passed
    session.add(user)
    session.commit()
    assert login(client).status_code == 302


def test_login_does_not_redirect_off_site(client: FlaskClient, session: Session) -> None:
    make_user(session)
    response = client.post(
        "/login?next=https://evil.example.com/",
        data={"email": "researcher@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post(
        "/login?next=//evil.example.com/", data={"email": "researcher@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_company_contact_cannot_open_study_admin(client: FlaskClient, session: Session) -> None:
    organisation = make_organisation(session)
    make_user(session, email="hr@acme.example.com", role="company_contact", organisation_id=organisation.id)
    login(client, email="hr@acme.example.com")
    assert client.get("/").headers["Location"] == "/company"  # their start page is the portal
    assert client.get("/studies/new").status_code == 403
    assert b"Not allowed" in client.get("/studies/new").data


def test_inactive_user_cannot_log_in(client: FlaskClient, session: Session) -> None:
    user = make_user(session)
    user.active = False
    session.add(user)
    session.commit()
    assert login(client).status_code == 200


def test_every_form_needs_a_csrf_token(engine, settings, session: Session) -> None:
    make_user(session)
    app = create_app({"TESTING": True, "ENGINE": engine}, settings=settings)
    client = app.test_client()
    response = client.post("/login", data={"email": "researcher@example.org", "password": PASSWORD})
    assert response.status_code == 400
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": "researcher@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get("/studies/new").get_data(as_text=True)
    response = client.post("/studies/new", data={"name": "X", "slug": "x", "timezone": "Europe/Amsterdam"})
    assert response.status_code == 400 and b"Form expired" in response.data
    response = client.post(
        "/studies/new",
        data={"name": "X", "slug": "x", "timezone": "Europe/Amsterdam", "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 302
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": csrf_token_from(page)}).status_code == 302


def test_cli_creates_users(app: Flask, runner, session: Session) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Ana@Example.org",
            "--name",
            "Ana",
            "--role",
            "admin",
            "--can-view-identities",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin ana@example.org" in result.output
    user = session.exec(select(User)).one()
    assert (user.email, user.role, user.can_view_identities) == ("ana@example.org", "admin", True)

    result = runner.invoke(
        args=["users", "create", "--email", "ana@example.org", "--name", "Ana", "--password", PASSWORD]
    )
    assert result.exit_code != 0 and "already exists" in result.output
    result = runner.invoke(args=["users", "create", "--email", "bo@example.org", "--name", "Bo", "--password", "short"])
    assert result.exit_code != 0 and "at least 12 characters" in result.output
    result = runner.invoke(args=["users", "create", "--email", "not-an-email", "--name", "Bo", "--password", PASSWORD])
    assert result.exit_code != 0 and "not a valid e-mail address" in result.output
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "hr@example.org",
            "--name",
            "HR",
            "--role",
            "company_contact",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code != 0 and "needs an organisation" in result.output and "organisations list" in result.output
    # the language of the account's e-mails (a company contact's briefing notices); Dutch by default
    assert user.language == "nl"
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cy@example.org",
            "--name",
            "Cy",
            "--password",
            PASSWORD,
            "--language",
            "en",
        ]
    )
    assert result.exit_code == 0, result.output
    assert session.exec(select(User).where(User.email == "cy@example.org")).one().language == "en"
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "di@example.org",
            "--name",
            "Di",
            "--password",
            PASSWORD,
            "--language",
            "de",
        ]
    )
    assert result.exit_code != 0 and "'de' is not one of 'nl', 'en'" in result.output


def test_login_attempts_are_rate_limited_per_address(client, session) -> None:
    make_user(session)
    statuses = [login(client, password="wrong password").status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    assert client.get("/login").status_code == 200  # the page itself stays reachable
