"""Rate limits counted in Redis hold across gunicorn's workers; Redis away costs no page.

With ``memory://`` every worker counts apart, so three workers let up to three times the login limit
through; ``RATELIMIT_STORAGE_URI=redis://...`` (the compose file's setting) makes the 11th attempt a
minute from one address fail, whichever worker takes it.
"""

from __future__ import annotations

import http.cookiejar
import secrets
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


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_guesses_are_counted_across_workers_and_never_refuse_a_real_code(tmp_path: Path, redis_url: str) -> None:
    """Unknown links from one address: one count in Redis for three workers and both link blueprints."""
    from sqlmodel import Session

    from studyapp.core.db import make_engine
    from tests.factories import make_cohort, make_study

    env = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_url}
    with image_gunicorn(tmp_path, env, workers=3) as server:
        engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
        with Session(engine) as session:
            cohort = make_cohort(session, make_study(session))
            cohort.signup_open, cohort.signup_code = True, "open-day-2027"
            session.add(cohort)
            session.commit()
        engine.dispose()
        paths = [f"/p/guess-{n}" if n % 2 else f"/p/guess-{n}/privacy" for n in range(25)]
        statuses = [_status(f"{server.base}{path}") for path in paths]
        real = _status(f"{server.base}/join/open-day-2027")
    assert statuses == [404] * 20 + [429] * 5, statuses
    assert real == 200


def test_no_personal_link_sits_in_the_rate_limit_store(engine, settings, redis_url: str) -> None:
    """Redis keys hold a hash of the link, not the token that opens a participant's answers."""
    import redis

    from studyapp.app import create_app
    from studyapp.core.links import token_hash

    config = {"TESTING": True, "ENGINE": engine, "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_url}
    client = create_app(config, settings=settings).test_client()
    token, code = secrets.token_urlsafe(24), secrets.token_urlsafe(12)
    assert client.get(f"/p/{token}").status_code == 404
    assert client.get(f"/join/{code}").status_code == 404
    store = redis.Redis.from_url(REDIS_URL)
    ours: list[str] = []
    try:
        # the limiter keeps the first key prefix it was given in this process, so search every key
        keys = [key.decode() for key in store.scan_iter("*personal-link*")]
        ours = [key for key in keys if token_hash(token) in key or token_hash(code) in key]
        assert len(ours) == 4, keys  # per minute and per hour, for the link and for the code
        assert not any(token in key or code in key for key in keys)
    finally:
        for key in ours:
            store.delete(key)
        store.close()
