"""One settings object, read from the environment, with safe local defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from studyapp.core.privacy import PrivacyError, parse_fernet_keys

DEV_SECRET_KEY = "dev-secret-key-not-for-production"
DEV_PSEUDONYM_KEY = "dev-pseudonym-key-not-for-production"
# A valid Fernet key (32 url-safe base64 bytes) that is public, so only for local development.
DEV_IDENTITY_KEY = "ZGV2LWlkZW50aXR5LWtleS1ub3QtZm9yLXByb2R1Y3Q="

ENVIRONMENTS = ("development", "test", "production")
SMTP_SECURITY_MODES = ("none", "starttls", "tls")
INSTANCE_DIR = Path(os.environ.get("STUDYAPP_INSTANCE", Path.cwd() / "instance"))


class SettingsError(RuntimeError):
    """Raised when the environment holds settings the app must not start with."""


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'studyapp.db'}"


@dataclass(frozen=True)
class Settings:
    """Configuration of one process. Build it with :func:`load_settings`."""

    env: str = "development"
    database_url: str = field(default_factory=_default_database_url)
    replica_database_url: str = ""
    secret_key: str = DEV_SECRET_KEY
    pseudonym_key: str = DEV_PSEUDONYM_KEY
    identity_key: str = DEV_IDENTITY_KEY
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: str = "none"
    smtp_rate_per_second: int = 0
    smtp_connections: int = 1
    dispatch_processes: int = 1
    mail_from: str = "Bridge the Gap <bridge-the-gap@localhost>"
    base_url: str = "http://127.0.0.1:5000"
    min_cell_size: int = 10
    timezone: str = "Europe/Amsterdam"
    scheduler_enabled: bool = True
    scheduler_interval_seconds: int = 60
    ratelimit_enabled: bool = True
    proxy_count: int = 0
    ratelimit_storage_uri: str = "memory://"
    ratelimit_key_prefix: str = "bridge-the-gap"
    upload_max_rows: int = 100_000

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def check(self) -> None:
        """Refuse values that are invalid anywhere, and default secrets in production."""
        problems: list[str] = []
        if self.env not in ENVIRONMENTS:
            problems.append(f"STUDYAPP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}")
        if self.smtp_security not in SMTP_SECURITY_MODES:
            problems.append(f"SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY_MODES)}")
        if not 1 <= self.smtp_connections <= 16:
            problems.append("SMTP_CONNECTIONS must be between 1 and 16")
        if not 1 <= self.dispatch_processes <= 16:
            problems.append("DISPATCH_PROCESSES must be between 1 and 16")
        if self.smtp_rate_per_second < 0:
            problems.append("SMTP_RATE_PER_SECOND cannot be negative (0 means no limit)")
        if self.min_cell_size < 1:
            problems.append("MIN_CELL_SIZE must be at least 1")
        if self.replica_database_url and not (
            _is_postgresql(self.replica_database_url) and _is_postgresql(self.database_url)
        ):
            problems.append("REPLICA_DATABASE_URL is for a PostgreSQL read replica of a PostgreSQL DATABASE_URL")
        if self.upload_max_rows < 1:
            problems.append("UPLOAD_MAX_ROWS must be at least 1")
        if self.scheduler_interval_seconds < 1:
            problems.append("SCHEDULER_INTERVAL_SECONDS must be at least 1")

        try:
            parse_fernet_keys(self.identity_key)
        except PrivacyError as error:
            problems.append(str(error))
        if not (1 <= self.smtp_port <= 65535):
            problems.append("SMTP_PORT must be a port number (1-65535)")
        if self.is_production:
            defaults = {
                "SECRET_KEY": DEV_SECRET_KEY,
                "PSEUDONYM_KEY": DEV_PSEUDONYM_KEY,
                "IDENTITY_KEY": DEV_IDENTITY_KEY,
            }
            for name, default in defaults.items():
                value = getattr(self, name.lower())
                if not value or value == default or default in value.split(","):
                    problems.append(f"{name} is missing or the development default")
            for name in ("SECRET_KEY", "PSEUDONYM_KEY"):
                if 0 < len(getattr(self, name.lower())) < 32:
                    problems.append(f"{name} must be at least 32 characters")
            if not self.smtp_host:
                problems.append("SMTP_HOST is missing (production sends real mail)")
            problems += self._same_secrets()
        if problems:
            raise SettingsError("Refusing to start:\n  - " + "\n  - ".join(problems))

    def _same_secrets(self) -> list[str]:
        """Each pair of secrets that are equal, by name (never by value).

        Sessions, pseudonyms and encrypted identities each have their own key so that one leaked
        value opens one door; the same value twice would open several.
        """
        identity_keys = [k.strip() for k in self.identity_key.split(",") if k.strip()]
        secrets = [("SECRET_KEY", self.secret_key.strip()), ("PSEUDONYM_KEY", self.pseudonym_key.strip())]
        if len(identity_keys) == 1:
            secrets.append(("IDENTITY_KEY", identity_keys[0]))
        else:
            secrets += [(f"IDENTITY_KEY key {n}", key) for n, key in enumerate(identity_keys, start=1)]
        return [
            f"{first} and {second} are the same; every secret must have a value of its own"
            for index, (first, value) in enumerate(secrets)
            for second, other in secrets[index + 1 :]
            if value and value == other
        ]


_ENV_NAMES = {
    "env": "STUDYAPP_ENV",
    "database_url": "DATABASE_URL",
    "replica_database_url": "REPLICA_DATABASE_URL",
    "secret_key": "SECRET_KEY",
    "pseudonym_key": "PSEUDONYM_KEY",
    "identity_key": "IDENTITY_KEY",
    "smtp_host": "SMTP_HOST",
    "smtp_port": "SMTP_PORT",
    "smtp_user": "SMTP_USER",
    "smtp_password": "SMTP_PASSWORD",
    "smtp_security": "SMTP_SECURITY",
    "smtp_rate_per_second": "SMTP_RATE_PER_SECOND",
    "smtp_connections": "SMTP_CONNECTIONS",
    "dispatch_processes": "DISPATCH_PROCESSES",
    "mail_from": "MAIL_FROM",
    "base_url": "BASE_URL",
    "min_cell_size": "MIN_CELL_SIZE",
    "timezone": "STUDY_TIMEZONE",
    "scheduler_enabled": "SCHEDULER_ENABLED",
    "scheduler_interval_seconds": "SCHEDULER_INTERVAL_SECONDS",
    "ratelimit_enabled": "RATELIMIT_ENABLED",
    "proxy_count": "PROXY_COUNT",
    "ratelimit_storage_uri": "RATELIMIT_STORAGE_URI",
    "ratelimit_key_prefix": "RATELIMIT_KEY_PREFIX",
    "upload_max_rows": "UPLOAD_MAX_ROWS",
}


def _is_postgresql(url: str) -> bool:
    return url.startswith(("postgresql:", "postgresql+", "postgres:"))


def env_name(field_name: str) -> str:
    """The environment variable that sets a settings field."""
    return _ENV_NAMES[field_name]


def _convert(raw: str, kind: type, name: str) -> object:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    return raw


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from ``environ`` (default ``os.environ``); ``overrides`` win.

    Raises :class:`SettingsError` naming every problem at once.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}  # each converted to its field's type by _convert
    types = {"bool": bool, "int": int, "str": str}
    for f in fields(Settings):
        name = _ENV_NAMES[f.name]
        if name in environ:
            values[f.name] = _convert(environ[name], types[str(f.type)], name)
    values.update(overrides)
    settings = Settings(**values)
    settings.check()
    return settings
