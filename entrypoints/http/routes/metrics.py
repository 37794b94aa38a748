"""Prometheus metrics of the HTTP API, and ``GET /metrics``.

Requests are counted and timed by method, route *template* (``/api/v1/books/<book_id>``, never
the raw path, so the number of series stays bounded; ``<unmatched>`` when no route matched) and
status. The circulation counters live in ``adapters.metrics``.

The metric objects are module globals in prometheus-client's default registry, made once however
many apps a process builds. Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` (set and emptied by
gunicorn.conf.py at start) switches prometheus-client to its multiprocess mode: each worker
writes its values to files there and ``/metrics`` adds up those of every worker, past and present,
whichever worker answers the scrape.

``/metrics`` needs ``Authorization: Bearer <CIRCULATE_METRICS_TOKEN>`` when that is set. Without a
token it is open outside production and closed (404) in production: a server that forgot the
token does not publish its traffic to whoever asks. Either way, keep it off the public network
(it reveals traffic and route names, not data).
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from flask import Blueprint, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from adapters.metrics import MULTIPROCESS_VARIABLE, ensure_multiprocess_directory
from entrypoints.http.responses.problem import ApiProblem
from entrypoints.settings import Settings

ensure_multiprocess_directory()
UNMATCHED = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LABELS = ("method", "route", "status")

REQUESTS = Counter("circulate_http_requests", "HTTP requests answered.", _LABELS)
ERRORS = Counter(
    "circulate_http_errors", "HTTP requests answered with a server error (5xx).", _LABELS
)
LATENCY = Histogram(
    "circulate_http_request_duration_seconds",
    "Time from receiving a request to having its response, in seconds.",
    _LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


# Each (method, route, status)'s series, looked up once: ``labels()`` checks and converts its
# arguments and takes a lock on every call. Bounded like the series themselves (route templates).
_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe(method: str, route: str, status: int, seconds: float) -> None:
    key = (method if method in _METHODS else "OTHER", route, status)
    series = _SERIES.get(key)
    if series is None:
        labels = (key[0], route, str(status))
        series = _SERIES.setdefault(key, (REQUESTS.labels(*labels), LATENCY.labels(*labels)))
    requests, latency = series
    requests.inc()
    latency.observe(seconds)
    if status >= 500:
        ERRORS.labels(key[0], route, str(status)).inc()


def registry() -> CollectorRegistry:
    """What ``/metrics`` reports: every worker's values in multiprocess mode, else this one's."""
    if os.environ.get(MULTIPROCESS_VARIABLE):
        combined = CollectorRegistry()
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return combined
    return REGISTRY


def _authorised(settings: Settings) -> bool:
    token = settings.metrics_token
    if token is None or not token.get_secret_value():
        # An empty value is no token, as with compose's ${VARIABLE:-}.
        if settings.environment == "production":
            raise ApiProblem(
                404,
                "NOT_FOUND",
                "metrics are closed in production until CIRCULATE_METRICS_TOKEN is set",
            )
        return True
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        offered.strip().encode(), token.get_secret_value().encode()
    )


def blueprint(settings: Settings) -> Blueprint:
    """``GET /metrics``, open or closed as ``settings`` say (made per app: each app has its own
    settings)."""
    bp = Blueprint("metrics", __name__)

    @bp.get("/metrics")
    def metrics() -> Response:
        """Prometheus text exposition format."""
        if not _authorised(settings):
            raise ApiProblem(
                401,
                "AUTHENTICATION_REQUIRED",
                "the metrics need the metrics bearer token",
                headers={"WWW-Authenticate": 'Bearer realm="circulate-metrics"'},
            )
        return Response(generate_latest(registry()), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return bp
