"""Request bodies are JSON objects: 413 past the size limit, 415 for another media type, 400
for malformed JSON.

Checked before routing reaches a view, so every operation that takes a body answers these two
the same way, and request validation only ever sees a parsed object.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from entrypoints.http.problem import ApiProblem

_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The OAuth 2.0 token endpoint takes a form and answers in its RFC's format (oauth.py).
FORM_ENDPOINTS = frozenset({"oauth.issue_token"})


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _check_body() -> None:
    if request.method not in _WITH_BODY or request.endpoint in FORM_ENDPOINTS:
        return
    if request.routing_exception is not None:
        return  # no such route or method: its 404 or 405 comes first
    if not request.content_length and "chunked" not in request.headers.get("Transfer-Encoding", ""):
        return
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()  # before anything else: the body is not even read
    if not _is_json(request.mimetype):
        raise UnsupportedMediaType("send the body as application/json")
    body = request.get_json()  # 400 when malformed, 413 past the size limit
    if not isinstance(body, dict):
        raise ApiProblem(
            422,
            "VALIDATION_FAILED",
            "the request body must be a JSON object",
            {"errors": [{"location": "body", "field": "", "message": "must be a JSON object"}]},
        )


def init_app(app: Flask) -> None:
    app.before_request(_check_body)
