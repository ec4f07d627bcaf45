"""``/healthz``: the container's health check (the app answers and its database is migrated and reachable)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from studyapp.core import migrate
from studyapp.database import get_session

bp = Blueprint("health", __name__)

_AT_HEAD = "studyapp.schema_at_head"


def _schema_at_head() -> bool:
    """Whether the database's Alembic revision is the newest one; once it is, that is remembered.

    An empty or unmigrated database (no ``alembic_version``, or an older revision) is not healthy:
    the app would fail on its first real query. Once at head the schema only changes through a new
    deployment, which starts new processes, so later checks cost one ``SELECT 1``.
    """
    if current_app.extensions.get(_AT_HEAD):
        return True
    at_head = migrate.revision_on(get_session().connection()) == migrate.head_revision()
    if at_head:
        current_app.extensions[_AT_HEAD] = True
    return at_head


@bp.route("/healthz")
def healthz():
    """200 when the database answers at the newest migration; 503 otherwise (no details leak either way)."""
    try:
        get_session().execute(text("SELECT 1"))
        at_head = _schema_at_head()
    except Exception:  # any database failure makes the instance unhealthy
        return jsonify(status="unavailable"), 503
    if not at_head:
        return jsonify(status="migrations pending"), 503
    return jsonify(status="ok")
