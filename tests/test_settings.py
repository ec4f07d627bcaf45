"""Settings come from the environment; production refuses default secrets, naming each one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from studyapp.app import create_app
from studyapp.settings import SettingsError, load_settings

GOOD_PRODUCTION = {
    "STUDYAPP_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "PSEUDONYM_KEY": "p" * 40,
    "IDENTITY_KEY": Fernet.generate_key().decode(),
    "SMTP_HOST": "smtp.example.org",
    "DATABASE_URL": "sqlite:////tmp/never-opened.db",
}
OTHER_FERNET = Fernet.generate_key().decode()


def test_defaults_are_safe_for_local_use() -> None:
    settings = load_settings({})
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.min_cell_size == 10
    assert settings.timezone == "Europe/Amsterdam"


def test_values_are_read_and_converted() -> None:
    settings = load_settings({"MIN_CELL_SIZE": "15", "SCHEDULER_ENABLED": "no", "SMTP_PORT": "587"})
    assert (settings.min_cell_size, settings.scheduler_enabled, settings.smtp_port) == (15, False, 587)


def test_bad_number_is_named() -> None:
    with pytest.raises(SettingsError, match="MIN_CELL_SIZE must be a whole number"):
        load_settings({"MIN_CELL_SIZE": "ten"})


def test_production_names_every_default_secret() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"STUDYAPP_ENV": "production"})
    message = str(caught.value)
    for name in ("SECRET_KEY", "PSEUDONYM_KEY", "IDENTITY_KEY", "SMTP_HOST"):
        assert name in message


def test_production_refuses_one_default_among_good_ones() -> None:
    environ = dict(GOOD_PRODUCTION)
    del environ["PSEUDONYM_KEY"]
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    assert "PSEUDONYM_KEY" in str(caught.value)
    assert "SECRET_KEY is" not in str(caught.value)


def test_production_refuses_short_secret() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY must be at least 32 characters"):
        load_settings({**GOOD_PRODUCTION, "SECRET_KEY": "short"})


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"PSEUDONYM_KEY": "s" * 40}, "SECRET_KEY and PSEUDONYM_KEY are the same"),
        ({"SECRET_KEY": " " + "p" * 40 + " "}, "SECRET_KEY and PSEUDONYM_KEY are the same"),  # spaces aside
        ({"IDENTITY_KEY": f"{OTHER_FERNET},{OTHER_FERNET}"}, "IDENTITY_KEY key 1 and IDENTITY_KEY key 2 are the same"),
        (
            {"SECRET_KEY": OTHER_FERNET, "IDENTITY_KEY": f"{Fernet.generate_key().decode()}, {OTHER_FERNET}"},
            "SECRET_KEY and IDENTITY_KEY key 2 are the same",
        ),
        ({"PSEUDONYM_KEY": OTHER_FERNET, "IDENTITY_KEY": OTHER_FERNET}, "PSEUDONYM_KEY and IDENTITY_KEY are the same"),
    ],
)
def test_production_refuses_two_secrets_that_are_the_same(changes: dict[str, str], named: str) -> None:
    """One leaked value must not open two doors: sessions, pseudonyms and identities each have their own."""
    with pytest.raises(SettingsError) as caught:
        load_settings({**GOOD_PRODUCTION, **changes})
    message = str(caught.value)
    assert named in message
    assert OTHER_FERNET not in message and "s" * 40 not in message and "p" * 40 not in message


def test_production_with_real_secrets_starts() -> None:
    app = create_app(settings=load_settings(GOOD_PRODUCTION))
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_cli_refuses_to_start_in_production_with_defaults(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in GOOD_PRODUCTION}
    env.update({"STUDYAPP_ENV": "production", "STUDYAPP_INSTANCE": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "-m", "studyapp.main", "db", "current"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr and "IDENTITY_KEY" in result.stderr


def test_production_hides_internals_and_sends_hsts(tmp_path) -> None:
    from studyapp.core.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'prod.db'}")
    app = create_app({"ENGINE": engine}, settings=load_settings(GOOD_PRODUCTION))

    @app.get("/_boom")
    def _boom():
        raise RuntimeError("secret internals: /srv/app/config.py line 12")

    response = app.test_client().get("/_boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and "Something went wrong" in body
    assert "secret internals" not in body and "Traceback" not in body
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
