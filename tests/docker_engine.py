"""A Docker engine for the image tests: the one already running, or one these tests start and stop.

Containers run with the host's network only (the engine is started without a bridge, NAT or iptables
rules), so everything they reach is on this machine's loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BASE_IMAGE = "debian:bookworm-slim"


class DockerUnavailable(RuntimeError):
    """No engine is running and none can be started here."""


def docker(*args: str, timeout: float = 120, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run the docker client; output as text."""
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=check, **kwargs)


def engine_answers() -> bool:
    """Whether a Docker engine answers the client."""
    if shutil.which("docker") is None:
        return False
    try:
        return docker("info", "--format", "{{.ServerVersion}}", timeout=20, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@contextmanager
def running_engine(log_path: Path) -> Iterator[None]:
    """Use the running engine, or start ``dockerd`` (as root) for the duration and stop it after."""
    if engine_answers():
        yield
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None or os.geteuid() != 0:
        raise DockerUnavailable("no Docker engine answers and dockerd cannot be started here (needs root)")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [dockerd, "--iptables=false", "--ip-masq=false", "--bridge=none"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not engine_answers():
            if process.poll() is not None or time.monotonic() > deadline:
                raise DockerUnavailable(f"dockerd did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.5)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ensure_base_image(repository: Path) -> None:
    """Make the Debian base image from a Debian mirror when it is not there (no Docker Hub here)."""
    if docker("image", "inspect", BASE_IMAGE, check=False).returncode == 0:
        return
    if shutil.which("debootstrap") is None:
        raise DockerUnavailable(f"{BASE_IMAGE} is missing and debootstrap is not installed to make it")
    subprocess.run(
        ["bash", str(repository / "docker" / "offline-base-image.sh")],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )


def build_context(repository: Path, destination: Path) -> Path:
    """The repository's files (tracked and new, not ignored) plus this machine's extra CA certificates."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repository,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = repository / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    extra_ca = destination / "docker" / "extra-ca"
    extra_ca.mkdir(parents=True, exist_ok=True)
    for certificate in Path("/usr/local/share/ca-certificates").glob("*.crt"):
        shutil.copy2(certificate, extra_ca / certificate.name)
    return destination


def build_image(context: Path, tag: str) -> str:
    """``docker build`` the app image (the classic builder, with the host's network); returns its log."""
    result = docker(
        "build",
        "--network",
        "host",
        "-f",
        "docker/Dockerfile",
        "-t",
        tag,
        ".",
        cwd=context,
        timeout=1500,
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    if result.returncode != 0:
        raise AssertionError(f"docker build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result.stdout
