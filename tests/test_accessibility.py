"""WCAG 2.1 AA in a real browser: axe-core on every page, per role, at 1280 and 390 px, and hand checks.

The pages are found by crawling same-origin links from each role's start pages (one page of each kind:
ids and personal links are folded), so a new page is covered without touching this file. axe-core
(4.12, through axe-playwright-python) cannot judge everything WCAG asks; the other tests here check what
it cannot: charts with a text equivalent, table headers on a phone, the focus ring's contrast, 200% text
without sideways scrolling, the root font size following the browser, labels readable on a phone,
``lang`` where the language changes, e-mails with ``lang`` and ``<title>``, and chart colours' contrast.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urldefrag, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page
from sqlmodel import Session, SQLModel, select
from werkzeug.serving import make_server

from analysis.reference_profiles import REFERENCE_PROFILES
from studyapp.accounts.tokens import make_link_token
from studyapp.app import create_app
from studyapp.core.db import make_engine
from studyapp.core.models import AnalysisRun, Cohort, Wave
from studyapp.core.types import utcnow
from studyapp.demo import (
    DEMO_CONTACT_EMAIL,
    DEMO_PARTICIPANTS,
    DEMO_RESEARCHER_PASSWORD,
    SYNTHETIC_COHORT,
    seed_demo,
)
from studyapp.instruments.loader import bundled_definitions, parse_definition
from studyapp.settings import load_settings
from tests.conftest import VIEWPORTS, artifact_dir
from tests.factories import PASSWORD, enrol, invite_with_token, load_carriere_kompas, make_user, submit_response

pytestmark = pytest.mark.browser

KOMPAS = parse_definition(bundled_definitions()[0].read_text(), "ck.yaml")
FACET_ITEMS = {i.code: i for s in KOMPAS.sections for i in s.items if i.facet}
CAREER = {"cc_suitable_work": 6, "cc_clear_goals": 6, "cc_unsure_direction": 2}  # clarity (2 reversed) = 6.0
ADMIN_EMAIL, PLAIN_RESEARCHER_EMAIL = "admin@example.org", "plain@example.org"
WIDTHS = {"1280": VIEWPORTS["desktop"], "390": VIEWPORTS["phone"]}
MAX_PAGES = 45  # per role: a bound on the crawl
#: links a crawl never follows: leaving, files, and what only a form may do
SKIP = re.compile(r"/logout$|\.(pdf|csv|xlsx|zip)$|^/static/|^/healthz$")


def answers_like(profile: str) -> dict[str, int]:
    """Every facet item answered as the profile's signature says: 6 on high facets, 2 on low, else 4."""
    signature = REFERENCE_PROFILES[profile].signature
    answers = {}
    for code, item in FACET_ITEMS.items():
        level = 4 + 2 * signature.get(item.facet, 0)
        answers[code] = 8 - level if item.reverse else level
    return answers | CAREER


@dataclass
class Role:
    """Who visits: how they log in (``None``: not at all) and where their crawl starts."""

    name: str
    email: str | None
    password: str
    starts: list[str]


