"""Backups and restores of the whole database, with a manifest of row counts and checksums per table.

SQLite uses its online backup API (a consistent copy while the app runs); PostgreSQL uses ``pg_dump
--format=custom`` and ``pg_restore --clean``. Next to each backup a ``.json`` manifest records every
table's row count and a checksum of its rows, read from the same moment as the backup (the copy itself,
or pg_dump's exported snapshot), and a restore is checked against it. On PostgreSQL the checksums are
computed by the server (one aggregate statement per table, constant memory); on SQLite the rows are streamed
and hashed in Python (see :data:`FINGERPRINT_METHODS`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from sqlalchemy import MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from studyapp.core.types import utcnow


class BackupError(RuntimeError):
    """A backup or restore that could not be made or does not match its manifest."""


#: How a manifest's checksums were computed. ``rows-sha256``: a SHA-256 over every row's values in primary-key
#: order, computed in Python (SQLite; every PostgreSQL backup before issue 17). ``md5-sum``: computed by
#: PostgreSQL itself, one statement per table: the first 64 bits of each row's MD5 (of the row's text), summed
#: over the rows modulo 2**64 (order-independent and constant memory in the server; no row reaches Python; MD5
#: rather than PostgreSQL's own hash functions, whose values may differ between platforms).
ROWS_SHA256 = "rows-sha256"
MD5_SUM = "md5-sum"
FINGERPRINT_METHODS = (ROWS_SHA256, MD5_SUM)

#: Rows read per round trip where rows are hashed in Python.
HASH_CHUNK = 10_000

# A row's text must read the same in the backed-up and the restored database, whatever the session's settings.
_ROW_TEXT_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}


class TableFingerprint(TypedDict, total=False):
    """A table's row count and its checksum (``sha256`` or ``md5_sum``, by the manifest's method)."""

    rows: int
    sha256: str
    md5_sum: str


@dataclass(frozen=True)
class BackupReport:
    """Where the backup went and what it holds."""

    path: Path
    manifest: Path
    tables: dict[str, TableFingerprint]


def fingerprint_method(engine: Engine) -> str:
    """How backups of ``engine``'s database fingerprint their tables (see :data:`FINGERPRINT_METHODS`)."""
    return MD5_SUM if engine.dialect.name == "postgresql" else ROWS_SHA256


def fingerprints(engine: Engine, method: str | None = None) -> dict[str, TableFingerprint]:
    """Every table's row count and checksum, by ``method`` (default: the one backups of this database use)."""
    with engine.connect() as connection:
        return fingerprints_on(connection, method or fingerprint_method(engine))


def fingerprints_on(connection: Connection, method: str) -> dict[str, TableFingerprint]:
    """:func:`fingerprints` read through ``connection`` (so within its transaction's snapshot)."""
    if method == MD5_SUM:
        return _md5_sums(connection)
    if method == ROWS_SHA256:
        return _row_hashes(connection)
    raise BackupError(f"unknown checksum method {method!r}")


def _md5_sums(connection: Connection) -> dict[str, TableFingerprint]:
    """Per table, one statement in PostgreSQL: the row count and the sum of the rows' MD5s (their first 64 bits)."""
    for name, value in _ROW_TEXT_SETTINGS.items():
        connection.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})
    quote = connection.dialect.identifier_preparer.quote
    result: dict[str, TableFingerprint] = {}
    for name in sorted(inspect(connection).get_table_names()):
        rows, total = connection.execute(
            text(
                "SELECT count(*), coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint), 0) "
                f"FROM {quote(name)} AS t"
            )
        ).one()
        result[name] = {"rows": int(rows), "md5_sum": f"{int(total) % 2**64:016x}"}
    return result


def _row_hashes(connection: Connection) -> dict[str, TableFingerprint]:
    """Per table, a SHA-256 over its rows in primary-key order, read in chunks of :data:`HASH_CHUNK`."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    result: dict[str, TableFingerprint] = {}
    for name, table in sorted(metadata.tables.items()):
        order = list(table.primary_key.columns) or list(table.columns)
        digest = hashlib.sha256()
        count = 0
        rows = connection.execute(select(table).order_by(*order), execution_options={"yield_per": HASH_CHUNK})
        for row in rows:
            digest.update(repr(tuple(_plain(v) for v in row)).encode())
            count += 1
        result[name] = {"rows": count, "sha256": digest.hexdigest()}
    return result


def _plain(value: object) -> object:
    if isinstance(value, memoryview):
        return bytes(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def _sqlite_file(engine: Engine) -> str:
    if engine.url.database is None:
        raise BackupError("An in-memory SQLite database has no file to back up or restore.")
    return engine.url.database


def _libpq(engine: Engine) -> tuple[str, str]:
    """A URL pg_dump understands and the schema the app uses."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    return url, schema


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client)")
    return found


