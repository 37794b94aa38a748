"""Every error leaves the API as ``{"code", "message", "details", "request_id"}``.

Domain refusals keep their stable code and map their kind to a status; HTTP errors raised by
Flask or werkzeug (404, 405, 413, ...) get a code derived from their name; anything else is a
500 whose body says nothing about the cause (the traceback goes to the log, with the request id).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from domain.errors import DomainError, ErrorKind
from entrypoints.http.request_id import current_request_id

STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.STALE: 412,
}

INTERNAL_ERROR = "INTERNAL_ERROR"
INTERNAL_MESSAGE = "The server met an unexpected condition; quote the request id when reporting it."
# Headers that describe the HTML body werkzeug would have sent; the JSON body brings its own.
_BODY_HEADERS = {"content-type", "content-length"}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    response = jsonify(
        code=code, message=message, details=details or {}, request_id=current_request_id()
    )
    response.status_code = status
    return response


def _code_for(error: HTTPException) -> str:
    """``Method Not Allowed`` -> ``METHOD_NOT_ALLOWED``."""
    name = error.name or "HTTP error"
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() or "HTTP_ERROR"


def _domain_error(error: DomainError) -> Response:
    return error_response(STATUS_BY_KIND[error.kind], error.code, error.message, error.details)


def _http_error(error: HTTPException) -> Response | HTTPException:
    if error.code is None or error.code < 400:
        return error  # redirects (e.g. a missing trailing slash) pass through untouched
    if error.code == 500:
        return _internal_error(error)
    details: dict[str, Any] = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        details["allowed_methods"] = sorted(error.valid_methods)
    response = error_response(error.code, _code_for(error), error.description or "", details)
    for name, value in error.get_headers():
        if name.lower() not in _BODY_HEADERS:
            response.headers[name] = value  # e.g. Allow on 405, Retry-After on 429
    return response


def _internal_error(error: Exception) -> Response:
    original = getattr(error, "original_exception", None) or error
    current_app.logger.error(
        "unhandled error (request %s)",
        current_request_id(),
        exc_info=(type(original), original, original.__traceback__),
    )
    return error_response(500, INTERNAL_ERROR, INTERNAL_MESSAGE)


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)
