"""``circulate db ...``: schema migrations."""

from __future__ import annotations

import click
from dependency_injector.wiring import Provide, inject

from adapters.sqlalchemy import migrate


@click.group()
def db() -> None:
    """Manage the database schema (CIRCULATE_DATABASE_URL)."""


@db.command()
@click.argument("revision", default="head")
@inject
def upgrade(
    revision: str,
    storage: str = Provide["config.storage"],
    database_url: str = Provide["config.database_url"],
) -> None:
    """Migrate the schema up to REVISION (default: head)."""
    if storage != "sql":
        raise click.ClickException(
            f"nothing to migrate: CIRCULATE_STORAGE is {storage!r}, which keeps no schema"
        )
    migrate.upgrade(database_url, revision=revision)
    click.echo(f"database schema at revision {migrate.current(database_url)}")