@dataclass
class Survey:
    """What visiting every crawled page found, per role."""

    pages: dict[str, list[str]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    headerless_cells: list[str] = field(default_factory=list)
    sideways: list[str] = field(default_factory=list)
    root_font: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    axe_runs: int = 0
    seconds: float = 0.0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The demo study with an admin, a researcher without the identity permission, personal links in
    every state, a finished analysis and the demo's invitations in the mailbox, served from a thread."""
    from studyapp.scheduler import run_analyses, tick

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('a11y') / 'site.db'}")
    SQLModel.metadata.create_all(engine)
    settings = load_settings({}, scheduler_enabled=False, ratelimit_enabled=False)
    links: dict[str, str] = {}
    with Session(engine, expire_on_commit=False) as session:
        load_carriere_kompas(session)
        seed_demo(session=session)
        session.commit()
        make_user(session, email=ADMIN_EMAIL, role="admin", can_view_identities=True)
        make_user(session, email=PLAIN_RESEARCHER_EMAIL, role="researcher", can_view_identities=False)
        invited = make_user(session, email="new@example.org", role="researcher")
        links["set_password"] = make_link_token(invited, purpose="invite", secret_key=settings.secret_key)
        students = session.exec(select(Cohort).where(Cohort.name == "Final-year students")).one()
        students.signup_open, students.signup_code = True, "a11y-signup"
        session.add(students)
        session.commit()
        wave = session.exec(select(Wave).where(Wave.cohort_id == students.id, Wave.position == 1)).one()
        for state, language in (("fresh", "nl"), ("fresh_en", "en"), ("started", "en")):
            person = enrol(session, students, f"{state}@student.example.org", name=state.title(), language=language)
            invitation, links[state] = invite_with_token(session, person, wave)
            invitation.closes_at = utcnow() + timedelta(days=20)
            session.add(invitation)
        alumni = session.exec(select(Cohort).where(Cohort.name == SYNTHETIC_COHORT)).one()
        t2, t3 = session.exec(select(Wave).where(Wave.cohort_id == alumni.id, Wave.position > 1)).all()
        person = enrol(session, alumni, "nerd@example.org", name="Nerd", language="en")
        earlier, _ = invite_with_token(session, person, t2)
        submit_response(session, earlier, answers_like("Traditionalist"))
        invitation, links["submitted"] = invite_with_token(session, person, t3)
        submit_response(session, invitation, answers_like("Nerd"))
        session.commit()
        study_id = students.study_id
    with Session(engine) as session:  # the demo's analysis, made cheap: its result pages are what matter here
        run = session.exec(select(AnalysisRun)).one()
        run.parameters = {"k_max": 3, "n_starts": 2, "parameterisations": ["EEI"], "transition_bootstrap": 0}
        session.add(run)
        session.commit()
    assert run_analyses(engine, settings) == 1  # the demo's analysis, and its briefings
    tick(engine, name="a11y:1", settings=settings)  # the demo's invitations, into the mailbox
    app = create_app({"ENGINE": engine}, settings=settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "links": links, "study_id": study_id, "engine": engine}
    server.shutdown()
    engine.dispose()


def roles(site: dict) -> list[Role]:
    """Every kind of visitor and the pages their crawl starts from."""
    links = site["links"]
    participant = [
        "/join/a11y-signup",
        f"/p/{links['fresh']}",
        f"/p/{links['fresh_en']}/s/interests",
        f"/p/{links['fresh_en']}/s/professional_title",
        f"/p/{links['started']}/review",
        f"/p/{links['submitted']}",
        f"/p/{links['submitted']}/feedback",
        f"/p/{links['fresh']}/privacy",
        f"/p/{links['submitted']}/my-data",
        f"/p/{links['fresh']}/stop",
        f"/p/{links['fresh']}/withdraw",
        f"/p/{links['fresh']}/erase",
    ]
    anonymous = [
        "/login",
        f"/account/password/{links['set_password']}",
        "/account/password/not-a-link",
        "/no-such-page",
    ]
    return [
        Role("admin", ADMIN_EMAIL, PASSWORD, ["/", "/mailbox", "/admin/accounts", "/audit"]),
        Role("researcher without identity permission", PLAIN_RESEARCHER_EMAIL, PASSWORD, ["/"]),
        Role(
            "company contact",
            DEMO_CONTACT_EMAIL,
            DEMO_RESEARCHER_PASSWORD,
            ["/company", f"/studies/{site['study_id']}"],
        ),
        Role("participant", None, "", participant),
        Role("anonymous", None, "", anonymous),
    ]


def kind_of(path: str, query: str) -> str:
    """One key per kind of page: ids, personal links, questionnaire pages, languages, filters and pages of a
    list folded (the start pages hold both languages)."""
    path = re.sub(r"^/p/[^/]+", "/p/T", path)
    path = re.sub(r"^/p/T/s/[^/]+", "/p/T/s/S", path)
    path = re.sub(r"^/(account/password|join)/[^/]+", r"/\1/T", path)
    path = re.sub(r"/\d+(?=/|$)", "/N", path)
    return path


