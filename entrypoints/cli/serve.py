"""``circulate serve``: the API on Flask's built-in server, or under gunicorn with ``--workers``.

The built-in server is good for development and small single-host installs. ``--workers N``
replaces this process with gunicorn running N worker processes, each building the app from the
same ``CIRCULATE_*`` settings through the app factory; threads, timeouts, logging and metrics
come from ``entrypoints/gunicorn_conf.py``. Unsafe production settings stop both before serving.
"""

from __future__ import annotations

import os
import sys

import click
from dependency_injector.wiring import Provide, inject

from entrypoints.container import Container
from entrypoints.http import create_app
from entrypoints.startup import UnsafeProductionSettings, check_production

GUNICORN_CONFIG = "entrypoints.gunicorn_conf"


@click.command()
@click.option("--host", default=None, help="Interface to listen on [default: CIRCULATE_HOST].")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port to listen on [default: CIRCULATE_PORT].",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Serve with gunicorn and this many worker processes (for production).",
)
@inject
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    container: Container = Provide["<container>"],
) -> None:
    """Serve the HTTP API until interrupted.

    \b
    Example:
      circulate serve --port 8080                     # Flask's development server
      circulate serve --host 0.0.0.0 --workers 4      # gunicorn, 4 worker processes
    """
    settings = container.settings()
    try:
        check_production(settings)
    except UnsafeProductionSettings as error:
        raise click.ClickException(str(error)) from None
    if workers is not None:
        if settings.storage == "memory":
            raise click.ClickException(
                "--workers needs CIRCULATE_STORAGE=sql: every worker process would have its "
                "own in-memory store"
            )
        _exec_gunicorn(host or settings.host, port or settings.port, workers)
        return
    if settings.environment == "production":
        click.echo(
            "warning: this is Flask's development server; in production serve "
            "'entrypoints.http:create_app()' with a WSGI server such as gunicorn",
            err=True,
        )
    app = create_app(container=container)
    app.run(
        host=host or settings.host,
        port=port or settings.port,
        threaded=True,
        use_reloader=False,
        load_dotenv=False,
    )


def gunicorn_command(host: str, port: int, workers: int) -> list[str]:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"  # IPv6 needs brackets
    return [
        sys.executable,
        "-m",
        "gunicorn",
        # Threads, timeouts, logging and metrics come from the CIRCULATE_* settings there.
        "--config",
        f"python:{GUNICORN_CONFIG}",
        "--workers",
        str(workers),
        "--bind",
        bind,
        # gunicorn calls the factory in each worker; settings come from the environment.
        "entrypoints.http:create_app()",
    ]


def _exec_gunicorn(host: str, port: int, workers: int) -> None:
    command = gunicorn_command(host, port, workers)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)  # noqa: S606 (our own interpreter, fixed arguments)
