"""What a ``circulate`` command has before it runs: the container, wired to the command's
module; the database's schema check; who acts; and logging.

Called by ``ServiceCommand`` once the command's arguments are parsed; kept out of
``entrypoints.cli.main`` and ``entrypoints.cli.command`` so that listing the commands or asking
for help imports none of it.
"""

from __future__ import annotations

import logging
import sys
import uuid
from types import ModuleType
from typing import TYPE_CHECKING, cast

import click
from dependency_injector import containers, providers

from application.audit import Actor, acting_as
from entrypoints.cli.main import os_user
from entrypoints.container import Container, build_container, dispose
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings
from entrypoints.startup import checked_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine

_STARTED = "circulate.started"
# Commands that work on the schema itself, or never touch the database.
SCHEMA_FREE_COMMANDS = {"db", "keys"}


def start(command_ctx: click.Context) -> None:
    """Give the root command's context a wired container and what every command expects.

    Everything is attached to the root context, which outlives the command: the container is
    disposed of and the acting user forgotten when it closes. Only the first call does anything.
    """
    ctx = command_ctx.find_root()
    if ctx.meta.get(_STARTED):
        return
    ctx.meta[_STARTED] = True
    debug = bool(ctx.params.get("debug"))
    # ``Container()`` builds a ``DynamicContainer``, so the check is for any container.
    given = isinstance(ctx.obj, containers.Container)
    if given:
        container = cast(Container, ctx.obj)  # given by the caller (tests), who disposes of it
        container.wire()
    else:
        container = build_container(Settings(), wire=False)
        # Only click commands take injections (a test holds to it), and of them only this one
        # runs: wire its module alone. Wiring looks at every function and class a module holds,
        # so the other CLI modules imported by now would cost more than the command's own.
        container.wire(
            modules=_modules_of(command_ctx),
            packages=[],  # not the configured packages, which would import them all
            warn_unresolved=True,
        )
        ctx.obj = container
    settings = container.settings()
    engines = None
    if settings.storage == "sql" and ctx.invoked_subcommand not in SCHEMA_FREE_COMMANDS:
        # Checked when a command first uses the database, so a command that does not use it
        # works on any database.
        engines = _CheckedEngine()
        container.engine.override(
            providers.ThreadSafeSingleton(engines.checked, container.config.database_url)
        )
    if not given:
        ctx.call_on_close(lambda: _dispose(container, engines))
    # What the command changes is audited as the operating-system user who ran it; the
    # invocation's id ties its records together as a request id does over HTTP.
    ctx.with_resource(acting_as(Actor(f"cli:{os_user()}", uuid.uuid4().hex)))
    # A command reports what it did itself; its log shows warnings and errors unless --debug.
    quieter = max(logging.getLevelName(settings.log_level), logging.WARNING)
    configure_logging(settings, level="DEBUG" if debug else logging.getLevelName(quieter))


def _modules_of(command_ctx: click.Context) -> list[ModuleType]:
    """The modules of the running command and of the groups it is in (below the root)."""
    modules: dict[str, ModuleType] = {}
    ctx: click.Context | None = command_ctx
    while ctx is not None and ctx.parent is not None:
        callback = ctx.command.callback
        if callback is not None:
            modules.setdefault(callback.__module__, sys.modules[callback.__module__])
        ctx = ctx.parent
    return list(modules.values())


class _CheckedEngine:
    """Builds the schema-checked engine and remembers whether it did."""

    def __init__(self) -> None:
        self.built = False

    def checked(self, database_url: str) -> Engine:
        engine = checked_engine(database_url)
        self.built = True
        return engine


def _dispose(container: Container, engines: _CheckedEngine | None) -> None:
    if engines is not None and not engines.built:
        # The command never used the database: asking the provider for an engine to release
        # would check the schema (and import the SQL adapter) only to dispose of it.
        container.engine.override(providers.Object(None))
    dispose(container)
