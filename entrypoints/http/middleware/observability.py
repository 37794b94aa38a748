"""Per-request log fields, the request's log line and its metrics.

A small WSGI middleware starts the clock and forgets the previous request's log fields (a worker
thread serves many requests). The first ``before_request`` hook binds ``request_id``, ``method``
and ``route`` (the route template, ``<unmatched>`` on a 404) to every line logged while the
request runs; authentication binds ``caller_id`` as soon as the credentials prove who is calling
(``identity.record_caller``); the last ``after_request`` hook adds ``status`` and
``duration_ms``, records the metrics and writes one line for the request. Under gunicorn that
line is gunicorn's access log line instead (``entrypoints/gunicorn_conf.py``), which carries the
same fields, so a request is never logged twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

from flask import Flask, Response, request
from werkzeug.wsgi import ClosingIterator

from entrypoints.http.middleware.caller import current_caller
from entrypoints.http.middleware.request_id import current_request_id
from entrypoints.http.routes import metrics
from entrypoints.logs import bind_request, clear_request, log_line

STARTED = "circulate.started"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class RequestStart:
    """WSGI middleware: the request's start time, and a clean slate of log fields.

    The fields are forgotten again once the server closes the response, which gunicorn does
    after writing its access line: nothing logged between requests carries a request's fields.
    """

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        clear_request()
        environ[STARTED] = time.perf_counter()
        return ClosingIterator(self.app(environ, start_response), [clear_request])


def route_template() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else metrics.UNMATCHED


def caller_id() -> str | None:
    """Who the request authenticated as, if anyone (never fails: this is for the log)."""
    try:
        caller = current_caller()
    except Exception:
        return None
    if caller is None:
        return None
    found = getattr(caller, "member_id", None) or getattr(caller, "id", None)
    return str(found) if found is not None else None


def _bind() -> None:
    bind_request(request_id=current_request_id(), method=request.method, route=route_template())


def _finish(response: Response) -> Response:
    started = request.environ.get(STARTED)
    seconds = time.perf_counter() - started if isinstance(started, float) else 0.0
    route = route_template()
    fields: dict[str, Any] = {
        "request_id": current_request_id(),
        "method": request.method,
        "route": route,
        "status": response.status_code,
        "duration_ms": round(seconds * 1000, 2),
    }
    caller = caller_id()
    if caller is not None:
        fields["caller_id"] = caller
    bind_request(**fields)
    metrics.observe(request.method, route, response.status_code, seconds)
    if not str(request.environ.get("SERVER_SOFTWARE", "")).startswith("gunicorn"):
        level: Literal["info", "error"] = "error" if response.status_code >= 500 else "info"
        log_line("circulate.http", level, "request", path=request.path)
    return response


def init_app(app: Flask) -> None:
    """Call first in the factory: ``_finish`` then runs after every other after_request hook."""
    app.wsgi_app = RequestStart(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(_bind)
    app.after_request(_finish)