def log_in(page: Page, base: str, role: Role) -> None:
    """Log in through the login form, as a person does."""
    if role.email is None:
        return
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(role.email)
    page.get_by_label("Password").fill(role.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def same_origin_links(page: Page, base: str) -> list[str]:
    """The page's links to this site (not downloads, not fragments), as paths with their query."""
    hrefs = page.eval_on_selector_all("a[href]:not([download])", "els => els.map(a => a.href)")
    found = []
    for href in hrefs:
        url = urldefrag(href)[0]
        if not url.startswith(base + "/"):
            continue
        parts = urlsplit(url)
        if SKIP.search(parts.path):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(page: Page, base: str, role: Role, visit) -> list[str]:
    """Visit the role's start pages and, breadth first, one page of every kind they link to."""
    queue, seen, visited = list(role.starts), {kind_of(*urlsplit(s)[2:4]) for s in role.starts}, []
    while queue and len(visited) < MAX_PAGES:
        path = queue.pop(0)
        page.goto(base + path)
        visited.append(path)
        visit(page, path)
        for link in same_origin_links(page, base):
            kind = kind_of(*urlsplit(link)[2:4])
            if kind not in seen:
                seen.add(kind)
                queue.append(link)
    return visited


AXE = Axe()

HEADERLESS_CELLS_JS = """() => {
  const problems = [];
  for (const table of document.querySelectorAll('table')) {
    const heads = table.tHead ? [...table.tHead.rows].at(-1) : null;
    const columns = [];
    if (heads) for (const th of heads.cells) for (let i = 0; i < th.colSpan; i++) columns.push(th);
    for (const body of table.tBodies) for (const row of body.rows) {
      let column = 0;
      for (const cell of row.cells) {
        const rowHeader = cell.tagName === 'TH' && cell.scope === 'row';
        if (!rowHeader && cell.checkVisibility({visibilityProperty: true})) {
          const th = columns[column];
          const shown = th && th.checkVisibility({visibilityProperty: true});
          if (!shown && (cell.textContent.trim() || column > 0)) {
            problems.push(`column ${column + 1} ("${cell.textContent.trim().slice(0, 30)}")`);
            break;
          }
        }
        column += cell.colSpan;
      }
      if (problems.length) break;
    }
  }
  return problems;
}"""

CHARTS_JS = """() => [...document.querySelectorAll('svg[role=img]')].flatMap(svg => {
  const problems = [];
  const title = svg.querySelector(':scope > title'), desc = svg.querySelector(':scope > desc');
  if (!title || !title.textContent.trim()) problems.push('no <title>');
  if (!desc || !desc.textContent.trim()) problems.push('no <desc>');
  const box = svg.closest('.fb-domain, section, .card') || svg.parentElement;
  if (!box.querySelector('table, ul, ol, dl')) problems.push('no table or list beside it');
  return problems.length ? [`${svg.getAttribute('aria-label') || title?.textContent}: ${problems.join(', ')}`] : [];
})"""


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as it is now (every rule axe runs by default)."""
    return AXE.run(page).response["violations"]


def describe(violations: list[dict], where: str) -> list[str]:
    """One readable line per violating element: rule, impact, selector, page and width."""
    return [
        f"{v['id']} ({v['impact']}) at {', '.join(map(str, node['target']))} on {where}: {v['help']}"
        for v in violations
        for node in v["nodes"]
    ]


def new_context(browser: Browser, width: str) -> BrowserContext:
    return browser.new_context(viewport=WIDTHS[width])


#: the structure of the page's main part without its words: elements, classes, roles, languages of parts
SKELETON_JS = """() => {
  const walk = el => el.tagName + '.' + el.className + (el.getAttribute('role') || '') +
    (el !== document.documentElement && el.getAttribute('lang') || '') + '(' + [...el.children].map(walk).join() + ')';
  return walk(document.querySelector('main') || document.documentElement);
}"""

#: the elements that stick out of the window (not those inside a box that scrolls or clips)
TOO_WIDE_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const right = el.getBoundingClientRect().right;
    if (right <= innerWidth + 1) continue;
    let parent = el.parentElement, clipped = false;
    while (parent && parent !== document.body) {
      if (getComputedStyle(parent).overflowX !== 'visible') { clipped = true; break; }
      parent = parent.parentElement;
    }
    const name = typeof el.className === 'string' ? el.className.trim() : '';
    const classes = name ? '.' + name.split(/\\s+/).join('.') : '';
    if (!clipped) out.push(`${el.tagName.toLowerCase()}${classes} to ${Math.round(right)} px`);
  }
  return out.slice(-3);
}"""

SETTLED_JS = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.fixture(scope="module")
def survey(browser: Browser, site: dict) -> Survey:
    """Every role's crawl at 1280 px with axe, then the same pages at 390 px with axe, the table check and
    (with the browser's text at 200%) the sideways-scrolling check.

    axe runs once per page structure and width: a page whose main part another role (or the other
    language) already showed with the same elements, classes and roles is not checked again; each role's
    first page is always checked, with its own header and menu.
    """
    base, result, started = site["base"], Survey(), time.monotonic()
    audited: set[tuple[str, str, int]] = set()
    firsts: set[tuple[str, str]] = set()

    def audit(page: Page, path: str, role: Role, width: str) -> None:
        where = f"{path} as {role.name} at {width} px"
        shape = (kind_of(*urlsplit(path)[2:4]), width, hash(page.evaluate(SKELETON_JS)))
        if shape not in audited or (role.name, width) not in firsts:
            audited.add(shape)
            firsts.add((role.name, width))
            result.axe_runs += 1
            result.violations += describe(axe_violations(page), where)
        result.charts += [f"{problem} on {where}" for problem in page.evaluate(CHARTS_JS)]

    for role in roles(site):
        context = new_context(browser, "1280")
        page = context.new_page()
        log_in(page, base, role)
        result.pages[role.name] = crawl(page, base, role, lambda page, path, role=role: audit(page, path, role, "1280"))
        context.close()

        context = new_context(browser, "390")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        log_in(page, base, role)
        for path in result.pages[role.name]:
            page.goto(base + path)
            audit(page, path, role, "390")
            where = f"{path} as {role.name} at 390 px"
            result.headerless_cells += [f"{problem} on {where}" for problem in page.evaluate(HEADERLESS_CELLS_JS)]
            cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})  # 200%, as a person sets it
            page.evaluate(SETTLED_JS)
            root, width, viewport = page.evaluate(
                "[getComputedStyle(document.documentElement).fontSize, "
                "document.documentElement.scrollWidth, window.innerWidth]"
            )
            if root != "32px":
                result.root_font.append(f"{root} on {path} as {role.name}")
            if width > viewport:
                wide = ", ".join(page.evaluate(TOO_WIDE_JS))
                result.sideways.append(f"{where}: {width} px wide in a {viewport} px window ({wide})")
                page.screenshot(path=str(artifact_dir("a11y") / f"sideways-{len(result.sideways)}.png"))
            cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 16, "fixed": 13}})
        context.close()
    result.seconds = time.monotonic() - started
    summary = [f"{role}: {len(pages)} pages\n  " + "\n  ".join(pages) for role, pages in result.pages.items()]
    summary.append(f"axe runs: {result.axe_runs}; {result.seconds:.0f} s")
    for name in ("violations", "charts", "headerless_cells", "root_font", "sideways"):
        summary += [f"== {name}", *getattr(result, name)]
    (artifact_dir("a11y") / "survey.txt").write_text("\n".join(summary) + "\n")
    return result


