"""Turning response models into Flask responses."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, request
from pydantic import BaseModel

JSON = "application/json"


def json_response(
    model: BaseModel, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    response = Response(model.model_dump_json(), status=status, mimetype=JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def url_for_path(path: str) -> str:
    """An absolute URL for ``path`` (which starts with ``/api/v1``) on this server and mount."""
    return request.host_url.rstrip("/") + request.script_root + path


def created(model: BaseModel, location: str, etag: str) -> Response:
    """201 for a new resource at ``location`` (a path under the API prefix)."""
    return json_response(model, 201, {"Location": url_for_path(location), "ETag": etag})


def no_content() -> Response:
    return Response(status=204)
