"""Login and logout pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from studyapp.accounts import management
from studyapp.accounts.forms import LanguageForm, LoginForm
from studyapp.accounts.services import AccountError, authenticate, load_active_user
from studyapp.core.inputs import forbidden_character
from studyapp.core.models import User
from studyapp.database import get_session
from studyapp.extensions import limiter, login_manager

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The logged-in account behind a session cookie (an inactive or unknown one logs out)."""
    return load_active_user(session=get_session(), user_id=user_id)


#: Per address, on top of the lockout of an account after five failures: slows down trying many accounts.
LOGIN_ATTEMPTS = "10 per minute; 100 per hour"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_ATTEMPTS, methods=["POST"], key_func=get_remote_address)
def login():
    """Show the login form; log in and go to the page that was asked for."""
    if current_user.is_authenticated:
        return redirect(url_for("studies.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        result = authenticate(
            session=session,
            email=form.email.data or "",
            password=form.password.data or "",
            ip_address=request.remote_addr or "",
        )
        session.commit()  # a failed attempt counts towards the lockout, too
        if result.user is not None:
            login_user(result.user)
            return redirect(_safe_next(request.args.get("next")))
        flash(result.message, "error")
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the login session."""
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/language", methods=["POST"])
@login_required
def change_language():
    """The signed-in user chooses the language of the app and of their e-mails; back to the same page."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    session = get_session()
    user = current_user._get_current_object()  # the account itself, not Flask-Login's proxy
    try:
        changed = management.set_language(session=session, actor=user, user=user, language=form.language.data or "")
    except AccountError:
        abort(400)
    session.commit()
    refresh()  # the message below in the new language
    if changed:
        flash(_("The app now speaks English to you."), "success")
    return redirect(_safe_next(form.next.data))


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a login link cannot send people elsewhere (nor a CR/LF make a header)."""
    if target and forbidden_character(target) is None:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("studies.dashboard")
