"""Account management pages (admins) and the set-password page (anyone with a valid link)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user

from studyapp.accounts import management
from studyapp.accounts.forms import AccessForm, ActionForm, InviteForm, SetPasswordForm
from studyapp.accounts.services import AccountError
from studyapp.accounts.tokens import LIFETIMES, LinkInvalid
from studyapp.accounts.views import LOGIN_ATTEMPTS
from studyapp.auth import admin_required
from studyapp.database import get_session
from studyapp.extensions import N_, limiter, use_language
from studyapp.inputs import SelectChoice

bp = Blueprint("accounts_admin", __name__)


def _secret_key() -> str:
    return str(current_app.config["SECRET_KEY"])


def _organisation_choices(form: AccessForm) -> None:
    organisations = management.list_organisations(session=get_session())
    form.organisation_id.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(str(o.id), o.name) for o in organisations
    ]


def _checked_invite(form: InviteForm) -> bool:
    """Whether the submitted invitation is sound: the form's and the service's problems show at once,
    each beside its field (as the wave form does), not one round each."""
    form.validate()
    role = form.role.data or ""
    organisation_id = None
    if role == "company_contact" and not form.organisation_id.errors:
        organisation_id = form.organisation()
    problems = management.invite_problems(
        session=get_session(),
        email=form.email.data or "",
        name=form.name.data or "",
        role=role,
        organisation_id=organisation_id,
        language=form.language.data or "",
    )
    for name, message in problems.items():
        field = getattr(form, name)
        if not field.errors:
            field.errors = [*field.errors, message]
    return not any(field.errors for field in form)


@bp.route("/admin/accounts", methods=["GET", "POST"])
@admin_required
def index() -> ResponseReturnValue:
    """Every account, and the form to invite someone by e-mail."""
    session = get_session()
    form = InviteForm()
    _organisation_choices(form)
    if form.is_submitted() and _checked_invite(form):
        try:
            user = management.invite_user(
                session=session,
                admin=current_user,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data or "",
                can_view_identities=bool(form.can_view_identities.data),
                organisation_id=form.organisation() if form.role.data == "company_contact" else None,
                language=form.language.data or "nl",
                secret_key=_secret_key(),
            )
            session.commit()
            flash(
                _("%(email)s is invited: the e-mail with a link to set a password is on its way.", email=user.email),
                "success",
            )
            return redirect(url_for("accounts_admin.index"))
        except AccountError as error:
            session.rollback()
            flash(str(error), "error")
    if request.method == "POST" and any(field.errors for field in form):
        flash(_("The invitation was not sent: see the fields marked below."), "error")
    return render_template(
        "accounts/admin_index.html",
        accounts=management.list_accounts(session=session),
        form=form,
        has_password=management.has_password,
        invite_hours=int(LIFETIMES["invite"].total_seconds() // 3600),
    )


@bp.route("/admin/accounts/<int:user_id>", methods=["GET", "POST"])
@admin_required
def detail(user_id: int) -> ResponseReturnValue:
    """One account: change its role, organisation and identity permission; deactivate; reset."""
    session = get_session()
    try:
        user = management.get_account(session=session, user_id=user_id)
    except AccountError:
        abort(404)
    form = AccessForm(obj=None if request.method == "POST" else user)
    _organisation_choices(form)
    if request.method == "GET":
        form.organisation_id.data = str(user.organisation_id or "")
    if form.validate_on_submit():
        try:
            changed = management.change_access(
                session=session,
                admin=current_user,
                user=user,
                role=form.role.data or "",
                can_view_identities=bool(form.can_view_identities.data),
                organisation_id=form.organisation(),
            )
            if management.set_language(
                session=session, actor=current_user, user=user, language=form.language.data or user.language
            ):
                changed.append(N_("language"))
            session.commit()
            flash(
                _("Changed: %(what)s.", what=", ".join(_(item) for item in changed))
                if changed
                else _("Nothing changed."),
                "success",
            )
            return redirect(url_for("accounts_admin.detail", user_id=user_id))
        except AccountError as error:
            session.rollback()
            flash(str(error), "error")
            user = management.get_account(session=session, user_id=user_id)
    return render_template(
        "accounts/admin_detail.html",
        user=user,
        form=form,
        action_form=ActionForm(),
        has_password=management.has_password(user),
        reset_hours=int(LIFETIMES["reset"].total_seconds() // 3600),
    )


_ACTIONS = {
    "deactivate": (management.deactivate, N_("%(email)s is deactivated: it can no longer log in.")),
    "reactivate": (management.reactivate, N_("%(email)s is active again.")),
}
_MAIL_ACTIONS = {
    "reset-password": (
        management.request_password_reset,
        N_("A link to set a new password is on its way to %(email)s."),
    ),
    "resend-invitation": (management.resend_invitation, N_("A new invitation is on its way to %(email)s.")),
}


@bp.route(
    "/admin/accounts/<int:user_id>/<any('deactivate', 'reactivate', 'reset-password', 'resend-invitation'):action>",
    methods=["POST"],
)
@admin_required
def account_action(user_id: int, action: str) -> ResponseReturnValue:
    """Deactivate, reactivate, send a reset link or send the invitation again."""
    session = get_session()
    try:
        user = management.get_account(session=session, user_id=user_id)
    except AccountError:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if action in _ACTIONS:
            operation, done = _ACTIONS[action]
            operation(session=session, admin=current_user, user=user)
        else:
            mail_operation, done = _MAIL_ACTIONS[action]
            mail_operation(session=session, admin=current_user, user=user, secret_key=_secret_key())
        session.commit()
        flash(_(done, email=user.email), "success")
    except AccountError as error:
        session.rollback()
        flash(str(error), "error")
    return redirect(url_for("accounts_admin.detail", user_id=user_id))


@bp.route("/account/password/<token>", methods=["GET", "POST"])
@limiter.limit(LOGIN_ATTEMPTS, methods=["POST"], key_func=get_remote_address)
def set_password(token: str) -> ResponseReturnValue:
    """Choose a password with the link from an invitation or reset e-mail (never cached: it holds the link)."""
    response = make_response(_set_password(token))
    response.headers["Cache-Control"] = "no-store"
    return response


def _set_password(token: str) -> ResponseReturnValue:
    session = get_session()
    try:
        user, purpose = management.check_link(session=session, token=token, secret_key=_secret_key())
    except LinkInvalid as problem:
        return render_template("accounts/link_invalid.html", reason=str(problem)), 400
    use_language(user.language)  # the page in the language the invitation e-mail was written in
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            management.set_password_with_link(
                session=session,
                token=token,
                password=form.password.data or "",
                secret_key=_secret_key(),
                ip_address=request.remote_addr or "",
            )
            session.commit()
        except LinkInvalid as problem:
            session.rollback()
            return render_template("accounts/link_invalid.html", reason=str(problem)), 400
        except AccountError as error:
            session.rollback()
            flash(str(error), "error")
        else:
            if current_user.is_authenticated:
                logout_user()
            flash(_("Your password is set. Log in with it."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/set_password.html", form=form, user=user, purpose=purpose)
