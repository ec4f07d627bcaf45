"""The deployment files agree with the app (no Docker daemon on the CI machine: these are static checks)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from studyapp.settings import _ENV_NAMES

DOCKER = Path(__file__).resolve().parents[1] / "docker"


def test_image_is_slim_non_root_with_a_health_check_and_gunicorn() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^FROM debian:bookworm-slim$", text, re.MULTILINE)
    assert re.search(r"^USER studyapp$", text, re.MULTILINE) and "useradd" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert '"gunicorn"' in text and '"studyapp.wsgi:app"' in text
    for folder in ("studyapp", "waves", "analysis", "migrations"):
        assert re.search(rf"^COPY {folder} {folder}$", text, re.MULTILINE), folder


def test_compose_runs_web_one_scheduler_migrations_and_postgres() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "scheduler"}
    assert services["scheduler"]["command"] == ["studyapp", "scheduler"]
    assert services["migrate"]["command"] == ["sh", "-c", "studyapp db upgrade && studyapp instruments load"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "replicas" not in str(services["scheduler"])  # exactly one scheduler
    environment = services["web"]["environment"]
    assert environment["STUDYAPP_ENV"] == "production" and environment["SCHEDULER_ENABLED"] == "false"
    known = set(_ENV_NAMES.values())
    assert set(environment) <= known, set(environment) - known  # every variable is one the app reads
    for secret in ("SECRET_KEY", "PSEUDONYM_KEY", "IDENTITY_KEY", "SMTP_HOST"):
        assert ":?" in environment[secret]  # compose refuses to start without it


def test_env_example_names_every_variable_compose_needs() -> None:
    compose = (DOCKER / "compose.yaml").read_text()
    needed = set(re.findall(r"\$\{([A-Z_]+):\?", compose))
    example = {line.split("=")[0] for line in (DOCKER / "env.example").read_text().splitlines() if "=" in line}
    assert needed <= example, needed - example
