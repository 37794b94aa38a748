"""The Flask app factory."""

from __future__ import annotations

from flask import Flask, current_app

from entrypoints.container import Container, build_container
from entrypoints.http import errors, request_id, root
from entrypoints.settings import Settings

CONTAINER_KEY = "circulate.container"
# Request bodies are small JSON documents; anything bigger is refused with 413 before parsing.
MAX_BODY_BYTES = 1024 * 1024


def create_app(settings: Settings | None = None, container: Container | None = None) -> Flask:
    """Build the API around ``container`` (or one built from ``settings``, or the environment).

    The container is attached to the app (``get_container``) and wired, so views declared with
    ``@inject`` receive its providers.
    """
    if container is None:
        container = build_container(settings)
    elif settings is not None:
        raise ValueError("give create_app either settings or a container, not both")
    else:
        container.wire()
    settings = container.settings()

    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        TESTING=settings.environment == "test",
    )
    app.logger.setLevel(settings.log_level)
    app.extensions[CONTAINER_KEY] = container

    request_id.init_app(app)
    errors.init_app(app)
    app.register_blueprint(root.bp)
    return app


def get_container(app: Flask | None = None) -> Container:
    """The container of ``app`` (the current app by default)."""
    container: Container = (app or current_app).extensions[CONTAINER_KEY]
    return container
