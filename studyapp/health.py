"""``/healthz``: the container's health check (the app answers and the database is reachable)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from studyapp.database import get_session

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (no details leak either way)."""
    try:
        get_session().execute(text("SELECT 1"))
    except Exception:  # any database failure makes the instance unhealthy
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")
