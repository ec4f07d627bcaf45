"""Template filters shared by all pages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _

from studyapp.core.wave_status import wave_status
from studyapp.formatting import decimal

# strftime's fields as CLDR writes them (Babel formats month names in the reader's language)
_CLDR_FIELDS = {"%d": "dd", "%e": "d", "%b": "MMM", "%B": "MMMM", "%Y": "y", "%H": "HH", "%M": "mm", "%S": "ss"}


def _cldr(strftime_format: str) -> str:
    """A strftime format (``%d %b %Y``) as a CLDR date pattern (``dd MMM y``)."""
    pattern = strftime_format
    for field, cldr in _CLDR_FIELDS.items():
        pattern = pattern.replace(field, cldr)
    return pattern


def init_app(app: Flask) -> None:
    """Register the filters."""
    default_tz = app.config["STUDYAPP_SETTINGS"].timezone

    @app.template_filter("localtime")
    def localtime(value: datetime | None, tz: str | None = None, fmt: str = "%d %b %Y %H:%M") -> str:
        """A UTC time shown in the study's time zone, written as the page's language writes it (Babel)."""
        if value is None:
            return "—"
        return format_datetime(value, _cldr(fmt), tzinfo=ZoneInfo(tz or default_tz), locale=current_language())

    @app.template_global("role_name")
    def role_name(role: str) -> str:
        """An account's role as the page's language names it."""
        names = {"admin": _("Admin"), "researcher": _("Researcher"), "company_contact": _("Company contact")}
        return names.get(role, role)

    @app.template_global("state_name")
    def state_name(state: str) -> str:
        """A participant's or wave's status, an invitation's state, a consent event or its actor, translated."""
        names = {
            "active": _("active"),
            "unsubscribed": _("unsubscribed"),
            "withdrawn": _("withdrawn"),
            "erased": _("erased"),
            "planned": _("planned"),
            "sent": _("sent"),
            "opened": _("opened"),
            "started": _("started"),
            "completed": _("completed"),
            "failed": _("failed"),
            "consent_given": _("consent given"),
            "mail_stopped": _("mail stopped"),
            "mail_resumed": _("mail resumed"),
            "erasure_requested": _("erasure requested"),
            "participant": _("participant"),
            "researcher": _("researcher"),
            "system": _("system"),
            "scheduled": _("scheduled"),
            "open": _("open"),
            "paused": _("paused"),
            "closed": _("closed"),
        }
        return names.get(state, state.replace("_", " "))

    @app.template_global("run_status_name")
    def run_status_name(status: str) -> str:
        """An analysis or briefing job's status as the page's language names it."""
        names = {"queued": _("Queued"), "running": _("Running"), "done": _("Done"), "failed": _("Failed")}
        return names.get(status, status)

    @app.template_global("current_language")
    def current_language() -> str:
        """The language of this request's texts ("nl" or "en"), for ``<html lang>`` and Babel's formats."""
        return str(get_locale() or "en")

    app.add_template_filter(decimal, "decimal")
    # every page that shows where a wave stands asks the same rule (and the same clock)
    app.add_template_global(wave_status, "wave_status")

    @app.template_filter("mask_email")
    def mask_email(value: str) -> str:
        """An e-mail address with the local part hidden, for users without the identity permission."""
        local, _, domain = value.partition("@")
        return f"{local[:1]}•••@{domain}" if domain else "•••"
