"""The Flask app factory."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from flask_openapi3.models.info import Info
from flask_openapi3.openapi import OpenAPI

from entrypoints import web
from entrypoints.container import Container, build_container
from entrypoints.http.middleware import (
    access,
    conditional,
    guard,
    hardening,
    input_policy,
    observability,
    request_body,
    request_id,
)
from entrypoints.http.responses import errors
from entrypoints.http.responses.problem import Problem
from entrypoints.http.responses.wsgi import ApiResponse
from entrypoints.http.routes import (
    accounts,
    audit,
    books,
    copies,
    credentials,
    docs,
    health,
    holds,
    loans,
    members,
    metrics,
    notices,
    oauth,
    root,
    rules,
    sessions,
    webhooks,
)
from entrypoints.settings import Settings
from entrypoints.startup import prepare

__all__ = ["MAX_BODY_BYTES", "create_app"]

# Request bodies are small JSON documents; anything bigger is refused with 413 before parsing.
# The default of CIRCULATE_MAX_BODY_BYTES.
MAX_BODY_BYTES = Settings.model_fields["max_body_bytes"].default

API_INFO = Info(
    title="Circulate",
    # One version everywhere: the package's, as `circulate --version` prints it.
    version=version("circulate"),
    description=(
        "Library circulation: books and their copies, members, loans, renewals, holds and "
        "fines.\n\n"
        "Errors are RFC 9457 problems (`application/problem+json`) with a stable `code`. "
        "Single resources carry a strong `ETag`: send it back in `If-None-Match` to get 304, or "
        "in `If-Match` on PUT, PATCH and DELETE to get 412 instead of overwriting a newer "
        "version. POSTs that create or lend accept an `Idempotency-Key`. Lists are paged with "
        "`page` and `per_page` and link their other pages in `Link`. Money is in integer cents."
        "\n\n"
        "Callers authenticate with a member's access token (`POST /api/v1/auth/token`), an "
        "integration's API key, or a service client's token (`POST /oauth/token`); each "
        "operation's **Access** line says what it needs. 401 means missing or refused "
        "credentials, 403 a caller without the scope, and another member's records answer 404 "
        "like missing ones. Requests are rate limited (429 with `Retry-After`)."
    ),
)

# The route table: each blueprint's operations are served and documented from the same models.
API_BLUEPRINTS = (
    root.bp,
    sessions.bp,
    oauth.bp,
    books.bp,
    copies.bp,
    members.bp,
    accounts.bp,
    loans.bp,
    holds.bp,
    notices.bp,
    rules.bp,
    credentials.bp,
    audit.bp,
    webhooks.bp,
)
# Outside the API proper: no credentials read, no rate limit (see guard.py).
UNGUARDED_ENDPOINTS = health.OPERATIONS_ENDPOINTS | {
    "docs.openapi_json",
    "docs.swagger_ui",
    "docs.static",
    "static",
}


class CirculateApp(OpenAPI):
    """flask-openapi3's app, asking once per function whether it is a coroutine function, and
    answering with ``ApiResponse`` (``responses/wsgi.py``).

    Flask asks before every call of every request hook and view (``ensure_sync``, through
    ``inspect``), a dozen and more times per request; the answer cannot change, and this API's
    hooks and views are all plain functions.
    """

    response_class = ApiResponse

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synchronous: set[Callable[..., Any]] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if func in self._synchronous:
            return func
        made_sync = super().ensure_sync(func)
        if made_sync is func:
            self._synchronous.add(func)
        return made_sync


def create_app(settings: Settings | None = None, container: Container | None = None) -> OpenAPI:
    """Build the API around ``container`` (or one built from ``settings``, or the environment).

    The container is wired, so views declared with ``@inject`` receive its providers; the
    request hooks are handed what they need here, when the app is made.
    """
    if container is None:
        container = build_container(settings, wire=False)
    elif settings is not None:
        raise ValueError("give create_app either settings or a container, not both")
    # Only the HTTP and web packages: wiring the configured ones would import the whole CLI
    # into every server worker.
    container.wire(packages=[__package__, "entrypoints.web"])
    settings = container.settings()
    prepare(settings)  # logging once per process; unsafe production settings stop here

    app = CirculateApp(
        __name__,
        info=API_INFO,
        security_schemes=access.SECURITY_SCHEMES,
        doc_ui=False,  # docs.py serves the document and Swagger UI where this API wants them
        validation_error_status=422,
        validation_error_model=Problem,
        validation_error_callback=errors.validation_problem,
    )
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        TESTING=settings.environment == "test",
    )
    app.logger.setLevel(settings.log_level)

    observability.init_app(app)  # first: its after_request hook then runs last
    request_id.init_app(app)
    hardening.init_app(app, settings)
    request_body.init_app(app)
    errors.init_app(app)
    web.init_sessions(
        app, container
    )  # a signed-in page's caller is known to the limiter and the audit
    guard.init_app(app, container, unguarded=UNGUARDED_ENDPOINTS)
    audit.init_app(app)  # changes are attributed to the caller the guard authenticated
    request_body.init_parsing(app)  # bodies are read only for requests the limiter counted
    input_policy.init_app(app)  # no control characters in any path, query or body text
    conditional.init_app(app)  # If-Match and If-None-Match as RFC 9110 writes them
    app.url_map.converters["member_id"] = members.MemberIdConverter
    app.url_map.converters["rule_id"] = rules.RuleIdConverter
    for blueprint in API_BLUEPRINTS:
        app.register_api(blueprint)
    app.register_api(health.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(metrics.blueprint(settings))
    web.init_app(app, container)  # the desk and member pages, on the same use cases
    return app
