"""The click classes of ``circulate``'s commands: each sets the service up right before it runs.

The set-up (``entrypoints.cli.context.start``: settings, the container wired to the command's
module, logging) waits until a command's own arguments have been parsed, so ``--help`` and a
usage error answer at once, whatever the settings or the database. Every command module makes
its groups with ``cls=ServiceGroup`` and its lone commands with ``cls=ServiceCommand``.
"""

from __future__ import annotations

from typing import Any

import click


class ServiceCommand(click.Command):
    """A command that runs against the service."""

    def invoke(self, ctx: click.Context) -> Any:
        # Imported here: asking for help, or failing to parse, never needs the service.
        from entrypoints.cli.context import start

        start(ctx)
        return super().invoke(ctx)


class ServiceGroup(click.Group):
    """A group whose commands, and groups within it, are service commands."""

    command_class = ServiceCommand
    group_class = type  # a group within is a ServiceGroup too
