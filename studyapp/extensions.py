"""Flask extensions, created here and bound to an app in :func:`init_app`."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Bind login sessions and CSRF protection (every POST form) to ``app``."""
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    csrf.init_app(app)

    from studyapp.accounts.services import load_active_user

    @login_manager.user_loader
    def _load_user(user_id: str):
        from studyapp.database import get_session

        return load_active_user(session=get_session(), user_id=user_id)
