"""The accessibility statement: public, linked from every page's footer, saying what was tested and how."""

from __future__ import annotations

from html import unescape

from sqlmodel import Session

from tests.factories import (
    enrol,
    invite_with_token,
    login,
    make_cohort,
    make_instrument,
    make_study,
    make_user,
    make_wave,
)


def test_the_statement_is_public_and_says_what_was_tested_how_and_what_is_not_done(client) -> None:
    response = client.get("/accessibility")
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "<h1>Accessibility statement</h1>" in html
    assert "partially meets the Web Content Accessibility Guidelines (WCAG) 2.1 at level AA" in html
    assert "last reviewed on 2026-11-30" in html
    for tested in (
        "axe-core 4.12 in Chromium on every page, at 1280 and at 390 pixels wide",
        "as a company contact, as a participant",
        "The focus ring has a contrast of at least 3:1",
        "With the browser's text size at 200%, no page scrolls sideways",
        "E-mails state their language and have a title.",
        "tests/test_accessibility.py",
    ):
        assert tested in html, tested
    assert "Known limitations" in html and "PDF documents" in html
    assert 'href="mailto:bridge-the-gap@localhost"' in html


def test_every_page_links_to_the_statement_from_its_footer(client, session: Session) -> None:
    study = make_study(session)
    cohort = make_cohort(session, study)
    wave = make_wave(session, cohort, make_instrument(session))
    _, token = invite_with_token(session, enrol(session, cohort, "p@example.org"), wave)
    make_user(session)
    pages = ["/login", "/no-such-page", f"/p/{token}", f"/p/{token}/privacy", "/accessibility"]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        footer = html[html.index('<footer class="footer">') :]
        assert 'href="/accessibility' in footer, f"no link to the statement in the footer of {path}"
    login(client)
    footer = client.get("/").get_data(as_text=True).split('<footer class="footer">')[1]
    assert '<a href="/accessibility">Accessibility statement</a>' in footer
