"""``circulate serve``: the API on Flask's built-in server.

Good for development and small single-host installs; production runs the same app factory under
gunicorn.
"""

from __future__ import annotations

import click
from dependency_injector.wiring import Provide, inject

from entrypoints.container import Container
from entrypoints.http import create_app


@click.command()
@click.option("--host", default=None, help="Interface to listen on [default: CIRCULATE_HOST].")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port to listen on [default: CIRCULATE_PORT].",
)
@inject
def serve(
    host: str | None,
    port: int | None,
    container: Container = Provide["<container>"],
) -> None:
    """Serve the HTTP API until interrupted."""
    settings = container.settings()
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
