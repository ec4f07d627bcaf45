"""The lock files pin every dependency pyproject.toml declares (`make lock` refreshes them)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pinned(lock: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / lock).read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line):
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


@pytest.mark.parametrize(("lock", "extras"), [("requirements.lock", []), ("requirements-dev.lock", ["dev"])])
def test_every_declared_dependency_is_pinned(lock: str, extras: list[str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"], *(r for extra in extras for r in project["optional-dependencies"][extra])]
    pinned = _pinned(lock)
    missing = sorted({_name(r) for r in declared} - set(pinned))
    assert missing == [], f"{lock} lacks {missing}: run `make lock`"


def test_the_image_and_make_install_use_the_locks() -> None:
    assert "pip install -r requirements.lock" in (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert "-r requirements-dev.lock" in (ROOT / "Makefile").read_text(encoding="utf-8")
