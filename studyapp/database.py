"""Binds one engine to the app and gives each request its own session."""

from __future__ import annotations

from flask import Flask, abort, current_app, g
from sqlalchemy.engine import Engine
from sqlmodel import Session

from studyapp.core.db import make_engine
from studyapp.core.models import Cohort, Participant, Study
from studyapp.core.privacy import Privacy
from studyapp.settings import Settings

_ENGINE_KEY = "studyapp.engine"
_READER_KEY = "studyapp.reading_engine"
_REPLICAS: dict[str, Engine] = {}


def init_app(app: Flask) -> None:
    """Create the app's engine (one per process) and close request sessions on teardown."""
    settings = app.config["STUDYAPP_SETTINGS"]
    url = app.config.get("DATABASE_URL", settings.database_url)
    primary = app.config.get("ENGINE") or make_engine(url)
    app.extensions[_ENGINE_KEY] = primary
    app.extensions[_READER_KEY] = app.config.get("REPLICA_ENGINE") or reading_engine(settings, primary)
    app.teardown_appcontext(_close_session)


def reading_engine(settings: Settings, primary: Engine) -> Engine:
    """The engine exports and analyses read their data through: the read replica when
    ``REPLICA_DATABASE_URL`` is set (one engine per process), otherwise ``primary``.

    What they write (the audit entry, the analysis result) always goes to the primary.
    """
    url = settings.replica_database_url
    if not url:
        return primary
    if url not in _REPLICAS:
        _REPLICAS[url] = make_engine(url)
    return _REPLICAS[url]


def engine_of(app: Flask | None = None) -> Engine:
    """The engine bound to ``app`` (default: the current app)."""
    return (app or current_app).extensions[_ENGINE_KEY]


def reading_engine_of(app: Flask | None = None) -> Engine:
    """The engine bound to ``app`` for reading research data in bulk (see :func:`reading_engine`)."""
    return (app or current_app).extensions[_READER_KEY]


def get_reading_session() -> Session:
    """A session of the current request or CLI command on :func:`reading_engine_of` (the primary's own
    session when there is no replica)."""
    if reading_engine_of() is engine_of():
        return get_session()
    if "db_reading_session" not in g:
        g.db_reading_session = Session(reading_engine_of(), expire_on_commit=False)
    return g.db_reading_session


def get_session() -> Session:
    """The session of the current request or CLI command, created on first use."""
    if "db_session" not in g:
        g.db_session = Session(engine_of(), expire_on_commit=False)
    return g.db_session


def rollback_session() -> None:
    """Roll back the current request's session, if it has one (an error page must be able to query).

    A rollback that fails too (the connection is gone) leaves a fresh session for the page instead.
    """
    session = g.get("db_session")
    if session is None:
        return
    try:
        session.rollback()
    except Exception:  # the connection itself failed: start over with a new session
        g.pop("db_session", None)
        session.close()


def _close_session(exc: BaseException | None) -> None:
    for name in ("db_session", "db_reading_session"):
        session = g.pop(name, None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def privacy_of(app: Flask | None = None) -> Privacy:
    """The app's :class:`~studyapp.core.privacy.Privacy` (keys from its settings)."""
    app = app or current_app
    privacy = app.extensions.get("studyapp.privacy")
    if privacy is None:
        settings = app.config["STUDYAPP_SETTINGS"]
        privacy = Privacy(pseudonym_key=settings.pseudonym_key, identity_keys=settings.identity_key)
        app.extensions["studyapp.privacy"] = privacy
    return privacy


def study_or_404(study_id: int) -> Study:
    """The study with this id, or a 404 page (for the admin views of every feature)."""
    study = get_session().get(Study, study_id)
    if study is None:
        abort(404)
    return study


def participant_or_404(participant_id: int) -> tuple[Participant, Cohort, Study]:
    """A participant with their cohort and study, or a 404 page (for the admin views of every feature)."""
    session = get_session()
    participant = session.get(Participant, participant_id)
    if participant is None:
        abort(404)
    cohort = session.get(Cohort, participant.cohort_id)
    study = session.get(Study, cohort.study_id) if cohort is not None else None
    if cohort is None or study is None:
        abort(404)
    return participant, cohort, study
