"""The app under gunicorn as the image runs it (its Dockerfile CMD), in a subprocess on a free port."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT, free_port

BIN = Path(sys.executable).parent


def image_command() -> list[str]:
    """The Dockerfile's CMD, as the image runs it."""
    text = (ROOT / "docker" / "Dockerfile").read_text().replace("\\\n", " ")
    return json.loads(re.search(r"^CMD (\[.*\])$", text, re.MULTILINE).group(1))


@dataclass
class Server:
    base: str
    log: Path


@contextmanager
def image_gunicorn(folder: Path, env: dict[str, str], *, workers: int = 1) -> Iterator[Server]:
    """Migrate a SQLite database in ``folder`` and serve it with the image's gunicorn command."""
    command = image_command()
    port = free_port()
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = str(workers)
    env = {
        "DATABASE_URL": f"sqlite:///{folder / 'app.db'}",
        "STUDYAPP_INSTANCE": str(folder),
        "PATH": "",
        "PYTHONPATH": str(ROOT),  # this checkout's code, whichever checkout the venv was installed from
        **env,
    }
    subprocess.run([BIN / "studyapp", "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT)
    log = folder / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen([BIN / command[0], *command[1:]], env=env, stdout=output, stderr=output, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield Server(f"http://127.0.0.1:{port}", log)
    finally:
        server.terminate()
        server.wait(timeout=30)