def test_the_crawl_finds_every_kind_of_page(survey: Survey) -> None:
    minimum = {
        "admin": 25,
        "researcher without identity permission": 15,
        "company contact": 2,
        "participant": 12,
        "anonymous": 4,
    }
    found = {role: len(pages) for role, pages in survey.pages.items()}
    assert all(found[role] >= n for role, n in minimum.items()), f"pages per role: {found}"
    admin = " ".join(survey.pages["admin"])
    for kind in (
        "/participants/",
        "/analysis/",
        "/briefings",
        "/mailbox/",
        "/admin/accounts/",
        "/audit",
        "/accessibility",
    ):
        assert kind in admin, f"the admin's crawl never reached {kind}"
    participant = " ".join(survey.pages["participant"])
    for kind in ("/feedback", "/review", "/s/", "/privacy", "/withdraw", "/join/"):
        assert kind in participant, f"the participant's crawl never reached {kind}"


def test_axe_finds_no_violation_on_any_page_at_either_width(survey: Survey) -> None:
    assert survey.violations == [], f"{len(survey.violations)} axe violations:\n" + "\n".join(survey.violations)


def test_every_chart_has_a_title_a_description_and_its_numbers_beside_it(survey: Survey) -> None:
    assert survey.charts == [], "\n".join(survey.charts)


def test_tables_keep_their_column_headers_on_a_phone(survey: Survey) -> None:
    """Below 640 px the tables used to hide their header row (display: none), taking it out of the
    accessibility tree: every data cell needs a rendered column header at 390 px."""
    assert survey.headerless_cells == [], "cells without a column header:\n" + "\n".join(survey.headerless_cells)


def test_the_root_font_size_follows_the_browsers_setting(survey: Survey) -> None:
    """``:root { font-size: 16px }`` ignored the browser's setting; at a 32 px default the root is 32 px."""
    assert survey.root_font == [], "root font size not 32 px:\n" + "\n".join(survey.root_font)


def test_no_page_scrolls_sideways_at_390_px_with_text_at_200_percent(survey: Survey) -> None:
    assert survey.sideways == [], "pages wider than the window:\n" + "\n".join(survey.sideways)


