"""One engine per process and one session per unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlmodel import Session, SQLModel, col, create_engine

# Deterministic constraint names, so migrations can name what they alter on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

if TYPE_CHECKING:  # the models need the naming convention above first
    from studyapp.core.models import AnalysisRun, BriefingRun


def _configure_sqlite(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(database_url: str, **kwargs: object) -> Engine:
    """Create the process's engine; SQLite gets foreign keys, WAL and a busy timeout.

    Errors never show a statement's bound values (``hide_parameters``): they can be pseudonyms,
    answers or a hundred thousand ids, and error messages end up in logs and on consoles.
    """
    url = make_url(database_url)
    kwargs.setdefault("hide_parameters", True)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we install
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 15})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def claim_queued(engine: Engine, model: type[AnalysisRun] | type[BriefingRun], row_id: int) -> bool:
    """Mark a queued background job (an analysis or a briefing run) as running, in its own transaction;
    False when another process got it first."""
    from studyapp.core.types import utcnow

    with session_scope(engine) as session:
        claimed = session.exec(
            update(model)
            .where(col(model.id) == row_id, col(model.status) == "queued")
            .values(status="running", started_at=utcnow())
        )
        return bool(claimed.rowcount == 1)
