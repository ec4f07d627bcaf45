"""Error pages that say what happened without showing internals."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from studyapp.database import rollback_session
from studyapp.extensions import N_

# marked for the catalogues here, translated when a page shows them (the reader's language)
_MESSAGES = {
    400: (N_("Bad request"), N_("The request could not be understood. Go back and try again.")),
    403: (N_("Not allowed"), N_("Your account does not give access to this page.")),
    404: (N_("Not found"), N_("There is no page at this address.")),
    405: (N_("Not allowed"), N_("This page cannot be used that way.")),
    413: (N_("Too large"), N_("The upload is larger than this site accepts.")),
    429: (N_("Too many requests"), N_("Please wait a moment and try again.")),
    500: (N_("Something went wrong"), N_("The error has been logged. Please try again in a moment.")),
}


UNAVAILABLE = (
    "Please try again in a minute · Probeer het over een minuut opnieuw",
    "The service is briefly unavailable. Everything you saved before is kept; reload this page in a "
    "minute. · De dienst is even niet bereikbaar. Wat je eerder hebt opgeslagen blijft bewaard; laad deze "
    "pagina over een minuut opnieuw.",
)


def init_app(app: Flask) -> None:
    """Render every HTTP error, and CSRF failures, with the site's layout.

    Each handler first rolls back the request's database session: after a failed statement the session
    refuses every query until then, and the page itself needs one (the logged-in user for the menu).
    """

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> ResponseReturnValue:
        rollback_session()
        body = _("The form had expired or was not sent from this site. Reload the page and try again.")
        return render_template("errors/error.html", code=400, title=_("Form expired"), body=body), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        rollback_session()
        code = error.code or 500
        title, body = _MESSAGES.get(code, (error.name, error.description or ""))
        title, body = _(title), _(body) if body else body
        if code == 400 and error.description and error.description != type(error).description:
            body = error.description  # what was wrong, as given by abort(400, "...")
        return render_template("errors/error.html", code=code, title=title, body=body), code

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError) -> ResponseReturnValue:
        # The database is restarting or unreachable: nothing was half-stored (each save is one transaction)
        rollback_session()
        app.logger.warning("Database unavailable: %s", str(error).splitlines()[0][:200])
        if request.path.endswith("/autosave") or request.accept_mimetypes.best == "application/json":
            return jsonify(error="unavailable", retry=True), 503, {"Retry-After": "30"}
        title, body = UNAVAILABLE
        return render_template("errors/error.html", code=503, title=title, body=body), 503, {"Retry-After": "30"}

    @app.errorhandler(Exception)
    def _unexpected_error(error: Exception) -> ResponseReturnValue:
        rollback_session()
        if app.testing:
            raise error
        app.logger.exception("Unhandled error")
        title, body = _MESSAGES[500]
        title, body = _(title), _(body)
        return render_template("errors/error.html", code=500, title=title, body=body), 500
