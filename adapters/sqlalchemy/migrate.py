"""Schema migrations, driven from code: upgrade, downgrade and ask where a database stands.

The Alembic configuration is built here, pointing at the installed ``migrations`` package, so it
works from any working directory and from a regular (non-editable) install.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from adapters.sqlalchemy.engine import create_engine_for


def migrations_directory() -> Path:
    return Path(str(files("migrations")))


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    if url is not None:
        # The config file syntax interpolates "%": a percent-encoded password must survive it.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head() -> str:
    """The newest revision this code knows."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:
        raise RuntimeError("no migrations found")
    return revision


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at; ``None`` for an empty database."""
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def is_at_head(url: str) -> bool:
    return current(url) == head()


def revision_of(engine: Engine) -> str | None:
    """The revision of the database behind an existing ``engine`` (one connection from its pool)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