def contrast(first: tuple[float, ...], second: tuple[float, ...]) -> float:
    """WCAG's contrast ratio of two sRGB colours (0-255 channels)."""

    def luminance(rgb: tuple[float, ...]) -> float:
        linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rgb(css: str, over: tuple[float, ...] = (255, 255, 255)) -> tuple[float, ...]:
    """A CSS ``rgb()``/``rgba()`` or ``#rrggbb`` colour, composited over ``over`` when translucent."""
    if css.startswith("#"):
        return tuple(int(css[i : i + 2], 16) for i in (1, 3, 5))
    values = [float(v) for v in re.findall(r"[\d.]+", css)]
    alpha = values[3] if len(values) > 3 else 1.0
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(values[:3], over, strict=True))


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, "390")
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, "1280")
    yield context.new_page()
    context.close()


def expected_scores(profile: str) -> dict[str, float]:
    """The facet scores ``answers_like(profile)`` gives, by facet name (English), and career clarity."""
    names = {f.code: f.name["en"] for f in KOMPAS.facets}
    signature = REFERENCE_PROFILES[profile].signature
    facets = {item.facet for item in FACET_ITEMS.values()}
    return {names[f]: 4.0 + 2 * signature.get(f, 0) for f in facets} | {"Career clarity": 6.0}


def test_every_feedback_chart_gives_a_blind_participant_their_scores(desktop: Page, site: dict) -> None:
    """The seven charts were role="img" named "You / Average" and nothing else: a screen reader user
    heard none of their scores. Each now has a title, a description in words, and a table of its numbers."""
    desktop.goto(f"{site['base']}/p/{site['links']['submitted']}/feedback?lang=en")
    desktop.locator("details.chart-data summary").first.click()
    desktop.screenshot(path=str(artifact_dir("a11y") / "feedback-1280.png"), full_page=True)
    charts = desktop.locator("svg.chart[role=img]")
    assert charts.count() == 7
    expected = expected_scores("Nerd")
    read = 0
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.locator("title").first.text_content() and chart.get_attribute("aria-labelledby")
        description = desktop.evaluate(
            "svg => document.getElementById(svg.getAttribute('aria-describedby')).textContent", chart.element_handle()
        )
        table = chart.locator("xpath=following-sibling::details[1]//table")
        assert table.count() == 1, f"chart {index + 1} has no table of its numbers beside it"
        headers = [h.strip() for h in table.locator("thead th").all_text_contents()]
        assert headers[1:] == ["You", "Average"], headers
        for row in table.locator("tbody tr").all():
            name = row.locator("th").text_content().strip()
            you, mean = (float(cell) for cell in row.locator("td").all_text_contents())
            if name in expected:
                assert you == expected[name], f"{name}: the table says {you}, the answers give {expected[name]}"
                read += 1
            assert f"{name}: You {you:.1f}, Average {mean:.1f}" in description
    assert read >= 25, f"only {read} of the participant's scores were in the tables"


def test_chart_labels_are_at_least_11_px_on_a_phone(phone: Page, site: dict) -> None:
    """The charts' text was scaled down with the drawing to 3.5-7 px on a phone."""
    phone.goto(f"{site['base']}/p/{site['links']['submitted']}/feedback?lang=en")
    sizes = phone.evaluate(
        """() => [...document.querySelectorAll('svg.chart text')].map(t =>
             [t.textContent, t.getBoundingClientRect().height,
              parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a])"""
    )
    assert len(sizes) > 50
    phone.screenshot(path=str(artifact_dir("a11y") / "feedback-390.png"), full_page=True)
    small = [(text, round(size, 1)) for text, _, size in sizes if size < 11]
    assert small == [], f"chart text below 11 px at 390 px: {small[:10]}"
    desktop_like = [height for _, height, _ in sizes]
    assert min(desktop_like) >= 11, "a label's rendered box is lower than 11 px"


def test_chart_colours_have_3_to_1_contrast_with_their_background(desktop: Page, site: dict) -> None:
    """The sample mean's tick was #f2a541 on white (2.2:1)."""
    desktop.goto(f"{site['base']}/p/{site['links']['submitted']}/feedback?lang=en")
    marks = desktop.evaluate(
        """() => [...document.querySelectorAll('svg.chart title')].map(t => t.parentElement)
             .filter(m => m.tagName !== 'svg')
             .map(m => [m.tagName, m.getAttribute('fill') || m.getAttribute('stroke')])"""
    )
    colours = {colour for _, colour in marks}
    assert len(colours) >= 2, colours  # the bars and the sample mean
    low = {c: round(contrast(rgb(c), (255, 255, 255)), 2) for c in colours if contrast(rgb(c), (255, 255, 255)) < 3}
    assert low == {}, f"chart colours below 3:1 on white: {low}"


