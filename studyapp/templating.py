"""Template filters shared by all pages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from studyapp.core.wave_status import wave_status
from studyapp.formatting import decimal


def init_app(app: Flask) -> None:
    """Register the filters."""
    default_tz = app.config["STUDYAPP_SETTINGS"].timezone

    @app.template_filter("localtime")
    def localtime(value: datetime | None, tz: str | None = None, fmt: str = "%d %b %Y %H:%M") -> str:
        """A UTC time shown in the study's time zone."""
        if value is None:
            return "—"
        return value.astimezone(ZoneInfo(tz or default_tz)).strftime(fmt)

    app.add_template_filter(decimal, "decimal")
    # every page that shows where a wave stands asks the same rule (and the same clock)
    app.add_template_global(wave_status, "wave_status")

    @app.template_filter("mask_email")
    def mask_email(value: str) -> str:
        """An e-mail address with the local part hidden, for users without the identity permission."""
        local, _, domain = value.partition("@")
        return f"{local[:1]}•••@{domain}" if domain else "•••"
