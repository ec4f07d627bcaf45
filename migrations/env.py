"""Alembic environment: runs on the engine the caller passes (see studyapp.core.migrate)."""

from alembic import context
from sqlmodel import SQLModel

import studyapp.core.db
import studyapp.core.models  # noqa: F401  (registers every table)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    connection = config.attributes.get("connection")
    if connection is None and engine is None:
        from studyapp.core.db import make_engine
        from studyapp.settings import load_settings

        engine = make_engine(load_settings().database_url)

    def run(conn) -> None:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            compare_type=True,
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()

    if connection is not None:
        run(connection)
    else:
        with engine.begin() as conn:
            run(conn)


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
