"""Participant-facing pages and the researcher's participant pages in a real browser, phone and desktop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, SQLModel, select
from werkzeug.serving import make_server

from studyapp.app import create_app
from studyapp.core.db import make_engine
from studyapp.core.models import Cohort, Participant, Study, Wave
from studyapp.demo import DEMO_RESEARCHER_EMAIL, DEMO_RESEARCHER_PASSWORD, seed_demo
from studyapp.settings import load_settings
from tests.conftest import shot
from tests.factories import enrol, invite_with_token, load_carriere_kompas

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The demo study with enrolled participants and personal links, served from a thread."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'site.db'}")
    SQLModel.metadata.create_all(engine)
    tokens = {}
    with Session(engine, expire_on_commit=False) as session:
        load_carriere_kompas(session)
        seed_demo(session=session)
        session.commit()
        students = session.exec(select(Cohort).where(Cohort.name == "Final-year students")).one()
        students.signup_open, students.signup_code = True, "demo-signup"
        session.add(students)
        session.commit()
        wave = session.exec(select(Wave).where(Wave.cohort_id == students.id, Wave.position == 1)).one()
        for n in range(1, 7):
            person = enrol(
                session, students, f"person{n}@student.ut.nl", name=f"Person {n}", language="nl" if n % 2 else "en"
            )
            tokens[n] = invite_with_token(session, person, wave)[1]
        study_id = session.exec(select(Study)).one().id
    from studyapp.scheduler import tick

    tick(engine, name="browser:1", settings=load_settings({}, scheduler_enabled=False))  # demo invitations
    app = create_app({"ENGINE": engine}, settings=load_settings({}, scheduler_enabled=False))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "tokens": tokens, "study_id": study_id, "engine": engine}
    server.shutdown()
    engine.dispose()


def test_signup_page(page, site: dict) -> None:
    page.goto(f"{site['base']}/join/demo-signup?lang=en")
    shot(page, "participant-signup")
    page.get_by_label("E-mail address").fill(f"new-{page.viewport_name}@example.org")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("Please give your consent to take part.")).to_be_visible()
    assert page.get_by_label("E-mail address").input_value() == f"new-{page.viewport_name}@example.org"
    shot(page, "participant-signup-error")
    page.get_by_label("I have read the information").check()
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="You have signed up")).to_be_visible()


def test_privacy_page_and_withdrawal(page, site: dict) -> None:
    token = site["tokens"][1 if page.viewport_name == "desktop" else 3]
    page.goto(f"{site['base']}/p/{token}/privacy")
    expect(page.get_by_role("heading", name="Jouw deelname en gegevens")).to_be_visible()
    shot(page, "participant-privacy")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Your participation and data")).to_be_visible()
    page.get_by_label("New e-mail address").fill("not-an-address")
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_text("Enter a valid e-mail address.")).to_be_visible()
    page.get_by_role("link", name="Leave the study").click()
    shot(page, "participant-withdraw-confirm")
    page.get_by_role("button", name="I am leaving the study").click()
    expect(page.get_by_text("You have left the study. Thank you for taking part.")).to_be_visible()
    shot(page, "participant-after-withdrawal")


def test_keyboard_only_erasure(page, site: dict) -> None:
    token = site["tokens"][2 if page.viewport_name == "desktop" else 4]
    page.goto(f"{site['base']}/p/{token}/erase")
    page.keyboard.press("Tab")  # skip link
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Erase my data":
            break
    assert page.evaluate("document.activeElement.textContent.trim()") == "Erase my data"
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your data have been erased.")).to_be_visible()
    with Session(site["engine"]) as session:
        erased = session.exec(select(Participant).where(Participant.status == "erased")).all()
    assert erased


def test_researcher_participant_pages(page, site: dict, tmp_path: Path) -> None:
    base = site["base"]
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(DEMO_RESEARCHER_EMAIL)
    page.get_by_label("Password").fill(DEMO_RESEARCHER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/studies/{site['study_id']}/participants")
    shot(page, "admin-participants")
    page.get_by_role("button", name="Show e-mail addresses (logged)").click()
    expect(page.get_by_text("person5@student.ut.nl")).to_be_visible()
    shot(page, "admin-participants-identities")
    page.goto(f"{base}/studies/{site['study_id']}/participants/import")
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("email,name,cohort\nnieuw@ut.nl,Nieuw,Young professionals\nbad,Bad,Nope\n")
    page.get_by_label("Participant list").set_input_files(str(csv_file))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("The file was rejected")).to_be_visible()
    shot(page, "admin-import-rejected")
    csv_file.write_text(f"email,name,cohort\nnieuw-{page.viewport_name}@ut.nl,Nieuw,Young professionals\n")
    page.get_by_label("Participant list").set_input_files(str(csv_file))
    page.get_by_role("button", name="Preview").click()
    shot(page, "admin-import-preview")
    page.get_by_role("button", name="Import 1 participant").click()
    expect(page.get_by_text("Imported 1 new participant;")).to_be_visible()
    page.get_by_role("link", name=page.locator("a.mono").first.inner_text()).click()
    shot(page, "admin-participant-detail")


def test_fieldwork_pages(page, site: dict) -> None:
    base = site["base"]
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(DEMO_RESEARCHER_EMAIL)
    page.get_by_label("Password").fill(DEMO_RESEARCHER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/studies/{site['study_id']}/fieldwork")
    expect(page.get_by_role("heading", name="Young professionals · T1")).to_be_visible()
    shot(page, "admin-fieldwork")
    page.get_by_role("link", name="Mailbox").click()
    shot(page, "admin-mailbox")
    page.get_by_role("link", name="Uitnodiging: Bridge the Gap – meting T1").first.click()
    expect(page.get_by_role("heading", name="Headers")).to_be_visible()
    shot(page, "admin-mailbox-message")
    page.goto(f"{base}/studies/{site['study_id']}/messages/reminder/en")
    page.get_by_label("Subject").fill("Reminder about {wave}")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Reminder about T2")).to_be_visible()
    shot(page, "admin-message-template")


def test_answers_page_gives_the_answer_column_room_and_keeps_names_as_typed(page, site: dict) -> None:
    """The answer column was squeezed to 1-2 characters by long questions; badges and row headers
    changed the case of organisation names."""
    from studyapp.core.models import Answer, Invitation, Organisation, Participant, Response

    with Session(site["engine"]) as session:
        participant_id, invitation_id = session.exec(
            select(Invitation.participant_id, Invitation.id)
            .join(Response, Response.invitation_id == Invitation.id)
            .join(Answer, Answer.response_id == Response.id)
            .where(Response.submitted_at.is_not(None))  # type: ignore[union-attr]
            .order_by(Invitation.id)
        ).first()
        organisation = session.exec(select(Organisation)).first()
        organisation.name = "de Vries engineering bv"  # lower-case words a capitalising style would change
        session.add(organisation)
        session.commit()
        assert session.get(Participant, participant_id) is not None
    base = site["base"]
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(DEMO_RESEARCHER_EMAIL)
    page.get_by_label("Password").fill(DEMO_RESEARCHER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/participants/{participant_id}/invitations/{invitation_id}/answers")
    shot(page, "admin-participant-answers")
    widths = page.eval_on_selector_all(".kv--answers dd", "els => els.map(e => e.getBoundingClientRect().width)")
    assert widths and min(widths) >= 120, widths  # room for an answer, not 1-2 characters
    # nothing that shows names is restyled: no text-transform on badges, row headers or eyebrows
    transforms = page.evaluate(
        """() => ['badge', 'eyebrow'].map(c => { const e = document.createElement('span'); e.className = c;
             document.body.append(e); const t = getComputedStyle(e).textTransform; e.remove(); return t; })"""
    )
    assert transforms == ["none", "none"]
    page.goto(f"{base}/studies/{site['study_id']}/briefings")
    shown = page.get_by_text("de Vries engineering bv")
    if shown.count():
        assert shown.first.evaluate("e => getComputedStyle(e).textTransform") == "none"
        assert shown.first.inner_text() == "de Vries engineering bv"
