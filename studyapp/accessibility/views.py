"""``/accessibility``: the public accessibility statement, linked from every page's footer."""

from __future__ import annotations

from email.utils import parseaddr

from flask import Blueprint, current_app, render_template

bp = Blueprint("accessibility", __name__)

#: when the checks the statement describes were last run and the statement reviewed
REVIEWED_ON = "2026-11-30"


@bp.route("/accessibility")
def statement() -> str:
    """The accessibility statement (public; the model Dutch public bodies publish)."""
    settings = current_app.config["STUDYAPP_SETTINGS"]
    contact = parseaddr(settings.mail_from)[1]
    return render_template("accessibility/statement.html", contact=contact, reviewed_on=REVIEWED_ON)
