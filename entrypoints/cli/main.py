"""``circulate``: the root command group, its options and how refusals are reported.

Each command's module is imported only when that command runs (or when help lists them all),
and only it is wired to the container: ``circulate books import`` does not pay for the HTTP
application, the migration tool or the demo data at start-up.
"""

from __future__ import annotations

import getpass
import importlib
import logging
import os
import sys
import uuid
from typing import Any, cast

import click
from dependency_injector import containers, providers
from pydantic import ValidationError

from application.audit import Actor, acting_as
from domain.errors import DomainError
from entrypoints.container import Container, build_container, dispose
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings, describe_validation_error
from entrypoints.startup import checked_engine

# Command name -> "module:attribute" of its click command.
COMMANDS = {
    "db": "entrypoints.cli.db:db",
    "serve": "entrypoints.cli.serve:serve",
    "members": "entrypoints.cli.members:members",
    "books": "entrypoints.cli.books:books",
    "loans": "entrypoints.cli.loans:loans",
    "holds": "entrypoints.cli.holds:holds",
    "categories": "entrypoints.cli.rules:categories",
    "item-types": "entrypoints.cli.rules:item_types",
    "rules": "entrypoints.cli.rules:rules",
    "calendar": "entrypoints.cli.rules:calendar",
    "account": "entrypoints.cli.account:account",
    "audit": "entrypoints.cli.audit:audit",
    "report": "entrypoints.cli.report:report",
    "demo": "entrypoints.cli.demo:demo",
    "keys": "entrypoints.cli.identity:keys",
    "api-keys": "entrypoints.cli.identity:api_keys",
    "clients": "entrypoints.cli.identity:clients",
    "sessions": "entrypoints.cli.identity:sessions",
    "worker": "entrypoints.cli.worker:worker",
    "jobs": "entrypoints.cli.worker:jobs",
    "notices": "entrypoints.cli.worker:notices",
    "webhooks": "entrypoints.cli.webhooks:webhooks",
}
_CLI_PACKAGE = "entrypoints.cli."
# Commands that work on the schema itself, or never touch the database.
SCHEMA_FREE_COMMANDS = {"db", "keys"}


def describe(error: Exception) -> str:
    """One line for an operator: what was refused and why, without a traceback."""
    if isinstance(error, ValidationError):
        return describe_validation_error(error)
    if isinstance(error, DomainError):
        return f"{error.code}: {error.message}"
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def os_user() -> str:
    """Who runs the command, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container): its number
        return str(os.getuid())


class CirculateGroup(click.Group):
    """Turns any failure into ``Error: <one line>`` on stderr and exit status 1.

    With ``--debug`` the exception propagates instead, traceback and all. A closed pipe on
    standard output ends the command quietly with status 0. Commands are loaded from
    ``COMMANDS`` when first asked for.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # The reader has had enough (`circulate books list | head`): stop quietly, as a
            # pipeline expects, and keep the interpreter's final flush from failing again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(0) from None
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

    Settings come from CIRCULATE_* environment variables (see docs/configuration.md).
    """
    # ``Container()`` builds a ``DynamicContainer``, so the check is for any container.
    if isinstance(ctx.obj, containers.Container):
        container = cast(Container, ctx.obj)  # given by the caller (tests), who disposes of it
        container.wire()
    else:
        container = build_container(Settings(), wire=False)
        # The invoked command's module is imported by now (click resolves the command before it
        # calls this group): wire it, and only what else of the CLI has been imported.
        container.wire(
            modules=[
                module
                for name, module in list(sys.modules.items())
                if name.startswith(_CLI_PACKAGE)
            ],
            packages=[],  # not the configured packages, which would import them all
            warn_unresolved=True,
        )
        ctx.call_on_close(lambda: dispose(container))
        ctx.obj = container
    settings = container.settings()
    if settings.storage == "sql" and ctx.invoked_subcommand not in SCHEMA_FREE_COMMANDS:
        # Checked when a command first uses the database, so `--help` works on any database.
        container.engine.override(
            providers.ThreadSafeSingleton(checked_engine, container.config.database_url)
        )
    # What the command changes is audited as the operating-system user who ran it; the
    # invocation's id ties its records together as a request id does over HTTP.
    ctx.with_resource(acting_as(Actor(f"cli:{os_user()}", uuid.uuid4().hex)))
    # A command reports what it did itself; its log shows warnings and errors unless --debug.
    quieter = max(logging.getLevelName(settings.log_level), logging.WARNING)
    configure_logging(settings, level="DEBUG" if debug else logging.getLevelName(quieter))
