"""Every error leaves the API as an RFC 9457 problem (see ``problem.py``).

Domain refusals keep their stable code and map their kind to a status; HTTP errors raised by
Flask or werkzeug (404, 405, 413, ...) get a code derived from their name; request validation
failures list each rejected field; an outage of a dependency (the database, Redis) is a 503
``SERVICE_UNAVAILABLE`` with ``Retry-After``; anything else is a 500 whose body says nothing
about the cause (the traceback goes to the log, with the request id).
"""

from __future__ import annotations

import re
from typing import Any, cast

from flask import Flask, Response, current_app
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from application.ports import DependencyUnavailable
from domain.errors import DomainError, ErrorKind
from entrypoints.http.middleware.challenge import challenge
from entrypoints.http.middleware.request_id import current_request_id
from entrypoints.http.responses.problem import ApiProblem, from_api_problem, problem_response
from entrypoints.schemas.common import location_of

STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.STALE: 412,
    ErrorKind.UNAUTHENTICATED: 401,  # with a WWW-Authenticate challenge (challenge.py)
    ErrorKind.FORBIDDEN: 403,
}

INTERNAL_ERROR = "INTERNAL_ERROR"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
INTERNAL_MESSAGE = "The server met an unexpected condition; quote the request id when reporting it."
VALIDATION_FAILED = "VALIDATION_FAILED"
# Headers that describe the HTML body werkzeug would have sent; the problem brings its own.
_BODY_HEADERS = {"content-type", "content-length"}


def _code_for(error: HTTPException) -> str:
    """``Method Not Allowed`` -> ``METHOD_NOT_ALLOWED``."""
    name = error.name or "HTTP error"
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() or "HTTP_ERROR"


def domain_problem(error: DomainError) -> Response:
    return problem_response(
        STATUS_BY_KIND[error.kind],
        error.code,
        error.message,
        error.details,
        headers=challenge(error),
    )


def validation_problem(error: ValidationError) -> Response:
    """422 listing each rejected field; the rejected values are not echoed back.

    Only for the request models (the app's ``validation_error_callback``): a ValidationError
    anywhere else is a bug, and a 500.
    """
    location = location_of(error.title)
    errors = [
        {
            "location": location,
            "field": ".".join(str(part) for part in item["loc"]),
            "message": item["msg"],
            "type": item["type"],
        }
        for item in error.errors(include_url=False, include_input=False, include_context=False)
    ]
    fields = ", ".join(e["field"] or location for e in errors)
    return problem_response(
        422, VALIDATION_FAILED, f"the request is not valid: {fields}", {"errors": errors}
    )


def _http_error(error: HTTPException) -> Response | HTTPException:
    if error.response is not None:
        # A response made on purpose (request validation aborts with its problem response).
        return cast(Response, error.response)
    if error.code is None or error.code < 400:
        return error  # redirects (e.g. a missing trailing slash) pass through untouched
    if error.code == 500:
        return _internal_error(error)
    details: dict[str, Any] = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        details["allowed_methods"] = sorted(error.valid_methods)
    headers = {
        name: value
        for name, value in error.get_headers()
        if name.lower() not in _BODY_HEADERS  # e.g. Allow on 405, Retry-After on 429
    }
    return problem_response(
        error.code,
        _code_for(error),
        error.description or error.name,
        details,
        headers=headers,
        generic=True,
    )


def unavailable_problem(error: DependencyUnavailable) -> Response:
    """503 while a dependency is down: the request was not carried out and may be retried."""
    current_app.logger.warning(
        "dependency unavailable (request %s): %s", current_request_id(), error.dependency
    )
    return problem_response(
        503,
        UNAVAILABLE,
        "the service is temporarily unavailable; retry after the time in Retry-After",
        {"dependency": error.dependency},
        headers={"Retry-After": str(error.retry_after_seconds)},
    )


def _internal_error(error: Exception) -> Response:
    original = getattr(error, "original_exception", None) or error
    current_app.logger.error(
        "unhandled error (request %s)",
        current_request_id(),
        exc_info=(type(original), original, original.__traceback__),
    )
    return problem_response(500, INTERNAL_ERROR, INTERNAL_MESSAGE, generic=True)


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_problem)
    app.register_error_handler(DependencyUnavailable, unavailable_problem)
    app.register_error_handler(ApiProblem, from_api_problem)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)