FOCUS_JS = """() => {
  const el = document.activeElement;
  let target = el;
  // a visually hidden control (the questionnaire's radio buttons) shows its focus on the box after it
  if (parseFloat(getComputedStyle(el).opacity) === 0 && el.nextElementSibling) target = el.nextElementSibling;
  const style = getComputedStyle(target);
  let ring = null;
  if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) ring = style.outlineColor;
  else { const m = style.boxShadow.match(/rgba?\\([^)]*\\)/); if (m) ring = m[0]; }
  let node = target.parentElement, background = 'rgb(255, 255, 255)';
  while (node) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour && colour !== 'transparent' && !/, 0\\)$/.test(colour)) { background = colour; break; }
    node = node.parentElement;
  }
  const label = (el.textContent || el.name || '').trim().slice(0, 30);
  return {ring, background, what: `${el.tagName.toLowerCase()} "${label}"`};
}"""


def test_the_focus_ring_has_3_to_1_contrast_with_what_is_next_to_it(desktop: Page, site: dict) -> None:
    """The ring was a 65% orange glow: 1.5-2.2:1 on white and on the top bar."""
    base, links, low, checked = site["base"], site["links"], [], 0
    admin = roles(site)[0]
    log_in(desktop, base, admin)
    pages = [
        "/",
        f"/studies/{site['study_id']}/participants",
        f"/p/{links['fresh_en']}/s/interests",
        f"/p/{links['submitted']}/feedback",
    ]
    for path in pages:
        desktop.goto(base + path)
        for _ in range(14):
            desktop.keyboard.press("Tab")
            focus = desktop.evaluate(FOCUS_JS)
            if focus["what"].startswith("body"):
                break
            checked += 1
            background = rgb(focus["background"])
            if focus["ring"] is None:
                low.append(f"{focus['what']} on {path}: no focus ring")
                continue
            ratio = contrast(rgb(focus["ring"], background), background)
            if ratio < 3:
                low.append(f"{focus['what']} on {path}: {ratio:.2f}:1 ({focus['ring']} on {focus['background']})")
    assert checked >= 30
    assert low == [], "focus rings below 3:1:\n" + "\n".join(low)


def test_the_mailbox_marks_each_message_with_its_language(desktop: Page, site: dict) -> None:
    """The mailbox (an English page) showed Dutch invitations without lang="nl"."""
    base = site["base"]
    log_in(desktop, base, roles(site)[0])
    desktop.goto(f"{base}/mailbox")
    languages = {email: language for email, _, language in DEMO_PARTICIPANTS}
    rows = desktop.locator("tbody tr")
    assert rows.count() >= len(DEMO_PARTICIPANTS)
    seen = set()
    for row in rows.all():
        recipient = row.locator("td").nth(1).inner_text().strip()
        if recipient not in languages:
            continue
        link = row.locator("a")
        declared = link.evaluate("a => a.closest('[lang]').getAttribute('lang')")
        assert declared == languages[recipient], f"{link.inner_text()} to {recipient} is marked {declared!r}"
        seen.add(languages[recipient])
    assert seen == {"nl", "en"}
    desktop.locator("tbody tr", has_text="anna.devries@example.org").locator("a").first.click()
    assert desktop.locator("h1").get_attribute("lang") == "nl"
    assert desktop.locator("pre.mail-text").get_attribute("lang") == "nl"
    assert desktop.frame_locator("iframe.mail-preview").locator("html").get_attribute("lang") == "nl"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_participant_pages_state_the_language_they_are_in(desktop: Page, site: dict, language: str) -> None:
    links = site["links"]
    headings = {
        "nl": ("Jouw persoonlijke terugkoppeling", "Jouw deelname en gegevens"),
        "en": ("Your personal feedback", "Your participation and data"),
    }[language]
    for path, heading in zip(
        (f"/p/{links['submitted']}/feedback", f"/p/{links['fresh']}/privacy"), headings, strict=True
    ):
        desktop.goto(f"{site['base']}{path}?lang={language}")
        assert desktop.locator("html").get_attribute("lang") == language
        assert desktop.locator("h1").first.inner_text() == heading
        switch = desktop.locator("a.langswitch")
        assert switch.get_attribute("lang") == {"nl": "en", "en": "nl"}[language]
