"""The API's front door: a liveness probe and the index of the version-1 resources."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

API_PREFIX = "/api/v1"

# The collections of version 1, in the order a newcomer meets them.
COLLECTIONS = ("books", "copies", "members", "loans", "holds")

bp = Blueprint("root", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers HTTP. It deliberately touches no database."""
    return jsonify(status="ok")


@bp.get(API_PREFIX)
def index() -> Response:
    base = request.script_root + API_PREFIX
    links = {"self": {"href": base}}
    links.update({name: {"href": f"{base}/{name}"} for name in COLLECTIONS})
    return jsonify(name="Circulate", version="v1", links=links)
