"""``circulate db ...``: schema migrations."""

from __future__ import annotations

import click
from dependency_injector.wiring import Provide, inject

from adapters.sqlalchemy import migrate
from entrypoints.cli.command import ServiceGroup
from entrypoints.cli.output import json_option, print_json
from entrypoints.container import Container


@click.group(cls=ServiceGroup)
def db() -> None:
    """Manage the database schema (CIRCULATE_DATABASE_URL)."""


@db.command()
@click.argument("revision", default="head")
@inject
def upgrade(
    revision: str,
    storage: str = Provide[Container.config.storage],
    database_url: str = Provide[Container.config.database_url],
) -> None:
    """Migrate the schema up to REVISION (default: head).

    \b
    Example:
      CIRCULATE_DATABASE_URL=postgresql://circulate@db/circulate circulate db upgrade
    """
    _require_sql(storage)
    migrate.upgrade(database_url, revision=revision)
    click.echo(f"database schema at revision {migrate.current(database_url)}")


@db.command()
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@inject
def downgrade(
    revision: str,
    yes: bool,
    storage: str = Provide[Container.config.storage],
    database_url: str = Provide[Container.config.database_url],
) -> None:
    """Migrate the schema down to REVISION ('base' removes every table, and the data with it).

    \b
    Example:
      circulate db downgrade 0001
      circulate db downgrade base --yes
    """
    _require_sql(storage)
    if not yes:
        click.confirm(
            f"Downgrade the schema to {revision}? Tables and columns added since are dropped "
            "with their data.",
            abort=True,
        )
    migrate.downgrade(database_url, revision=revision)
    click.echo(f"database schema at revision {migrate.current(database_url) or 'base (empty)'}")


@db.command()
@json_option
@inject
def current(
    as_json: bool,
    storage: str = Provide[Container.config.storage],
    database_url: str = Provide[Container.config.database_url],
) -> None:
    """Show the schema revision of the database and the newest this version knows.

    \b
    Example:
      circulate db current
    """
    _require_sql(storage)
    revision, head = migrate.current(database_url), migrate.head()
    if as_json:
        print_json({"current": revision, "head": head, "up_to_date": revision == head})
        return
    state = "up to date" if revision == head else f"behind head {head}: run 'circulate db upgrade'"
    click.echo(f"{revision or 'base (empty)'} ({state})")


def _require_sql(storage: str) -> None:
    if storage != "sql":
        raise click.ClickException(
            f"nothing to migrate: CIRCULATE_STORAGE is {storage!r}, which keeps no schema"
        )
