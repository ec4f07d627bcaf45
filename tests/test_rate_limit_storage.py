"""Rate limits counted in Redis hold across gunicorn's workers; Redis away costs no page.

With ``memory://`` every worker counts apart, so three workers let up to three times the login limit
through; ``RATELIMIT_STORAGE_URI=redis://...`` (the compose file's setting) makes the 11th attempt a
minute from one address fail, whichever worker takes it.
"""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL, csrf_token_from, redis_key_prefix
from tests.gunicorn_server import image_gunicorn


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A key prefix of this test's own on the test Redis."""
    with redis_key_prefix("btg-test") as prefix:
        yield prefix


def _login_statuses(base: str, attempts: int) -> list[int]:
    """Status of each of ``attempts`` failed logins from one address, each on a new connection."""
    statuses = []
    for n in range(attempts):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        token = csrf_token_from(opener.open(f"{base}/login", timeout=10).read().decode())
        form = {"email": f"nobody{n}@example.org", "password": "not the password", "csrf_token": token}
        try:
            with opener.open(f"{base}/login", data=urllib.parse.urlencode(form).encode(), timeout=10) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def test_three_workers_share_the_login_limit_through_redis(tmp_path: Path, redis_url: str) -> None:
    env = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_url}
    with image_gunicorn(tmp_path, env, workers=3) as server:
        statuses = _login_statuses(server.base, 13)
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429] * 3, statuses
    workers = {line.split("pid: ")[1] for line in server.log.read_text().splitlines() if "Booting worker" in line}
    assert len(workers) == 3


def test_an_unreachable_redis_costs_no_page(tmp_path: Path) -> None:
    env = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:9/0"}  # nothing listens on the discard port
    with image_gunicorn(tmp_path, env, workers=1) as server:
        statuses = _login_statuses(server.base, 11)
    assert statuses[:10] == [200] * 10 and statuses[10] == 429, statuses  # counted in memory meanwhile
