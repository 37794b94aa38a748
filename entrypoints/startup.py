"""What every serving process does first: logging, then a refusal of unsafe production settings.

Also the schema check that every command and server runs before touching the database, so an
unmigrated database is refused in one line instead of answering every request with an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from entrypoints.settings import Settings


class UnsafeProductionSettings(RuntimeError):
    """Production settings that must not serve: a missing or placeholder secret, a default."""


def check_production(settings: Settings) -> None:
    """Raise, with one line naming every problem, when production settings are not safe."""
    if settings.environment != "production":
        return
    problems = settings.production_problems()
    if problems:
        raise UnsafeProductionSettings("refusing to start in production: " + "; ".join(problems))


class SchemaNotAtHead(RuntimeError):
    """The database's schema is missing, behind or ahead of this version's migrations."""


def check_schema(engine: Engine) -> None:
    """Raise, with one line that says what to run, unless the schema is at the migration head."""
    # Imported here: alembic is needed only by the processes that check, not by every import.
    from adapters.sqlalchemy import migrate

    problem = migrate.schema_problem(engine)
    if problem is None:
        return
    if problem.code_is_older:
        raise SchemaNotAtHead(f"{problem.description}: install the newer Circulate that made it")
    raise SchemaNotAtHead(f"{problem.description}: run `circulate db upgrade` first")


def checked_engine(database_url: str) -> Engine:
    """An engine for ``database_url`` whose schema is known to be at the head."""
    # Imported here, as the checks are: the container imports this module for its errors.
    from adapters.sqlalchemy.engine import create_engine_for

    engine = create_engine_for(database_url)
    try:
        check_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def prepare(settings: Settings) -> None:
    from entrypoints.logs import configure_logging

    configure_logging(settings)
    check_production(settings)
