"""The image's gunicorn command keeps participants' personal-link tokens out of its access log."""

from __future__ import annotations

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
