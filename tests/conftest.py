"""Fixtures: an isolated database per test on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import studyapp.core.models  # noqa: F401  (registers every table)
from studyapp.app import create_app
from studyapp.core import migrate
from studyapp.core.db import make_engine
from studyapp.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
BACKENDS = ["sqlite", "postgresql"]


def postgres_url() -> str | None:
    """The PostgreSQL server tests may use, or ``None``; a failure when it is required but absent."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
    return None


class Database:
    """A fresh, empty database: a temporary SQLite file or a new PostgreSQL schema."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.schema: str | None = None
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp_path / 'test.db'}"
            self.engine = make_engine(self.url)
            return
        url = postgres_url()
        if url is None:
            pytest.skip("PostgreSQL: set TEST_DATABASE_URL (REQUIRE_POSTGRES=1 makes this a failure)")
        self.schema = f"t_{uuid.uuid4().hex[:16]}"
        admin = make_engine(url)
        try:
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        except Exception as error:  # an unreachable server must not pass silently
            pytest.fail(f"PostgreSQL at {url} is not usable: {error}")
        finally:
            admin.dispose()
        self.url = url
        self.engine = make_engine(url, connect_args={"options": f"-csearch_path={self.schema}"})

    def url_for_subprocess(self) -> str:
        """A URL another process can use to reach this same database (and schema)."""
        if self.schema is None:
            return self.url
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}options=-csearch_path%3D{self.schema}"

    def drop(self) -> None:
        self.engine.dispose()
        if self.schema:
            admin = make_engine(self.url)
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            admin.dispose()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database on each backend."""
    db = Database(request.param, tmp_path)
    yield db
    db.drop()


@pytest.fixture
def engine(database: Database) -> Engine:
    """An engine on a database with every table created (tests only; the app migrates).

    Stamped with the newest Alembic revision, as `studyapp db upgrade` leaves a database, so that
    the app (``/healthz`` among it) sees a migrated schema; tests/test_migrations.py checks that
    the migrations make the same tables.
    """
    SQLModel.metadata.create_all(database.engine)
    migrate.stamp_head(database.engine)
    return database.engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for arranging and checking state."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path):
    """Development settings with the scheduler off (tests start it themselves)."""
    return load_settings({}, scheduler_enabled=False)


@pytest.fixture
def app(engine: Engine, settings) -> Flask:
    """The web app on the test database; CSRF is off here and tested on its own."""
    return create_app({"TESTING": True, "ENGINE": engine, "WTF_CSRF_ENABLED": False}, settings=settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def csrf_token_from(html: str) -> str:
    """The CSRF token in a rendered form."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def artifact_dir(name: str) -> Path:
    """A folder under test-artifacts/ for screenshots and other things to look at."""
    path = ARTIFACTS / name
    path.mkdir(parents=True, exist_ok=True)
    return path


CHROMIUM = Path("/usr/bin/chromium")
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (no browser is downloaded)."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it with apt-get")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(params=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser):
    """A fresh browser page at desktop and at phone width; fails on any console error."""
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    page = context.new_page()
    page.viewport_name = request.param
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert errors == [], f"browser errors: {errors}"


def shot(page, name: str) -> None:
    """A full-page screenshot in test-artifacts/screenshots/, named by page and viewport."""
    page.screenshot(path=str(artifact_dir("screenshots") / f"{name}-{page.viewport_name}.png"), full_page=True)


class RecordingHandler:
    """An aiosmtpd handler that keeps every message and can refuse on demand."""

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()
        self.raw: list = []  # (simulated time, bytes as received)
        self.envelopes: list = []  # (MAIL FROM, RCPT TO addresses, MAIL options) per message
        self.delay = 0.0  # seconds to wait before accepting each message (a slow server)
        self._parsed: list = []
        self.temporary_failures = 0
        self.temporary_code = "451 4.3.0 Please try again later"
        self.rejected: set[str] = set()
        self.now = None  # a callable giving the simulated time of arrival

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.lower() in self.rejected:
            return "550 5.1.1 Mailbox does not exist"
        with self.lock:
            if self.temporary_failures > 0:
                self.temporary_failures -= 1
                return self.temporary_code
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.raw.append((self.now() if self.now else None, envelope.original_content or envelope.content))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), list(envelope.mail_options)))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list:
        """(simulated time, parsed message) for everything that arrived; parsed when asked for."""
        from email import message_from_bytes, policy

        with self.lock:
            raw = list(self.raw)
        while len(self._parsed) < len(raw):
            moment, content = raw[len(self._parsed)]
            self._parsed.append((moment, message_from_bytes(content, policy=policy.default)))
        return list(self._parsed)

    def by_message_id(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, message in self.messages:
            counts[message["Message-ID"]] = counts.get(message["Message-ID"], 0) + 1
        return counts


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_smtp_server(*, smtputf8: bool = False) -> Iterator:
    """A real SMTP server (aiosmtpd) on a free local port; ``.handler_obj`` holds what arrived.

    With ``smtputf8`` it offers SMTPUTF8 (RFC 6531: addresses with non-ASCII local parts).
    """
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=smtputf8)
    controller.start()
    controller.handler_obj = handler
    try:
        yield controller
    finally:
        if controller._thread is not None:  # a test may have stopped it itself (a server that goes away)
            controller.stop()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port; ``.handler`` holds what arrived."""
    with running_smtp_server() as controller:
        yield controller


@pytest.fixture
def smtputf8_server():
    """Like ``smtp_server``, offering SMTPUTF8 (international addresses)."""
    with running_smtp_server(smtputf8=True) as controller:
        yield controller


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def redis_key_prefix(label: str) -> Iterator[str]:
    """A key prefix of the caller's own on the test Redis (``TEST_REDIS_URL``); its keys go afterwards.

    Skips when no Redis answers, or fails with ``REQUIRE_REDIS=1``.
    """
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but no Redis answers at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    prefix = f"{label}-{uuid.uuid4().hex[:8]}"
    try:
        yield prefix
    finally:
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
        client.close()
