"""Where a request finds the composition root."""

from __future__ import annotations

from flask import Flask, current_app

from entrypoints.container import Container

CONTAINER_KEY = "circulate.container"


def get_container(app: Flask | None = None) -> Container:
    """The container of ``app`` (the current app by default)."""
    container: Container = (app or current_app).extensions[CONTAINER_KEY]
    return container
