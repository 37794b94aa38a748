"""Error pages: the API answers problems in JSON, pages answer in words.

Registered on the ``web`` blueprint, so they apply to pages only (including refusals raised
before a page's view runs: a rate limit, a missing CSRF token). A 500 page says nothing of the
cause; the traceback goes to the log with the request id, which the page shows for support.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, make_response, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from application.ports import DependencyUnavailable
from domain.errors import DomainError
from entrypoints.http.middleware.limits import breach_retry_after
from entrypoints.http.middleware.request_id import current_request_id
from entrypoints.http.responses.errors import STATUS_BY_KIND
from entrypoints.http.responses.problem import ApiProblem
from entrypoints.web.partials import wants_line
from entrypoints.web.wording import describe, describe_message

CSRF_REFUSED = "CSRF_TOKEN_INVALID"
TITLES = {
    400: "This request could not be understood",
    403: "This page is not for your account",
    404: "Page not found",
    405: "That cannot be done here",
    413: "Too much data was sent",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "The service is busy",
}


def error_page(
    status: int, title: str, message: str, code: str, headers: dict[str, str] | None = None
) -> Response:
    template = "web/error_line.html" if wants_line() else "web/error.html"
    response = make_response(
        render_template(
            template,
            title=title,
            message=message,
            code=code,
            request_id=current_request_id(),
        ),
        status,
    )
    response.headers.update(headers or {})
    return response


def _csrf(_: CSRFError) -> Response:
    return error_page(
        400,
        "This form was not accepted",
        "The form was sent without its security token, or with an old one, so nothing was "
        "changed. Go back, reload the page and try again.",
        CSRF_REFUSED,
    )


def _domain(error: DomainError) -> Response:
    status = STATUS_BY_KIND[error.kind]
    return error_page(status, TITLES.get(status, "Not done"), describe(error), error.code)


def _http(error: HTTPException) -> Response | HTTPException:
    if error.code is None or error.code < 400:
        return error  # redirects pass through
    if error.code == 500:
        return _internal(error)
    headers = {
        name: value
        for name, value in error.get_headers()
        if name.lower() not in {"content-type", "content-length"}
    }
    code = (error.name or "HTTP error").upper().replace(" ", "_")
    message = error.description or error.name or ""
    if error.code == 429:
        retry = breach_retry_after()
        if retry is not None:
            headers["Retry-After"] = str(retry)
        message = "Too many attempts in a short time. Wait a minute, then try again."
    return error_page(
        error.code, TITLES.get(error.code, error.name or "Error"), message, code, headers
    )


def _api_problem(error: ApiProblem) -> Response:
    # The checks every request passes (a control character in a form field, say) raise these.
    title = TITLES.get(error.status, "This request could not be accepted")
    return error_page(error.status, title, describe_message(str(error)), error.code)


def _unavailable(error: DependencyUnavailable) -> Response:
    current_app.logger.warning(
        "dependency unavailable (request %s): %s", current_request_id(), error.dependency
    )
    return error_page(
        503,
        TITLES[503],
        "The service cannot answer just now; nothing was changed. Try again in a moment.",
        "SERVICE_UNAVAILABLE",
        {"Retry-After": str(error.retry_after_seconds)},
    )


def _internal(error: Exception) -> Response:
    original: Any = getattr(error, "original_exception", None) or error
    current_app.logger.error(
        "unhandled error (request %s)",
        current_request_id(),
        exc_info=(type(original), original, original.__traceback__),
    )
    return error_page(
        500,
        TITLES[500],
        "The server met an unexpected problem. If it happens again, give support the request "
        "id below.",
        "INTERNAL_ERROR",
    )


def register(blueprint: Blueprint) -> None:
    blueprint.register_error_handler(CSRFError, _csrf)
    blueprint.register_error_handler(DomainError, _domain)
    blueprint.register_error_handler(ApiProblem, _api_problem)
    blueprint.register_error_handler(DependencyUnavailable, _unavailable)
    blueprint.register_error_handler(HTTPException, _http)
    blueprint.register_error_handler(Exception, _internal)
