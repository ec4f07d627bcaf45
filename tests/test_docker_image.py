"""The production image, built and run: migrations, gunicorn with its health check, the scheduler.

Builds ``docker/Dockerfile`` with a Docker engine (started here as root when none runs), then runs the
compose file's ``migrate``, ``web`` and ``scheduler`` commands from that image against a fresh PostgreSQL
database on this machine, with a real SMTP server (aiosmtpd) as the relay. The containers use the host's
network, so the web app listens on 127.0.0.1:8000 as the compose file publishes it.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from cryptography.fernet import Fernet

from studyapp.demo import DEMO_CONTACT_EMAIL, DEMO_RESEARCHER_PASSWORD
from tests.conftest import (
    ARTIFACTS,
    REDIS_URL,
    ROOT,
    RecordingHandler,
    csrf_token_from,
    postgres_url,
    redis_key_prefix,
    running_smtp_server,
)
from tests.docker_engine import (
    DockerUnavailable,
    build_context,
    build_image,
    docker,
    ensure_base_image,
    running_engine,
)

TAG = "bridge-the-gap:test"
WEB_PORT = 8000  # the image's gunicorn binds 8000 and its health check asks 127.0.0.1:8000
HOST = f"127.0.0.1:{WEB_PORT}"
BASE = f"http://{HOST}"
COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
LOGS = ARTIFACTS / "docker"

pytestmark = pytest.mark.docker


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_DOCKER") == "1":
        pytest.fail(f"REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app image, built from the working tree's files."""
    try:
        with running_engine(LOGS / "dockerd.log"):
            ensure_base_image(ROOT)
            context = build_context(ROOT, tmp_path_factory.mktemp("docker-context"))
            log = build_image(context, TAG)
            LOGS.mkdir(parents=True, exist_ok=True)
            (LOGS / "build.log").write_text(log)
            yield TAG
    except DockerUnavailable as problem:
        _unavailable(str(problem))


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A new PostgreSQL database on the test server, dropped afterwards."""
    server = postgres_url()
    if server is None:
        _unavailable("the image test needs PostgreSQL (TEST_DATABASE_URL)")
    conninfo = server.replace("postgresql+psycopg://", "postgresql://")
    name = f"btg_image_{secrets.token_hex(4)}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(conninfo)
    yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="module")
def relay() -> Iterator[RecordingHandler]:
    """The SMTP relay the containers send through: aiosmtpd on a free local port."""
    with running_smtp_server() as controller:
        controller.handler_obj.port = controller.port
        yield controller.handler_obj


@pytest.fixture(scope="module")
def environment(database_url: str, relay: RecordingHandler, redis_prefix: str) -> dict[str, str]:
    """The compose file's environment with real secrets, this machine's database and relay."""
    values = {
        "STUDYAPP_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PSEUDONYM_KEY": secrets.token_urlsafe(48),
        "IDENTITY_KEY": Fernet.generate_key().decode(),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(relay.port),
        "SMTP_SECURITY": "none",
        "SMTP_USER": "",
        "SMTP_PASSWORD": "",
        "MAIL_FROM": "Bridge the Gap <bridge-the-gap@example.org>",
        "BASE_URL": BASE,
        "PROXY_COUNT": "1",  # the requests below come as if through one reverse proxy
        "RATELIMIT_STORAGE_URI": REDIS_URL,  # this machine's Redis in place of the compose file's
        "SCHEDULER_ENABLED": "false",
    }
    assert set(values) == set(COMPOSE["services"]["web"]["environment"]), "the test sets what compose sets"
    values["RATELIMIT_KEY_PREFIX"] = redis_prefix
    return values


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the Redis server the containers count in."""
    with redis_key_prefix("btg-image") as prefix:
        yield prefix


def _env_args(environment: dict[str, str]) -> list[str]:
    return [argument for name, value in environment.items() for argument in ("--env", f"{name}={value}")]


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def stack(image: str, environment: dict[str, str]) -> Iterator[dict[str, str]]:
    """``migrate`` run to completion, then ``web`` and ``scheduler`` running; container logs kept."""
    if not _port_free(WEB_PORT):
        pytest.fail(f"port {WEB_PORT} is taken: the image's web server needs it for this test")
    suffix = secrets.token_hex(3)
    names = {"web": f"btg-web-{suffix}", "scheduler": f"btg-scheduler-{suffix}", "volume": f"btg-instance-{suffix}"}
    env = _env_args(environment)
    migrate = docker("run", "--rm", "--network", "host", *env, image, *COMPOSE["services"]["migrate"]["command"])
    assert "Database at revision" in migrate.stdout + migrate.stderr
    try:
        # the image's own health check command, asked every 2 s instead of every 30 s; a named volume
        # on /app/instance as in the compose file (backups are written there by user 10001)
        docker(
            "run",
            "-d",
            "--name",
            names["web"],
            "--network",
            "host",
            "--health-interval",
            "2s",
            "--volume",
            f"{names['volume']}:/app/instance",
            *env,
            image,
        )
        docker(
            "run",
            "-d",
            "--name",
            names["scheduler"],
            "--network",
            "host",
            *env,
            "--env",
            "SCHEDULER_INTERVAL_SECONDS=5",
            image,
            *COMPOSE["services"]["scheduler"]["command"],
        )
        yield names
    finally:
        LOGS.mkdir(parents=True, exist_ok=True)
        for service in ("web", "scheduler"):
            logs = docker("logs", names[service], check=False)
            (LOGS / f"{service}.log").write_text(logs.stdout + logs.stderr)
            docker("rm", "-f", names[service], check=False)
        docker("volume", "rm", "-f", names["volume"], check=False)


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class _BehindTlsProxy(http.cookiejar.DefaultCookiePolicy):
    """Send the app's Secure cookies back over plain HTTP, as the TLS proxy in front of it would."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


def _opener() -> urllib.request.OpenerDirector:
    """A browser behind the university's reverse proxy: HTTPS to the proxy, HTTP from it to gunicorn."""
    jar = http.cookiejar.CookieJar(policy=_BehindTlsProxy())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "192.0.2.10")]
    return opener


