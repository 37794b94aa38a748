"""``circulate``: the root command group, its options and how refusals are reported."""

from __future__ import annotations

import logging
from typing import Any, cast

import click
from dependency_injector import containers
from pydantic import ValidationError

from domain.errors import DomainError
from entrypoints.cli.books import books
from entrypoints.cli.db import db
from entrypoints.cli.demo import demo
from entrypoints.cli.holds import holds
from entrypoints.cli.identity import api_keys, clients, keys, sessions
from entrypoints.cli.loans import loans
from entrypoints.cli.members import members
from entrypoints.cli.report import report
from entrypoints.cli.rules import calendar, categories, item_types, rules
from entrypoints.cli.serve import serve
from entrypoints.container import Container, build_container, dispose
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings, describe_validation_error


def describe(error: Exception) -> str:
    """One line for an operator: what was refused and why, without a traceback."""
    if isinstance(error, ValidationError):
        return describe_validation_error(error)
    if isinstance(error, DomainError):
        return f"{error.code}: {error.message}"
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 500 else text[:497] + "..."


class CirculateGroup(click.Group):
    """Turns any failure into ``Error: <one line>`` on stderr and exit status 1.

    With ``--debug`` the exception propagates instead, traceback and all.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            if ctx.params.get("debug"):
                raise
            raise click.ClickException(describe(error)) from error


@click.group(cls=CirculateGroup)
@click.option("--debug", is_flag=True, help="Log at DEBUG level and show tracebacks on errors.")
@click.version_option(package_name="circulate", prog_name="circulate")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Circulate, a library-circulation service: manage the database and serve the API.

    Settings come from CIRCULATE_* environment variables (see the README).
    """
    # ``Container()`` builds a ``DynamicContainer``, so the check is for any container.
    if isinstance(ctx.obj, containers.Container):
        container = cast(Container, ctx.obj)  # given by the caller (tests), who disposes of it
        container.wire()
    else:
        container = build_container(Settings())
        ctx.call_on_close(lambda: dispose(container))
        ctx.obj = container
    # A command reports what it did itself; its log shows warnings and errors unless --debug.
    settings = container.settings()
    quieter = max(logging.getLevelName(settings.log_level), logging.WARNING)
    configure_logging(settings, level="DEBUG" if debug else logging.getLevelName(quieter))


main.add_command(db)
main.add_command(serve)
main.add_command(members)
main.add_command(books)
main.add_command(loans)
main.add_command(holds)
main.add_command(categories)
main.add_command(item_types)
main.add_command(rules)
main.add_command(calendar)
main.add_command(report)
main.add_command(demo)
main.add_command(keys)
main.add_command(api_keys)
main.add_command(clients)
main.add_command(sessions)
