"""The admin in a real browser (Debian's chromium via Playwright), at desktop and phone width."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, SQLModel
from werkzeug.serving import make_server

from studyapp.app import create_app
from studyapp.core.db import make_engine
from studyapp.demo import DEMO_RESEARCHER_EMAIL, DEMO_RESEARCHER_PASSWORD, seed_demo
from studyapp.settings import load_settings
from tests.conftest import shot
from tests.factories import load_carriere_kompas

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with the demo study, served over HTTP from a thread (CSRF on, as in production)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'browser.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        load_carriere_kompas(session)
        seed_demo(session=session)
        session.commit()
    app = create_app({"ENGINE": engine}, settings=load_settings({}, scheduler_enabled=False))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    engine.dispose()


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(DEMO_RESEARCHER_EMAIL)
    page.get_by_label("Password").fill(DEMO_RESEARCHER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def test_login_with_wrong_then_right_password(page, live_server: str) -> None:
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
    shot(page, "admin-login")
    page.get_by_label("E-mail").fill(DEMO_RESEARCHER_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Unknown e-mail address or wrong password.")).to_be_visible()
    shot(page, "admin-login-failed")
    page.get_by_label("Password").fill(DEMO_RESEARCHER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_role("heading", name="Studies")).to_be_visible()
    shot(page, "admin-dashboard")


def test_researcher_browses_the_demo_study_and_adds_a_wave(page, live_server: str) -> None:
    _log_in(page, live_server)
    page.get_by_role("link", name="Bridge the Gap").last.click()
    expect(page.get_by_role("heading", name="Final-year students")).to_be_visible()
    expect(page.get_by_role("heading", name="Young professionals")).to_be_visible()
    shot(page, "admin-study")

    label = f"T4-{page.viewport_name}"
    page.locator("section.cohort", has_text="Young professionals").get_by_role("link", name="Add wave").click()
    # the script shows only the fields of the chosen schedule
    expect(page.get_by_label("Opens at")).to_be_visible()
    page.get_by_label("A number of days after the previous wave opened").check()
    expect(page.get_by_label("Opens at")).not_to_be_visible()
    page.get_by_label("Label").fill(label)
    page.get_by_label("Days after", exact=True).fill("182")
    page.get_by_label("Open for (days)").fill("14")
    page.get_by_label("Reminder days").fill("7, 21")
    page.get_by_role("button", name="Add wave").click()
    expect(page.get_by_text("Every reminder must fall before the wave closes.")).to_be_visible()
    assert page.get_by_label("Days after", exact=True).input_value() == "182", "what was typed is kept"
    shot(page, "admin-wave-form-error")

    page.get_by_label("Reminder days").fill("7")
    page.get_by_role("button", name="Add wave").click()
    expect(page.get_by_text(f"Wave “{label}” added to Young professionals.")).to_be_visible()
    expect(
        page.get_by_text("182 days after the previous wave opens, open 14 days; reminders on day 7").first
    ).to_be_visible()
    shot(page, "admin-study-after-add")
