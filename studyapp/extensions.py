"""Flask extensions, created here and bound to an app in :func:`init_app`."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, gettext, refresh
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from studyapp.core.models import LANGUAGES
from waves.i18n import Text

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()

TRANSLATIONS = Path(__file__).parent / "translations"


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "extract this, translate it later")
    """``message`` unchanged: marks a text for the catalogues that is translated where it is shown."""
    return message


def use_language(language: str) -> None:
    """Show the rest of this request in ``language`` (a participant page: the participant's language)."""
    g.language = language
    refresh()


def localized(text: object) -> str:
    """``text`` in this request's language: a fieldwork-engine :class:`~waves.i18n.Text` is translated
    again from its msgid (the engine made it in English); any other text is shown as it is."""
    if isinstance(text, Text):
        # a value may itself be an engine text (a status word): it is translated too
        values = {name: localized(value) if isinstance(value, Text) else value for name, value in text.values.items()}
        return gettext(text.msgid, **values)
    return str(text)


def localized_error(error: BaseException) -> str:
    """The message of ``error`` in this request's language (see :func:`localized`)."""
    return localized(error.args[0]) if len(error.args) == 1 else str(error)


def environment_language() -> str:
    """The language a command line asks for in LANGUAGE, LC_ALL, LC_MESSAGES or LANG: nl* is Dutch, else English."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "nl" if value.lower().startswith("nl") else "en"
    return "en"


def select_locale() -> str:
    """The language of this request's texts.

    A participant page sets ``g.language`` (the participant's or response's language, or the language
    switch); signed-in staff read their account's language; anonymous staff pages (login, set password)
    take the browser's best match of Dutch and English, English when it names neither. Outside a request
    (a CLI command) the environment's locale decides.
    """
    if not has_request_context():
        return environment_language()
    chosen = g.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    if current_user and current_user.is_authenticated:
        language = getattr(current_user, "language", None)
        if language in LANGUAGES:
            return str(language)
    return request.accept_languages.best_match(LANGUAGES) or "en"


def init_app(app: Flask) -> None:
    """Bind login sessions, CSRF protection (every POST form), rate limits and translations to ``app``."""
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = N_("Please log in to continue.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    settings = app.config["STUDYAPP_SETTINGS"]
    # memory:// counts in each gunicorn worker apart; redis:// shares the counts between workers and
    # containers. A shared store that is down must not turn pages into errors: count in memory meanwhile.
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", settings.ratelimit_key_prefix)  # apps sharing one Redis
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_ENABLED", settings.ratelimit_enabled)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
