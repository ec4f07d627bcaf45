"""Production settings over HTTPS in a real browser: what a reverse proxy with TLS gives the app.

Over HTTPS the session cookie is Secure and Flask-WTF checks that a form post's Referer is this site,
so the headers the app sends (its Referrer-Policy above all) decide whether a browser can log in at all.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import expect
from sqlmodel import Session, SQLModel
from werkzeug.serving import make_server

from studyapp.app import create_app
from studyapp.core.db import make_engine
from studyapp.core.types import utcnow
from studyapp.settings import load_settings
from tests.conftest import shot
from tests.factories import (
    PASSWORD,
    enrol,
    invite_with_token,
    load_carriere_kompas,
    make_cohort,
    make_study,
    make_user,
    make_wave,
)
from tests.test_browser_questionnaire import answer_page, go_on

pytestmark = pytest.mark.browser

PRODUCTION = {
    "STUDYAPP_ENV": "production",
    "SECRET_KEY": "s" * 48,
    "PSEUDONYM_KEY": "p" * 48,
    "IDENTITY_KEY": Fernet.generate_key().decode(),
    "SMTP_HOST": "127.0.0.1",
    "DATABASE_URL": "sqlite:////nonexistent/never-opened.db",
}


def _self_signed_certificate(folder: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def https_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The app with production settings, served over TLS from a thread."""
    folder = tmp_path_factory.mktemp("https")
    engine = make_engine(f"sqlite:///{folder / 'site.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        kompas = load_carriere_kompas(session)
        make_user(session)
        cohort = make_cohort(session, make_study(session))
        wave = make_wave(session, cohort, kompas, label="T1")
        person = enrol(session, cohort, "participant@example.org", language="en")
        invitation, token = invite_with_token(session, person, wave)
        invitation.closes_at = utcnow() + dt.timedelta(days=20)
        session.add(invitation)
        session.commit()
    settings = load_settings(PRODUCTION, scheduler_enabled=False, ratelimit_enabled=False)
    app = create_app({"ENGINE": engine}, settings=settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # TLS handshakes in each connection's thread, not in the accepting one: Chromium opens spare
    # connections that send nothing, and a handshake waiting on one would stall the whole server
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_self_signed_certificate(folder))
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.ssl_context = context  # werkzeug then gives the app wsgi.url_scheme "https"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"base": f"https://127.0.0.1:{server.server_port}", "token": token}
    server.shutdown()
    engine.dispose()


@pytest.fixture
def tab(browser) -> Iterator:
    """A browser tab that accepts the test's self-signed certificate; fails on any console error."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.viewport_name = "desktop"
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert errors == [], f"browser errors: {errors}"


def test_researcher_logs_in_and_out_over_https(tab, https_site: dict) -> None:
    base = https_site["base"]
    tab.goto(f"{base}/login")
    tab.get_by_label("E-mail").fill("researcher@example.org")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(f"{base}/")
    expect(tab.get_by_role("heading", name="Studies")).to_be_visible()
    shot(tab, "https-dashboard")
    (cookie,) = [c for c in tab.context.cookies() if c["name"] == "session"]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    tab.get_by_role("button", name="Log out").click()  # another CSRF-protected form post
    tab.wait_for_url(re.compile(rf"{re.escape(base)}/login"))
    expect(tab.get_by_label("E-mail")).to_be_visible()


def test_participant_fills_the_questionnaire_over_https(tab, https_site: dict) -> None:
    url = f"{https_site['base']}/p/{https_site['token']}"
    tab.goto(url + "?lang=en")
    go_on(tab, tab.get_by_role("link", name="Start the questionnaire"))
    with tab.expect_response(lambda r: r.url.endswith("/autosave")) as autosave:
        answer_page(tab)  # the page's script saves each answer as it is given (a same-origin fetch)
    assert autosave.value.request.method == "POST" and autosave.value.status == 200
    for _ in range(20):  # the Carrière Kompas has fewer pages
        if "/s/" not in tab.url:
            break
        title = tab.locator("h1").inner_text()
        if title == "Your profession":
            tab.get_by_label("Engineer").check()
        elif title == "Your current situation":
            tab.get_by_label("I am employed").check()
        else:
            answer_page(tab)
        go_on(tab, tab.get_by_role("button", name=re.compile("^(Next|Review your answers)")))
    tab.get_by_role("button", name="Submit my answers").click()
    expect(tab.get_by_role("heading", name="Your personal feedback")).to_be_visible()
    shot(tab, "https-feedback")
