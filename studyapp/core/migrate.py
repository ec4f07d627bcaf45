"""Schema changes through Alembic, callable from the CLI, tests and `make run`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs on ``engine`` (the migrations read no other settings)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template",
        "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s",
    )
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema down to ``revision`` (``base`` removes every table)."""
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""
    with engine.connect() as connection:
        return revision_on(connection)


def revision_on(connection: Connection) -> str | None:
    """:func:`current_revision` read through ``connection`` (``None`` without an ``alembic_version``)."""
    return MigrationContext.configure(connection).get_current_revision()


@cache
def _scripts() -> ScriptDirectory:
    # the migration files do not change while a process runs; reading them once keeps checks cheap
    return ScriptDirectory(str(MIGRATIONS_DIR))


def head_revision() -> str | None:
    """The newest revision in ``migrations/``."""
    return _scripts().get_current_head()


def is_up_to_date(engine: Engine) -> bool:
    """Whether the database schema is at the newest revision."""
    return current_revision(engine) == head_revision()


def stamp_head(engine: Engine) -> None:
    """Record the newest revision without running migrations (for a schema made by ``create_all`` in tests)."""
    with engine.begin() as connection:
        MigrationContext.configure(connection).stamp(_scripts(), "head")
