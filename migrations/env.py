"""Alembic environment: run migrations against ``sqlalchemy.url`` of the Alembic config.

The URL comes from the config's ``sqlalchemy.url`` option (set by ``adapters.sqlalchemy.migrate``
or an ``alembic.ini``), else the ``CIRCULATE_DATABASE_URL`` environment variable, else the
embedded default ``sqlite:///circulate.db``. Engines come from the adapter's
``create_engine_for``, so migrations connect exactly as the application does.
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Connection

from adapters.sqlalchemy.engine import create_engine_for, normalise_url
from adapters.sqlalchemy.models import metadata
from adapters.sqlalchemy.search import schema_filters

DEFAULT_URL = "sqlite:///circulate.db"

config = context.config
if config.config_file_name is not None and config.get_section("loggers") is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    return (
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("CIRCULATE_DATABASE_URL")
        or DEFAULT_URL
    )


def _configure(**options: Any) -> None:
    context.configure(
        target_metadata=metadata,
        compare_type=True,
        compare_server_default=True,
        **options,
    )


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade --sql``)."""
    url = normalise_url(database_url())
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    # SQLite's DDL is transactional once the sqlite3 module stops managing transactions (the
    # engine sees to that), so a whole upgrade commits or rolls back as one.
    _configure(
        connection=connection,
        render_as_batch=sqlite,
        transactional_ddl=True,
        **schema_filters(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            # Foreign keys were off while tables were rebuilt (below); check them before
            # committing, so a migration cannot leave dangling references behind.
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if problems:
                raise RuntimeError(f"migration broke foreign keys: {problems[:10]}")


def run_migrations_online() -> None:
    engine = create_engine_for(database_url())
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # SQLite rebuilds a table to alter it ("batch" migrations), which would trip
                # the foreign keys of referencing tables. The pragma only works outside a
                # transaction, so it goes to the driver connection before Alembic begins one.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
