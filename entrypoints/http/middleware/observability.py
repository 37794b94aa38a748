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

from flask import Flask, Response
from werkzeug.wsgi import ClosingIterator

from entrypoints.http.middleware.request_id import current_request_id
from entrypoints.http.request_context import current_request
from entrypoints.http.routes import metrics
from entrypoints.logs import bind_request, clear_request, log_line

STARTED = "circulate.started"
ROUTE = "circulate.route"  # the route template, as _bind found it

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


def _bind() -> None:
    """Bind the fields every line of the request carries, once: ``_finish`` adds to them."""
    current = current_request()
    rule = current.url_rule
    route = rule.rule if rule is not None else metrics.UNMATCHED  # the template, not the path
    current.environ[ROUTE] = route
    bind_request(request_id=current_request_id(), method=current.method, route=route)


def _finish(response: Response) -> Response:
    current = current_request()
    environ = current.environ
    route = environ.get(ROUTE)
    if route is None:  # a hook before ``_bind`` failed, or it never ran
        _bind()
        route = environ[ROUTE]
    started = environ.get(STARTED)
    seconds = time.perf_counter() - started if isinstance(started, float) else 0.0
    status = response.status_code
    # request_id, method and route are bound already (``_bind``), and so is caller_id, by
    # ``record_caller``, the one way a caller becomes known.
    bind_request(status=status, duration_ms=round(seconds * 1000, 2))
    metrics.observe(current.method, route, status, seconds)
    if not str(environ.get("SERVER_SOFTWARE", "")).startswith("gunicorn"):
        level: Literal["info", "error"] = "error" if status >= 500 else "info"
        log_line("circulate.http", level, "request", path=current.path)
    return response


def init_app(app: Flask) -> None:
    """Call first in the factory: ``_finish`` then runs after every other after_request hook."""
    app.wsgi_app = RequestStart(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(_bind)
    app.after_request(_finish)