def _log_in(opener: urllib.request.OpenerDirector, email: str, password: str) -> str:
    token = csrf_token_from(opener.open(f"{BASE}/login", timeout=10).read().decode())
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token}).encode()
    # what a browser sends under the app's Referrer-Policy (same-origin) to the HTTPS address
    request = urllib.request.Request(f"{BASE}/login", data=form, headers={"Referer": f"https://{HOST}/login"})
    return opener.open(request, timeout=10).read().decode()


def test_image_runs_as_an_unprivileged_user(image: str) -> None:
    inspected = json.loads(docker("image", "inspect", image).stdout)[0]["Config"]
    assert inspected["User"] == "studyapp"
    assert docker("run", "--rm", image, "id", "-u").stdout.strip() == "10001"
    assert "/healthz" in " ".join(inspected["Healthcheck"]["Test"])


def test_production_refuses_to_start_without_secrets(image: str) -> None:
    result = docker("run", "--rm", "--network", "none", image, "studyapp", "db", "upgrade", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Refusing to start" in output and "SECRET_KEY" in output and "IDENTITY_KEY" in output


def test_web_container_turns_healthy_and_serves_the_app(stack: dict[str, str]) -> None:
    def health() -> str | None:
        status = docker("inspect", "--format", "{{.State.Health.Status}}", stack["web"]).stdout.strip()
        assert status != "unhealthy", docker("logs", stack["web"], check=False).stderr[-3000:]
        return status if status == "healthy" else None

    _wait_for(health, 90, "the web container's health check")
    with urllib.request.urlopen(f"{BASE}/healthz", timeout=10) as response:
        assert json.loads(response.read()) == {"status": "ok"}
    with urllib.request.urlopen(f"{BASE}/login", timeout=10) as response:
        assert "Log in" in response.read().decode()
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "max-age" in response.headers["Strict-Transport-Security"]
    with urllib.request.urlopen(f"{BASE}/static/css/app.css", timeout=10) as response:
        assert response.status == 200 and len(response.read()) > 1000
    with urllib.request.urlopen(f"{BASE}/", timeout=10) as response:  # staff pages send visitors to log in
        assert urllib.parse.urlsplit(response.url).path == "/login"


def test_login_limit_holds_across_the_web_containers_workers(stack: dict[str, str]) -> None:
    """gunicorn runs three workers; the counts are in Redis, so the 11th attempt a minute fails."""
    statuses = []
    for n in range(12):
        opener = _opener()
        opener.addheaders = [("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "198.51.100.7")]
        try:
            _log_in(opener, f"nobody{n}@example.org", "not the password")
            statuses.append(200)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    assert statuses == [200] * 10 + [429] * 2, statuses


def test_scheduler_container_sends_invitations_and_briefings(stack: dict[str, str], relay: RecordingHandler) -> None:
    seeded = docker("exec", stack["web"], "studyapp", "demo", "seed", timeout=300)
    assert "400 simulated participants" in seeded.stdout

    def arrived() -> list | None:
        subjects = [str(message["Subject"]) for _, message in relay.messages]
        invitations = [s for s in subjects if s.startswith(("Uitnodiging:", "Invitation:"))]
        notices = [s for s in subjects if s.startswith(("Nieuwe briefing:", "New briefing:"))]
        return subjects if len(invitations) == 4 and len(notices) == 1 else None

    # the scheduler sends the invitations, fits the simulated cohort's profiles and makes the briefings;
    # the demo's company contact gets one notice for the version, in its language (not one per PDF)
    _wait_for(arrived, 420, "four invitations and one briefing notice from the scheduler container")
    counts = relay.by_message_id()
    assert all(count == 1 for count in counts.values()), counts
    invitation = next(m for _, m in relay.messages if str(m["Subject"]).startswith("Invitation:"))
    link = re.search(rf"{re.escape(BASE)}(/p/[A-Za-z0-9_-]+)", invitation.get_body(("plain",)).get_content())
    assert link, "the invitation carries a personal link on BASE_URL"
    with urllib.request.urlopen(f"{BASE}{link.group(1)}", timeout=10) as response:
        welcome = response.read().decode()
    assert "wave T1" in welcome and "Bridge the Gap" in welcome
    logs = docker("logs", stack["web"])
    assert "GET /p/[link] HTTP/1.1" in logs.stdout + logs.stderr
    assert link.group(1).rsplit("/", 1)[1] not in logs.stdout + logs.stderr  # the access log keeps no token


def test_company_contact_downloads_a_briefing_rendered_in_the_image(stack: dict[str, str], tmp_path: Path) -> None:
    opener = _opener()
    portal = _log_in(opener, DEMO_CONTACT_EMAIL, DEMO_RESEARCHER_PASSWORD)
    links = re.findall(r'href="(/company/briefings/\d+\.pdf)"', portal)
    assert len(links) == 2, portal[-2000:]  # Dutch and English, for the contact's own organisation
    pdf = opener.open(f"{BASE}{links[0]}", timeout=30).read()
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "briefing.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Acme Engineering" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "DejaVu" in fonts and all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded
    pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", pages).group(1)) >= 4


def test_backup_in_the_running_web_container_and_restore_with_the_app_stopped(
    image: str, stack: dict[str, str], environment: dict[str, str]
) -> None:
    # pg_dump refuses a server newer than itself: the compose file's PostgreSQL must match the image's client
    client = docker("exec", stack["web"], "pg_dump", "--version").stdout
    client_major = re.search(r"\) (\d+)\.", client).group(1)
    assert COMPOSE["services"]["db"]["image"] == f"postgres:{client_major}", client
    backup = docker("exec", stack["web"], "studyapp", "backup", "--out", "/app/instance/test.dump", timeout=300)
    assert "test.dump" in backup.stdout
    # the README's restore: stop web and scheduler, `compose run` the restore with web's volume, start again
    docker("stop", stack["web"], stack["scheduler"], timeout=120)
    restored = docker(
        "run",
        "--rm",
        "--network",
        "host",
        "--volume",
        f"{stack['volume']}:/app/instance",
        *_env_args(environment),
        image,
        "studyapp",
        "restore",
        "/app/instance/test.dump",
        "--yes",
        timeout=300,
        check=False,
    )
    output = restored.stdout + restored.stderr
    assert restored.returncode == 0 and "checksums match the manifest" in output, output
    docker("start", stack["web"], stack["scheduler"])
    _wait_for(lambda: _answers(f"{BASE}/healthz"), 90, "the web container after the restore")
    assert "Acme Engineering" in _log_in(_opener(), DEMO_CONTACT_EMAIL, DEMO_RESEARCHER_PASSWORD)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _compose_config(env_file: Path) -> subprocess.CompletedProcess:
    return docker(
        "compose",
        "-f",
        str(ROOT / "docker" / "compose.yaml"),
        "--env-file",
        str(env_file),
        "config",
        "--format",
        "json",
        check=False,
    )


def test_docker_compose_accepts_the_compose_file_and_refuses_missing_secrets(tmp_path: Path) -> None:
    if docker("compose", "version", check=False).returncode != 0:
        pytest.skip("the docker compose plugin is not installed")
    example = (ROOT / "docker" / "env.example").read_text()
    unfilled = tmp_path / "unfilled.env"
    unfilled.write_text(example)
    refused = _compose_config(unfilled)
    assert refused.returncode != 0, refused.stdout
    assert re.search(r"set (POSTGRES_PASSWORD|SECRET_KEY|PSEUDONYM_KEY|IDENTITY_KEY)", refused.stderr), refused.stderr
    filled = tmp_path / "filled.env"
    secrets_given = {"POSTGRES_PASSWORD": "pw", "SECRET_KEY": "k" * 48, "PSEUDONYM_KEY": "p" * 48, "IDENTITY_KEY": "i"}
    filled.write_text(
        "\n".join(
            f"{line}{secrets_given.get(line[:-1], '')}" if line.endswith("=") else line for line in example.splitlines()
        )
    )
    result = _compose_config(filled)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert services["web"]["ports"][0] == {
        "mode": "ingress",
        "host_ip": "127.0.0.1",
        "target": 8000,
        "published": "8000",
        "protocol": "tcp",
    }
    assert services["web"]["environment"]["DATABASE_URL"] == "postgresql://studyapp:pw@db:5432/studyapp"
    assert services["scheduler"]["healthcheck"]["disable"] is True
    for name in ("web", "scheduler"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["image"] == services["migrate"]["image"] == "bridge-the-gap:latest"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["web"]["environment"]["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    assert services["migrate"]["restart"] == "no" and services["web"]["restart"] == "unless-stopped"
    assert {"type": "volume", "source": "instance", "target": "/app/instance", "volume": {}} in services["web"][
        "volumes"
    ]
