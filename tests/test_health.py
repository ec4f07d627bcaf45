"""The health check the container uses, and the WSGI entry point behind a proxy."""

from __future__ import annotations

import importlib

from sqlalchemy import text
from sqlmodel import SQLModel

from studyapp.app import create_app
from studyapp.core import migrate
from studyapp.core.db import make_engine
from studyapp.settings import load_settings


def test_healthz_answers_when_the_database_does(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def _app_on(engine):
    app = create_app({"TESTING": True, "ENGINE": engine}, settings=load_settings({}, scheduler_enabled=False))
    app.config["TESTING"] = False  # errors handled as in production
    return app


def test_healthz_is_503_on_an_empty_database_until_it_is_migrated(database) -> None:
    """A container must not report healthy before `studyapp db upgrade` has run."""
    client = _app_on(database.engine).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json == {"status": "migrations pending"}
    migrate.upgrade(database.engine, "0004")  # an older schema: the newest migration is missing
    assert client.get("/healthz").status_code == 503
    migrate.upgrade(database.engine)
    response = client.get("/healthz")  # the same process notices, no restart needed
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_healthz_is_503_on_tables_made_without_migrations(database) -> None:
    SQLModel.metadata.create_all(database.engine)  # tables, but no Alembic revision
    assert _app_on(database.engine).test_client().get("/healthz").status_code == 503


def test_healthz_checks_the_revision_until_it_is_at_head_then_only_the_database(database) -> None:
    migrate.upgrade(database.engine)
    client = _app_on(database.engine).test_client()
    assert client.get("/healthz").status_code == 200
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert client.get("/healthz").status_code == 200  # remembered: one SELECT 1 per check from now on


def test_healthz_is_503_without_a_database() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    app = create_app({"TESTING": True, "ENGINE": engine}, settings=load_settings({}, scheduler_enabled=False))
    app.config["TESTING"] = False  # the error is handled as in production
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json == {"status": "unavailable"}


def test_wsgi_app_trusts_the_configured_number_of_proxies(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PROXY_COUNT", "1")
    monkeypatch.setenv("STUDYAPP_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SCHEDULER_ENABLED", "false")
    import studyapp.wsgi

    module = importlib.reload(studyapp.wsgi)
    seen = {}

    @module.app.get("/_addr")
    def _addr():
        from flask import request

        seen["addr"], seen["scheme"] = request.remote_addr, request.scheme
        return ""

    module.app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "203.0.113.7", "scheme": "https"}


def test_a_database_outage_gets_a_friendly_try_again_page() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    app = create_app({"TESTING": True, "ENGINE": engine}, settings=load_settings({}, scheduler_enabled=False))
    client = app.test_client()
    page = client.get("/p/some-personal-link")
    assert page.status_code == 503 and "Retry-After" in page.headers
    assert "Please try again in a minute" in page.get_data(as_text=True)
    saved = client.post("/p/some-personal-link/s/career/autosave", data={"cc_1": "2"})
    assert saved.status_code == 503 and saved.json == {"error": "unavailable", "retry": True}
