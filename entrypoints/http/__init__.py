"""The HTTP API: a Flask app factory, its blueprints and the edge's error translation."""

from entrypoints.http.app import create_app

__all__ = ["create_app"]