def _pg_dump_with_fingerprints(engine: Engine, path: Path) -> dict[str, TableFingerprint]:
    """``pg_dump`` and the manifest's fingerprints from one exported snapshot (one moment in time)."""
    url, schema = _libpq(engine)
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            done = subprocess.run(
                [
                    _tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    f"--schema={schema}",
                    f"--snapshot={snapshot}",
                    f"--file={path}",
                    url,
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
            return fingerprints_on(connection, MD5_SUM)


def backup(engine: Engine, path: Path) -> BackupReport:
    """Write a consistent backup of the database to ``path`` and its manifest to ``path.json``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The manifest describes exactly what the backup holds, even while the app and scheduler write.
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_file(engine))
        target = sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        copy = create_engine(f"sqlite:///{path}")
        try:
            tables = fingerprints(copy, ROWS_SHA256)  # read from the copy itself
        finally:
            copy.dispose()
    elif engine.dialect.name == "postgresql":
        tables = _pg_dump_with_fingerprints(engine, path)
    else:
        raise BackupError(f"no backup for {engine.dialect.name}")
    manifest = manifest_path(path)
    manifest.write_text(
        json.dumps(
            {
                "made_at": utcnow().isoformat(),
                "dialect": engine.dialect.name,
                "checksums": fingerprint_method(engine),
                "tables": tables,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    os.chmod(path, 0o600)
    return BackupReport(path, manifest, tables)


def manifest_path(path: Path) -> Path:
    """Where the manifest of the backup at ``path`` is: beside it, with ``.json`` added."""
    return path.with_name(path.name + ".json")


def _read_manifest(path: Path) -> tuple[str, dict[str, TableFingerprint]]:
    """The manifest's checksum method and tables; a manifest without a method is from before issue 17
    (rows hashed in Python)."""
    manifest = manifest_path(path)
    if not manifest.exists():
        raise BackupError(
            f"{manifest} is missing: without the manifest the restored rows cannot be checked against the "
            "backup. Put the manifest beside the backup, or restore with --no-verify to go on unchecked."
        )
    try:
        content = json.loads(manifest.read_text(encoding="utf-8"))
        tables, method = content["tables"], content.get("checksums", ROWS_SHA256)
        if not isinstance(tables, dict):
            raise TypeError("'tables' is not an object")
        if method not in FINGERPRINT_METHODS:
            raise ValueError(f"unknown checksum method {method!r}")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise BackupError(f"cannot read the manifest {manifest}: {error}") from None
    return method, tables


def restore(engine: Engine, path: Path, *, verify: bool = True) -> dict[str, TableFingerprint]:
    """Replace the database's contents with the backup at ``path``; checks the result against its manifest.

    Returns the restored tables' fingerprints. Raises :class:`BackupError`, before the database is
    touched, when the manifest (``path.json``) is missing or unreadable, and afterwards when a table
    differs from it. ``verify=False`` restores without reading any manifest: nothing is checked.
    """
    path = Path(path)
    if not path.exists():
        raise BackupError(f"{path} does not exist")
    method, expected = _read_manifest(path) if verify else (fingerprint_method(engine), None)
    engine.dispose()  # no pooled connection may hold a lock or a stale page
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(path)
        target = sqlite3.connect(_sqlite_file(engine))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    elif engine.dialect.name == "postgresql":
        url, _schema = _libpq(engine)
        engine.dispose()
        done = subprocess.run(
            [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", f"--dbname={url}", str(path)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    else:
        raise BackupError(f"no restore for {engine.dialect.name}")
    found = fingerprints(engine, method)
    if expected is not None:  # always, unless the caller chose verify=False
        differing = sorted(name for name in set(expected) | set(found) if expected.get(name) != found.get(name))
        if differing:
            raise BackupError(f"restored tables differ from the manifest: {', '.join(differing)}")
    return found
