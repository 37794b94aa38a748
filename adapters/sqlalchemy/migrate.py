"""Schema migrations, driven from code: upgrade, downgrade and ask where a database stands.

The Alembic configuration is built here, pointing at the installed ``migrations`` package, so it
works from any working directory and from a regular (non-editable) install.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine

from adapters.sqlalchemy.engine import create_engine_for, is_memory_sqlite


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


@dataclass(frozen=True)
class SchemaProblem:
    description: str
    # The database is ahead of the code: upgrading the database cannot help.
    code_is_older: bool = False


def schema_problem(engine: Engine) -> SchemaProblem | None:
    """Why the database behind ``engine`` cannot be served by this code, or ``None``.

    A SQLite file that does not exist yet is reported without connecting, since connecting would
    leave an empty file behind.
    """
    url = engine.url
    is_file = url.get_backend_name() == "sqlite" and not is_memory_sqlite(url)
    if is_file and not Path(url.database or "").exists():
        return SchemaProblem(f"there is no database file {url.database}")
    found, wanted = revision_of(engine), head()
    if found == wanted:
        return None
    if found is None:
        return SchemaProblem(f"the database has no schema yet (this version needs {wanted})")
    if not _is_known(found):
        return SchemaProblem(
            f"the database schema is at {found}, newer than this version knows ({wanted})",
            code_is_older=True,
        )
    return SchemaProblem(f"the database schema is at {found} but this version needs {wanted}")


def _is_known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False
