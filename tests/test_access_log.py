"""The image's gunicorn command keeps participants' personal-link tokens out of its access log."""

from __future__ import annotations

import contextlib
import secrets
import urllib.error
import urllib.request
from pathlib import Path

from studyapp.access_log import redact
from tests.gunicorn_server import image_command, image_gunicorn


def test_redact_replaces_the_token_in_paths_and_request_lines() -> None:
    assert redact("GET /p/AbC-12_x/s/work?lang=en HTTP/1.1") == "GET /p/[link]/s/work?lang=en HTTP/1.1"
    assert redact("https://study.example.nl/p/AbC-12_x") == "https://study.example.nl/p/[link]"
    assert redact("GET /studies/1/participants HTTP/1.1") == "GET /studies/1/participants HTTP/1.1"


def test_gunicorn_as_the_image_runs_it_logs_no_personal_link(tmp_path: Path) -> None:
    assert "--logger-class" in image_command()
    token = secrets.token_urlsafe(24)
    with image_gunicorn(tmp_path, {}) as server:
        for path in (f"/p/{token}", f"/p/{token}/s/work?lang=en"):
            try:
                urllib.request.urlopen(f"{server.base}{path}", timeout=10).close()
            except urllib.error.HTTPError as error:
                assert error.code == 404  # an unknown link
    written = server.log.read_text()
    assert '"GET /p/[link] HTTP/1.1" 404' in written and '"GET /p/[link]/s/work?lang=en HTTP/1.1" 404' in written
    assert token not in written


def test_redact_catches_double_slashes_codes_queries_and_other_secret_like_segments() -> None:
    token = secrets.token_urlsafe(24)
    assert redact(f"GET /p//{token} HTTP/1.1") == "GET /p//[link] HTTP/1.1"
    assert redact(f"GET //p///{token}/privacy HTTP/1.1") == "GET //p///[link]/privacy HTTP/1.1"
    assert redact("GET /join/Xk3-9aZ_q2Lm8PwR?lang=en HTTP/1.1") == "GET /join/[code]?lang=en HTTP/1.1"
    assert redact(f"GET /login?next=/p/{token}&x=1 HTTP/1.1") == "GET /login?next=/p/[link]&x=1 HTTP/1.1"
    hexed = secrets.token_hex(32)
    assert redact(f"GET /uploads/{token}/preview?key={hexed} HTTP/1.1") == (
        "GET /uploads/[redacted]/preview?key=[redacted] HTTP/1.1"
    )
    assert redact(f"t={token}") == "t=[redacted]"
    kept = "GET /studies/12/participants?q=ana&page=2 HTTP/1.1"
    assert redact(kept) == kept and redact("/static/css/app.css") == "/static/css/app.css"
    assert redact("GET /p/x/s/identification HTTP/1.1") == "GET /p/[link]/s/identification HTTP/1.1"


def test_every_atom_of_the_logger_is_redacted_including_headers_and_environ() -> None:
    """A custom --access-logformat (referer, Location of the redirect, raw URI) shows no token either."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from studyapp.access_log import RedactingLogger

    token = secrets.token_urlsafe(24)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/p//{token}?ref={token}",
        "PATH_INFO": f"/p//{token}",
        "QUERY_STRING": f"ref={token}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.1",
        "HTTP_REFERER": f"https://study.example.nl/join/{token[:16]}",
    }
    response = SimpleNamespace(status="308 PERMANENT REDIRECT", sent=0, headers=[("Location", f"/p/{token}")])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    atoms = RedactingLogger(Config()).atoms(response, request, environ, timedelta(seconds=0.01))
    leaked = {key: value for key, value in atoms.items() if isinstance(value, str) and token[:16] in value}
    assert leaked == {}
    assert atoms["r"] == "GET /p//[link]?ref=[redacted] HTTP/1.1" and atoms["{location}o"] == "/p/[link]"


def test_gunicorn_logs_no_token_in_double_slash_links_sign_up_codes_or_queries(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(24)
    code = secrets.token_urlsafe(12)
    with image_gunicorn(tmp_path, {}) as server:
        for path in (f"/p//{token}", f"/join/{code}", f"/login?next=/p/{token}", f"/healthz?probe={token}"):
            with contextlib.suppress(urllib.error.HTTPError):  # unknown links and codes are 404
                urllib.request.urlopen(f"{server.base}{path}", timeout=10).close()
    written = server.log.read_text()
    assert '"GET /p//[link] HTTP/1.1" 308' in written and '"GET /join/[code] HTTP/1.1" 404' in written
    assert "GET /login?next=/p/[link] HTTP/1.1" in written and "GET /healthz?probe=[redacted]" in written
    assert token not in written and code not in written
