"""Turning response models into Flask responses."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, current_app, request
from pydantic import BaseModel

from entrypoints.http.responses.wsgi import ApiResponse

JSON = "application/json"


def json_response(
    model: BaseModel, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return json_body_response(model.model_dump_json(), status, headers)


def json_body_response(
    body: str | bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON body rendered already; the headers given in one go, not set one by one."""
    return ApiResponse(body, status=status, headers=headers, mimetype=JSON)


def url_for_path(path: str) -> str:
    """The URL of ``path`` (which starts with ``/api/v1``) on this server and mount, for a
    ``Location`` or ``Link`` header.

    Absolute only when the host the request names is one of ``CIRCULATE_TRUSTED_HOSTS``
    (Flask refuses every other host with 400 then); otherwise a path from the root, which HTTP
    resolves against the request's own URL. A ``Host`` header is the client's to choose: copied
    into a link, it would let anyone make the API point at their own server (a cache or proxy in
    front may keep that answer for others).
    """
    relative = request.script_root + path
    if current_app.config.get("TRUSTED_HOSTS"):
        return request.host_url.rstrip("/") + relative
    return relative


def created(model: BaseModel, location: str, etag: str) -> Response:
    """201 for a new resource at ``location`` (a path under the API prefix)."""
    return created_body(model.model_dump_json(), location, etag)


def created_body(body: str | bytes, location: str, etag: str) -> Response:
    """``created`` for a body rendered already."""
    return json_body_response(body, 201, {"Location": url_for_path(location), "ETag": etag})


def no_content() -> Response:
    return Response(status=204)
