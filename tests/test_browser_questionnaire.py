"""The questionnaire in a real browser (Debian's chromium) at phone and desktop width.

Complete the Carrière Kompas; close the tab half-way and resume on another device; a missing required
answer; the keyboard only; tampered values. Screenshots of every page go to test-artifacts/screenshots.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session, SQLModel, select
from werkzeug.serving import make_server

from studyapp.app import create_app
from studyapp.core.db import make_engine
from studyapp.core.models import Answer, Invitation, Item, Response
from studyapp.core.types import utcnow
from studyapp.instruments.loader import bundled_definitions, parse_definition
from studyapp.settings import load_settings
from tests.conftest import VIEWPORTS, shot
from tests.factories import (
    enrol,
    invite_with_token,
    load_carriere_kompas,
    make_cohort,
    make_flow_instrument,
    make_study,
    make_wave,
)

pytestmark = pytest.mark.browser
KOMPAS = parse_definition(bundled_definitions()[0].read_text(), "ck.yaml")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Links to the Carrière Kompas and to the short flow questionnaire, served from a thread."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('questionnaire') / 'site.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        study = make_study(session)
        cohort = make_cohort(session, study)
        kompas = make_wave(session, cohort, load_carriere_kompas(session), label="T1")
        flow = make_wave(session, cohort, make_flow_instrument(session), label="T2")
        links: dict[str, list[str]] = {"kompas": [], "flow": []}
        for n in range(24):
            person = enrol(session, cohort, f"person{n}@example.org", language="en" if n % 2 else "nl")
            for name, wave in (("kompas", kompas), ("flow", flow)):
                invitation, token = invite_with_token(session, person, wave)
                invitation.closes_at = utcnow() + timedelta(days=20)
                session.add(invitation)
                links[name].append(token)
        session.commit()
    settings = load_settings({}, scheduler_enabled=False, ratelimit_enabled=False)
    app = create_app({"ENGINE": engine}, settings=settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "links": links, "engine": engine}
    server.shutdown()
    engine.dispose()


def take_link(site: dict, kind: str) -> str:
    return f"{site['base']}/p/{site['links'][kind].pop()}"


def stored(site: dict, url: str) -> dict[str, object]:
    """The answers stored for a personal link."""
    from studyapp.core.links import invitation_for_token

    with Session(site["engine"]) as session:
        invitation = invitation_for_token(session=session, token=url.rsplit("/p/", 1)[1].split("/")[0])
        response = session.exec(select(Response).where(Response.invitation_id == invitation.id)).first()
        if response is None:
            return {}
        rows = session.exec(
            select(Item.code, Answer.value_number, Answer.value_text)
            .join(Item, Item.id == Answer.item_id)
            .where(Answer.response_id == response.id)
        ).all()
        return {code: n if n is not None else t for code, n, t in rows}


def answer_page(page: Page, *, scale_value: str = "5") -> None:
    """Answer every visible question on the current page by clicking and typing, as a person would."""
    for question in page.locator(".question:visible").all():
        kind = re.search(r"question--(\w+)", question.get_attribute("class") or "").group(1)
        if kind == "scale":
            question.locator(f'input[value="{scale_value}"]').check()
        elif kind == "choice":
            question.locator("input[type=radio]").first.check()
        elif kind == "number":
            box = question.locator("input")
            hint = question.locator(".question__hint").inner_text()
            low, high = (int(v) for v in re.findall(r"\d+", hint)[:2])
            box.fill(str((low + high) // 2))


def go_on(page: Page, control: Locator) -> None:
    """Click a link or button that opens the next page, and wait until that page has loaded.

    Reading the page right after a click can still see the page before it (Playwright waits for the
    click, not for the navigation it starts): on a busy machine ``answer_page`` then found no questions.
    """
    with page.expect_navigation():
        control.click()


def test_complete_the_carriere_kompas(page: Page, site: dict) -> None:
    url = take_link(site, "kompas")
    page.goto(url + "?lang=en")
    expect(page.get_by_role("heading", name="Welcome to wave T1")).to_be_visible()
    expect(page.get_by_text("takes about 20 minutes")).to_be_visible()
    shot(page, "questionnaire-welcome")
    go_on(page, page.get_by_role("link", name="Start the questionnaire"))
    seen = []
    while "/s/" in page.url:
        title = page.locator("h1").inner_text()
        seen.append(title)
        expect(page.locator("progress.progress")).to_be_visible()
        if title == "Your profession":
            page.get_by_label("Engineer").check()
        elif title == "Your current situation":
            page.get_by_label("I am employed").check()
        else:
            answer_page(page)
        if len(seen) in (1, 6, 7, 11):
            shot(page, f"questionnaire-page-{len(seen)}")
        go_on(page, page.get_by_role("button", name=re.compile("^(Next|Review your answers)")))
    assert seen[6] == "Identification with your profession" and "Your work" in seen
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    shot(page, "questionnaire-review")
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("heading", name="Your personal feedback")).to_be_visible()
    shot(page, "questionnaire-feedback")
    answers = stored(site, url)
    required = [i.code for s in KOMPAS.sections for i in s.items if i.required and not i.show_if]
    assert set(required) <= set(answers) and answers["prof_title"] == 1
    assert answers["int_tv"] == 5 and answers["work_status"] == 1
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    page.goto(url + "?lang=en")
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    shot(page, "questionnaire-completed")


def test_identification_statements_carry_the_chosen_title(page: Page, site: dict) -> None:
    url = take_link(site, "kompas")
    page.goto(f"{url}/s/professional_title?lang=en")
    expect(page.locator("#q-prof_title_other")).to_be_hidden()  # only after choosing "Other"
    page.get_by_role("radio", name="Other", exact=True).check()
    expect(page.locator("#q-prof_title_other")).to_be_visible()
    shot(page, "questionnaire-title-other")
    page.locator("#in-prof_title_other").fill("a <b>data</b> scientist")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Being a <b>data</b> scientist is an important part of how I see myself.")).to_be_visible()
    assert page.locator("b", has_text="data").count() == 0  # shown as text, never as markup


def test_close_the_tab_half_way_and_resume_on_another_device(page: Page, site: dict, browser) -> None:
    url = take_link(site, "flow")
    page.goto(url + "?lang=en")
    page.get_by_role("link", name="Start the questionnaire").click()
    page.get_by_label("Researcher").check()
    page.get_by_role("button", name="Next").click()
    page.locator('input[name="idn_proud"][value="6"]').check()
    page.locator('input[name="cc_clear"][value="2"]').check()
    expect(page.locator(".qnav__status")).to_have_text("Saved")
    page.close()  # the tab is closed half-way through page 2

    other = browser.new_context(viewport=VIEWPORTS["phone"])
    tab = other.new_page()
    tab.goto(url)
    expect(tab.get_by_text("You have answered 3 of")).to_be_visible()
    tab.get_by_role("link", name="Continue where you were").click()
    expect(tab.get_by_role("heading", name="Identification")).to_be_visible()
    expect(tab.locator('input[name="idn_proud"][value="6"]')).to_be_checked()
    expect(tab.locator('input[name="cc_clear"][value="2"]')).to_be_checked()
    expect(tab.get_by_text("I am proud to be a researcher.")).to_be_visible()
    tab.screenshot(path=str(shot.__globals__["artifact_dir"]("screenshots") / "questionnaire-resumed-phone.png"))
    other.close()


def test_a_missing_required_answer_is_marked_and_nothing_is_lost(page: Page, site: dict) -> None:
    url = take_link(site, "flow")
    page.goto(f"{url}/s/identification?lang=en")
    page.locator('input[name="idn_proud"][value="3"]').check()
    page.get_by_role("button", name="Next").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page.locator("#err-idn_self")).to_have_text(re.compile("Please answer this question."))
    expect(page.locator("#err-cc_clear")).to_be_visible()
    expect(page.locator("#err-idn_proud")).to_have_count(0)
    expect(page.locator('input[name="idn_proud"][value="3"]')).to_be_checked()
    shot(page, "questionnaire-missing-answer")
    page.get_by_role("link", name=re.compile("^Being a professional in your field says a lot about me")).click()
    page.locator('input[name="idn_self"][value="4"]').check()
    page.locator('input[name="cc_clear"][value="5"]').check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Your situation")).to_be_visible()
    assert stored(site, url) == {"idn_proud": 3, "idn_self": 4, "cc_clear": 5}


def tab_to(page: Page, selector: str, *, limit: int = 40) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement && document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_complete_it_with_the_keyboard_only(page: Page, site: dict) -> None:
    url = take_link(site, "flow")
    page.goto(url + "?lang=en")
    tab_to(page, "a.btn--primary")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your profession")).to_be_visible()
    tab_to(page, 'input[name="prof_title"]')
    page.keyboard.press("Space")  # Engineer
    box = page.locator('input[name="prof_title"]:focus + .option__box')
    expect(box).not_to_have_css("outline-style", "none")  # the focus is visible (waits for the style)
    tab_to(page, 'button[value="next"]:not([tabindex])')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Identification")).to_be_visible()
    for code, steps in (("idn_proud", 5), ("idn_self", 4), ("cc_clear", 2)):
        tab_to(page, f'input[name="{code}"]')
        page.keyboard.press("Space")
        for _ in range(steps):
            page.keyboard.press("ArrowRight")
    shot(page, "questionnaire-keyboard")
    tab_to(page, 'button[value="next"]:not([tabindex])')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your situation")).to_be_visible()
    tab_to(page, 'input[name="work_status"]')
    page.keyboard.press("ArrowDown")  # "I study": the work page is skipped
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Background")).to_be_visible()
    tab_to(page, "#in-bg_age")
    page.keyboard.type("31")
    page.keyboard.press("Enter")  # Enter in a field means "next"
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    tab_to(page, "form.review__submit button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your personal feedback")).to_be_visible()
    assert stored(site, url) == {
        "prof_title": 1,
        "idn_proud": 6,
        "idn_self": 5,
        "cc_clear": 3,
        "work_status": 3,
        "bg_age": 31,
    }


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_tampered_values_are_rejected(browser, site: dict, viewport: str) -> None:
    url = take_link(site, "flow")
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    tab = context.new_page()
    tab.goto(f"{url}/s/identification?lang=en")
    tab.evaluate(
        """() => {
        const radio = document.querySelector('input[name="idn_proud"][value="7"]');
        radio.value = "70";
        radio.checked = true;
        const extra = document.createElement("input");
        extra.type = "hidden"; extra.name = "is_admin"; extra.value = "1";
        document.querySelector("form.qform").appendChild(extra);
    }"""
    )
    tab.get_by_role("button", name="Next").click()
    expect(tab.get_by_role("heading", name="We cannot process these data")).to_be_visible()
    tab.screenshot(path=str(shot.__globals__["artifact_dir"]("screenshots") / f"questionnaire-tampered-{viewport}.png"))
    context.close()
    assert stored(site, url) == {}


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_pages_for_unknown_and_closed_links(browser, site: dict, viewport: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport])  # 404 and 410 pages log console errors
    page = context.new_page()
    page.viewport_name = viewport
    page.goto(f"{site['base']}/p/this-link-does-not-exist?lang=en")
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    shot(page, "questionnaire-unknown-link")
    url = take_link(site, "flow")
    from studyapp.core.links import invitation_for_token

    with Session(site["engine"]) as session:
        invitation = invitation_for_token(session=session, token=url.rsplit("/", 1)[1])
        invitation = session.get(Invitation, invitation.id)
        invitation.closes_at = utcnow() - timedelta(days=1)
        session.add(invitation)
        session.commit()
    page.goto(url + "?lang=en")
    expect(page.get_by_role("heading", name="This wave has closed")).to_be_visible()
    shot(page, "questionnaire-closed")
    context.close()
