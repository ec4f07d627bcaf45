"""The analysis pages in a real browser, on the demo study with its simulated alumni cohort."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, SQLModel, select
from werkzeug.serving import make_server

from studyapp.analyses.result import load_result
from studyapp.app import create_app
from studyapp.core.db import make_engine
from studyapp.core.models import AnalysisRun, Study
from studyapp.demo import DEMO_RESEARCHER_EMAIL, DEMO_RESEARCHER_PASSWORD, SYNTHETIC_COHORT, seed_demo
from studyapp.scheduler import run_analyses
from studyapp.settings import load_settings
from tests.conftest import shot
from tests.factories import load_carriere_kompas

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('analysis') / 'site.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        load_carriere_kompas(session)
        seed_demo(session=session)
        session.commit()
        study_id = session.exec(select(Study)).one().id
    # the demo's queued analysis and then its last wave's briefings, as the scheduler's first pass does
    assert run_analyses(engine, load_settings({}, scheduler_enabled=False)) == 1
    app = create_app({"ENGINE": engine}, settings=load_settings({}, scheduler_enabled=False))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "study_id": study_id, "engine": engine}
    server.shutdown()
    engine.dispose()


def test_the_demo_analysis_shows_profiles_and_transitions(page: Page, site: dict) -> None:
    base = site["base"]
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(DEMO_RESEARCHER_EMAIL)
    page.get_by_label("Password").fill(DEMO_RESEARCHER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/studies/{site['study_id']}")
    page.get_by_role("link", name="Analysis").click()
    expect(page.get_by_role("heading", name="Profiles and transitions")).to_be_visible()
    shot(page, "admin-analysis-index")
    page.get_by_role("link", name="1", exact=True).click()
    expect(page.get_by_role("heading", name=SYNTHETIC_COHORT)).to_be_visible()
    expect(page.locator("strong", has_text="Recommended:")).to_be_visible()
    expect(page.locator("svg[role=img]")).to_have_count(3)
    expect(page.get_by_role("heading", name="Transitions", exact=True)).to_be_visible()
    shot(page, "admin-analysis-result")
    with Session(site["engine"]) as session:
        run = session.exec(select(AnalysisRun)).one()
    assert run.status == "done" and load_result(run).transitions.k >= 4  # type: ignore[union-attr]


def test_company_contact_portal_and_the_researchers_briefings_page(page: Page, site: dict) -> None:
    from studyapp.demo import DEMO_CONTACT_EMAIL

    base = site["base"]
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(DEMO_CONTACT_EMAIL)
    page.get_by_label("Password").fill(DEMO_RESEARCHER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Acme Engineering")).to_be_visible()
    expect(page.get_by_role("link", name="(PDF)")).to_have_count(2)
    shot(page, "company-portal")
    page.get_by_role("button", name="Uitloggen").click()  # the demo's company contact reads Dutch
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(DEMO_RESEARCHER_EMAIL)
    page.get_by_label("Password").fill(DEMO_RESEARCHER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/studies/{site['study_id']}/briefings")
    expect(page.get_by_role("heading", name="Company briefings")).to_be_visible()
    expect(page.get_by_role("cell", name="Whole sample", exact=True)).to_have_count(2)  # nl and en
    shot(page, "admin-briefings")
