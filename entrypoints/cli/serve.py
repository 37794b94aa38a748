"""``circulate serve``: the API under gunicorn in production, or a development server.

In production (and whenever ``--workers`` is given) this process is replaced by gunicorn running
``CIRCULATE_WORKERS`` (or N) worker processes, each building the app from the same
``CIRCULATE_*`` settings through the app factory; threads, timeouts, logging and metrics come from
``entrypoints/gunicorn_conf.py``. Otherwise it serves on werkzeug's threaded development server
and prints what to do next. Unsafe production settings and a database whose schema is not at the
migration head stop both before serving.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import click
from dependency_injector.wiring import Provide, inject
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from entrypoints.cli.command import ServiceCommand
from entrypoints.container import Container
from entrypoints.http import create_app
from entrypoints.settings import Settings
from entrypoints.startup import UnsafeProductionSettings, check_production

GUNICORN_CONFIG = "entrypoints.gunicorn_conf"


@click.command(cls=ServiceCommand)
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
    help="Serve with gunicorn and this many worker processes "
    "[default in production: CIRCULATE_WORKERS].",
)
@inject
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    container: Container = Provide[Container],
) -> None:
    """Serve the HTTP API until interrupted.

    \b
    Example:
      circulate serve --port 8080                     # development server
      circulate serve --host 0.0.0.0 --workers 4      # gunicorn, 4 worker processes
      CIRCULATE_ENVIRONMENT=production circulate serve   # gunicorn, CIRCULATE_WORKERS processes
    """
    settings = container.settings()
    try:
        check_production(settings)
    except UnsafeProductionSettings as error:
        raise click.ClickException(str(error)) from None
    host, port = host or settings.host, port or settings.port
    if settings.environment == "production" and workers is None:
        workers = settings.workers
    if workers is not None and settings.storage == "memory":
        raise click.ClickException(
            "--workers needs CIRCULATE_STORAGE=sql: every worker process would have its "
            "own in-memory store"
        )
    if settings.storage == "sql":
        container.engine()  # its first use checks the schema (see cli/main.py): refuse now
    if workers is not None:
        _exec_gunicorn(host, port, workers)
        return
    app = create_app(container=container)
    click.echo(next_steps(settings, url_of(host, port)), err=True)
    stop = threading.Event()
    if settings.worker_in_this_process():
        # The embedded default needs no other process: notices and jobs run beside the server.
        threading.Thread(
            target=container.worker().run, args=(stop,), name="circulate-worker", daemon=True
        ).start()
    try:
        run_development_server(app, host, port)
    finally:
        stop.set()


def url_of(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in {"0.0.0.0", ""} else host  # noqa: S104 (a URL to print)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def next_steps(settings: Settings, url: str) -> str:
    """What a newcomer does next, printed when the development server starts."""
    circulate = _command_name()
    database = "in memory" if settings.storage == "memory" else settings.database_url
    return "\n".join(
        [
            f"Circulate serving {url} (development server; database: {database})",
            f"  API documentation  {url}/docs",
            f"  Sign in            POST {url}/api/v1/auth/token",
            f"  In a browser       {url}/sign-in   (staff: the desk; members: their pages)",
            f"  No account yet?    {circulate} demo   (a demo library), or",
            f"                     {circulate} members create --role librarian --email ... "
            "--name ...",
            "Press Ctrl+C to stop.",
        ]
    )


def _command_name() -> str:
    """``circulate`` as the user can type it from here (the virtualenv is often not active)."""
    installed = Path(sys.executable).parent / "circulate"
    try:
        relative = installed.relative_to(Path.cwd())
    except ValueError:
        return "circulate"
    return str(relative)


class _QuietRequestHandler(WSGIRequestHandler):
    """The app writes one line per request itself (observability.py); werkzeug's would repeat it."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        del code, size


def run_development_server(app: Flask, host: str, port: int) -> None:
    server = make_server(host, port, app, threaded=True, request_handler=_QuietRequestHandler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


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
