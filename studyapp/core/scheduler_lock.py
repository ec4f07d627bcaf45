"""The scheduler lock: at most one scheduler per database, across processes and machines.

PostgreSQL: a session-level advisory lock held on a connection of its own for the life of the
process (the server lets it go when the process or its connection dies). SQLite: an exclusive
``flock`` on a file beside the database file (the kernel lets it go when the process dies); an
in-memory database belongs to one process, so it needs none.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

#: the advisory lock's first key ("sa" in ASCII; any fixed number would do); the second is the schema's
#: hash, so that databases kept as schemas of one server (tests, staging) each have their own scheduler
ADVISORY_KEY = 0x7361
_TRY = "SELECT pg_try_advisory_lock(:key, hashtext(current_schema()))"
_UNLOCK = "SELECT pg_advisory_unlock(:key, hashtext(current_schema()))"


class SchedulerLock:
    """The lock a scheduler must hold to run; :meth:`acquire` never waits."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._file: IO[str] | None = None
        self.held = False

    @property
    def lock_file(self) -> Path | None:
        """The SQLite lock file, or None (PostgreSQL, or an in-memory database)."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database).with_name(Path(url.database).name + ".scheduler.lock")

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; False (at once) when another scheduler does."""
        if self.held:
            return True
        if self.engine.url.get_backend_name() == "postgresql":
            connection = self.engine.connect()
            taken = bool(connection.execute(text(_TRY), {"key": ADVISORY_KEY}).scalar())
            connection.commit()  # the lock is the session's, not the transaction's
            if not taken:
                connection.close()
                return False
            self._connection = connection
        elif (path := self.lock_file) is not None:
            handle = path.open("a+", encoding="utf-8")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            self._file = handle
        self.held = True
        return True

    def holder(self) -> str:
        """Who holds the lock, as far as can be told (the pid on SQLite), for the log line."""
        path = self.lock_file
        if path is not None and path.exists():
            pid = path.read_text(encoding="utf-8").strip()
            return f"process {pid}" if pid else "another process"
        return "another process"

    def release(self) -> None:
        """Let the lock go (also done by the operating system or server when the process ends)."""
        if self._connection is not None:
            self._connection.execute(text(_UNLOCK), {"key": ADVISORY_KEY})
            self._connection.commit()
            self._connection.close()
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self.held = False
