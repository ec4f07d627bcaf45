"""Account management in a real browser (Debian's chromium via Playwright), CSRF on, at desktop and phone width."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlmodel import Session, SQLModel, select
from werkzeug.serving import make_server

from studyapp.accounts.services import create_user
from studyapp.app import create_app
from studyapp.core.db import make_engine
from studyapp.core.models import Organisation, User
from studyapp.settings import load_settings
from tests.conftest import shot
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def accounts_server(tmp_path) -> Iterator[tuple[str, object]]:
    """The app with one admin and one organisation, served over HTTP from a thread."""
    engine = make_engine(f"sqlite:///{tmp_path / 'accounts.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Organisation(name="Acme Engineering"))
        create_user(
            session=session, email="admin@example.org", name="Ada Admin", password=PASSWORD, role="admin", language="en"
        )
        session.commit()
    app = create_app({"ENGINE": engine}, settings=load_settings({}, scheduler_enabled=False))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", engine
    server.shutdown()
    engine.dispose()


def test_an_admin_invites_a_company_contact_and_deactivates_them_after_confirming(accounts_server, page) -> None:
    # the server before the page: fixtures end in reverse order, so the page (and whatever it still loads)
    # closes before the server stops; the other way round a late request met a closed socket
    # (ERR_CONNECTION_RESET in the console, which the page fixture counts as an error)
    base, engine = accounts_server
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill("admin@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    page.get_by_role("link", name="Accounts").first.click()
    page.wait_for_url(f"{base}/admin/accounts")
    page.get_by_label("Name", exact=True).fill("Hanna HR")
    page.get_by_label("E-mail", exact=True).fill("hanna@acme.example")
    page.get_by_label("Role", exact=True).select_option("company_contact")
    page.get_by_label("Organisation", exact=True).select_option(label="Acme Engineering")
    page.get_by_label("Language of e-mails").select_option("en")
    page.get_by_role("button", name="Send the invitation").click()
    page.get_by_text("hanna@acme.example is invited").wait_for()
    shot(page, "accounts-list")
    page.get_by_role("link", name="Hanna HR").click()
    page.get_by_role("heading", name="Hanna HR").wait_for()
    assert page.get_by_label("Organisation", exact=True).input_value() != ""
    shot(page, "accounts-detail")
    page.once("dialog", lambda dialog: dialog.dismiss())  # the confirmation, cancelled: nothing happens
    page.get_by_role("button", name="Deactivate").click()
    with Session(engine) as session:
        assert session.exec(select(User).where(User.email == "hanna@acme.example")).one().active
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Deactivate").click()
    page.get_by_text("can no longer log in").wait_for()
    with Session(engine) as session:
        assert not session.exec(select(User).where(User.email == "hanna@acme.example")).one().active
