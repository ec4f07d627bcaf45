"""Claims on outbox rows: who holds one, whether that holder still lives, and the heartbeat that keeps it.

A dispatcher claims a batch of rows (status ``sending``) before it sends them. Its claim is a lease: a
heartbeat renews ``claimed_at`` every few seconds while the dispatcher runs, and another dispatcher takes
over rows whose lease has run out (``claim_timeout``, 15 s by default). Rows whose holder ran on this
machine, in this PID namespace, and whose process is gone are taken over at once: a dispatcher killed
with SIGKILL leaves no heartbeat, and the next one need not wait for the lease.

Never two live senders on one row: a dispatcher sends only while its last renewal is younger than half
the lease, so by the time another may take over, it has stopped.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import literal_column, update
from sqlalchemy.engine import Engine

from studyapp.core.models import OutboxMessage
from studyapp.core.models._common import table_of
from studyapp.core.types import utcnow

LEASE = timedelta(seconds=15)
OUTBOX = table_of(OutboxMessage)
log = logging.getLogger(__name__)


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")  # e.g. 'pid:[4026531836]': differs per container
    except OSError:
        return ""


_HOST = socket.gethostname()
_NAMESPACE = _pid_namespace()


def holder_name(worker: str) -> str:
    """``worker`` tagged with where it runs (host, PID namespace, process id), as stored in ``claimed_by``."""
    return f"{worker[:100]}|{_HOST[:60]}|{_NAMESPACE}|{os.getpid()}"


def is_dead(holder: str) -> bool:
    """Whether ``holder`` ran here (same host and PID namespace) in a process that no longer exists.

    Anything else (another machine or container, a reused process id, a name from before holders were
    tagged) counts as alive: its claim is taken over only when its lease runs out.
    """
    parts = holder.rsplit("|", 3)
    if len(parts) != 4 or parts[1] != _HOST[:60] or parts[2] != _NAMESPACE or not parts[3].isdigit():
        return False
    pid = int(parts[3])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed process its parent has not yet reaped is gone, though ``kill(pid, 0)`` still finds it."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class Heartbeat:
    """Renews one holder's claims in a thread of its own while the dispatcher runs (a context manager)."""

    def __init__(self, engine: Engine, holder: str, lease: timedelta, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine, self.holder, self.clock = engine, holder, clock
        self.lease = lease.total_seconds()
        self.interval = max(self.lease / 5, 0.05)
        self._renewed = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat {holder}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def claimed(self, *, at: float) -> None:
        """Note that the holder's claims were stamped at ``at`` (``time.monotonic()`` taken no later).

        The lease counts from that stamp, not from when the batch comes up for sending (the next batch is
        claimed while the current one goes out).
        """
        self._renewed = max(self._renewed, at)

    def holds(self) -> bool:
        """Whether the lease is safely alive: renewed within the last half lease."""
        return time.monotonic() - self._renewed < self.lease / 2

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            started = time.monotonic()
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        update(OUTBOX)
                        .where(OUTBOX.c.claimed_by == self.holder, OUTBOX.c.status == literal_column("'sending'"))
                        .values(claimed_at=self.clock())
                    )
            except Exception as error:  # the database is away: the lease runs out and sending stops
                log.warning("Could not renew the outbox claims of %s: %s", self.holder, str(error).splitlines()[0])
                continue
            self._renewed = started
