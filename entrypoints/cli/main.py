"""``circulate``: the root command group, its options and how refusals are reported.

Start-up is paid by every command, so this module imports Click and nothing of the service:
``circulate --help`` lists the commands from ``COMMANDS`` without importing any of them, and a
command's module is imported only when that command is asked for. The settings, the container
and logging are set up (``entrypoints.cli.context``) only once a command is about to run, so
``circulate books import --help`` imports the books commands and no more, and
``circulate books import`` does not pay for the HTTP application, Redis or the demo data.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import Any

import click

from entrypoints.cli.command import ServiceCommand, ServiceGroup


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives, and the first line of its help for the command list."""

    target: str  # "module:attribute" of its click command
    summary: str  # the same words as the command's own help (a test holds them equal)


COMMANDS = {
    "account": LazyCommand(
        "entrypoints.cli.account:account", "A member's account: fines, payments and what is owed."
    ),
    "api-keys": LazyCommand(
        "entrypoints.cli.identity:api_keys",
        "Create, list and revoke the API keys of integrations.",
    ),
    "audit": LazyCommand(
        "entrypoints.cli.audit:audit",
        "The audit trail, newest first: who changed what, when, from which request.",
    ),
    "books": LazyCommand(
        "entrypoints.cli.books:books",
        "Add, find and remove books; import and export the catalogue.",
    ),
    "calendar": LazyCommand(
        "entrypoints.cli.rules:calendar",
        "The days the library is closed (in the CIRCULATE_TIMEZONE time zone).",
    ),
    "categories": LazyCommand(
        "entrypoints.cli.rules:categories", "Member categories: who borrows on which terms."
    ),
    "clients": LazyCommand(
        "entrypoints.cli.identity:clients",
        "Create, list and revoke OAuth 2.0 service clients (client credentials).",
    ),
    "db": LazyCommand(
        "entrypoints.cli.db:db", "Manage the database schema (CIRCULATE_DATABASE_URL)."
    ),
    "demo": LazyCommand(
        "entrypoints.cli.demo:demo",
        "Fill an empty database with a demo library and print how to sign in.",
    ),
    "holds": LazyCommand("entrypoints.cli.holds:holds", "Place, cancel, list and expire holds."),
    "item-types": LazyCommand(
        "entrypoints.cli.rules:item_types", "Item types: what is lent on which terms."
    ),
    "jobs": LazyCommand("entrypoints.cli.worker:jobs", "The scheduled jobs that the worker runs."),
    "keys": LazyCommand(
        "entrypoints.cli.identity:keys", "Rotate and list the keys that sign access tokens."
    ),
    "loans": LazyCommand("entrypoints.cli.loans:loans", "Lend, return, renew and list loans."),
    "members": LazyCommand(
        "entrypoints.cli.members:members",
        "Register, list, change and remove members and staff.",
    ),
    "notices": LazyCommand(
        "entrypoints.cli.worker:notices", "Notices to members and their delivery."
    ),
    "report": LazyCommand(
        "entrypoints.cli.report:report",
        "Overdue loans and debts per member, who owes most first.",
    ),
    "rules": LazyCommand(
        "entrypoints.cli.rules:rules",
        "The rules matrix: loan terms per (member category, item type).",
    ),
    "serve": LazyCommand("entrypoints.cli.serve:serve", "Serve the HTTP API until interrupted."),
    "sessions": LazyCommand(
        "entrypoints.cli.identity:sessions", "Housekeeping of member sessions."
    ),
    "webhooks": LazyCommand(
        "entrypoints.cli.webhooks:webhooks",
        "Webhooks: signed JSON deliveries of events to other systems.",
    ),
    "worker": LazyCommand(
        "entrypoints.cli.worker:worker",
        "Deliver notices from the outbox and run the scheduled jobs until stopped.",
    ),
}


def describe(error: Exception) -> str:
    """One line for an operator: what was refused and why, without a traceback."""
    # Imported here: only a command that failed needs them.
    from pydantic import ValidationError

    from domain.errors import DomainError
    from entrypoints.settings import describe_validation_error

    if isinstance(error, ValidationError):
        return describe_validation_error(error)
    if isinstance(error, DomainError):
        return f"{error.code}: {error.message}"
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def os_user() -> str:
    """Who runs the command, as the operating system knows them."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container): its number
        return str(os.getuid())


class CirculateGroup(click.Group):
    """Turns any failure into ``Error: <one line>`` on stderr and exit status 1.

    With ``--debug`` the exception propagates instead, traceback and all. A closed pipe on
    standard output ends the command quietly with status 0. Commands are loaded from
    ``COMMANDS`` when first asked for; the command list in the help comes from their summaries.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = COMMANDS.get(cmd_name)
        if lazy is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = lazy.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, ServiceCommand | ServiceGroup):
            # Any other command would run without a container to inject from.
            raise TypeError(f"{lazy.target} is not a service command or group")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Click's own listing imports every command for its short help; this one lays out the
        # same rows from the summaries.
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows: list[tuple[str, str]] = []
        for name in names:
            lazy = COMMANDS.get(name)
            if lazy is not None:
                # A bare command with the summary as its help shortens it as Click would.
                stand_in = click.Command(name, help=lazy.summary)
                rows.append((name, stand_in.get_short_help_str(limit)))
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
def main(debug: bool) -> None:
    """Circulate, a library-circulation service: manage the database and serve the API.

    Settings come from CIRCULATE_* environment variables (see docs/configuration.md).
    """
    # Nothing to do yet: each command sets the service up once its own arguments are parsed
    # (``entrypoints.cli.command``), and reads ``--debug`` from this context then.
