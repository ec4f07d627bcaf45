"""The application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from studyapp import database, extensions, inputs
from studyapp.settings import Settings, load_settings
from studyapp.wiring import register_message_kinds


def create_app(test_config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the web app from ``settings`` (default: the environment).

    ``test_config`` holds Flask config overrides for tests. Refuses to start on invalid settings,
    and in production on default secrets.
    """
    settings = settings or load_settings()
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        STUDYAPP_SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        REMEMBER_COOKIE_SECURE=settings.is_production,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)

    database.init_app(app)
    extensions.init_app(app)
    inputs.init_app(app)  # before the blueprints: their <int:...> routes use its bounded converter

    from studyapp import cli, errors, health, security, templating
    from studyapp.accessibility import views as accessibility_views
    from studyapp.accounts import admin_views as account_admin_views
    from studyapp.accounts import views as account_views
    from studyapp.analyses import views as analysis_views
    from studyapp.auditlog import views as audit_views
    from studyapp.briefings import views as briefing_views
    from studyapp.exports import views as export_views
    from studyapp.fieldwork import views as fieldwork_views
    from studyapp.own_data import views as own_data_views
    from studyapp.participants import admin_views as participant_admin_views
    from studyapp.participants import public_views as participant_public_views
    from studyapp.questionnaire import admin_views as questionnaire_admin_views
    from studyapp.questionnaire import views as questionnaire_views
    from studyapp.studies import views as study_views

    for blueprint in (
        account_views.bp,
        account_admin_views.bp,
        study_views.bp,
        participant_admin_views.bp,
        participant_public_views.bp,
        own_data_views.bp,
        own_data_views.admin_bp,
        questionnaire_views.bp,
        questionnaire_admin_views.bp,
        audit_views.bp,
        export_views.bp,
        fieldwork_views.bp,
        analysis_views.bp,
        briefing_views.bp,
        health.bp,
        accessibility_views.bp,
    ):
        app.register_blueprint(blueprint)
    register_message_kinds(secret_key=app.config["SECRET_KEY"])
    errors.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    return app


def settings_of(app: Flask) -> Settings:
    """The settings object an app was built with."""
    return app.config["STUDYAPP_SETTINGS"]
