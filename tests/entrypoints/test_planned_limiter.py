"""``PlannedLimiter`` counts as Flask-Limiter does: its own plan for fixed limits, Flask-Limiter's
path for what a plan cannot hold (limits by decorator), and only fixed limits accepted."""

from __future__ import annotations

import pytest
from flask import Flask

from entrypoints.http.middleware.planned_limiter import PlannedLimiter


def _app() -> tuple[Flask, PlannedLimiter]:
    app = Flask(__name__)
    limiter = PlannedLimiter(
        lambda: "caller",
        application_limits=["3 per minute"],
        storage_uri="memory://",
        strategy="moving-window",
        headers_enabled=True,
    )
    limiter.init_app(app)

    @app.get("/plain")
    def plain() -> str:
        return "ok"

    @app.get("/decorated")
    @limiter.limit("1 per minute")
    def decorated() -> str:
        return "ok"

    return app, limiter


def test_an_endpoint_of_fixed_limits_is_counted_by_its_plan() -> None:
    app, _ = _app()
    client = app.test_client()

    statuses = [client.get("/plain").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_a_limit_by_decorator_is_counted_by_flask_limiter_too() -> None:
    app, _ = _app()
    client = app.test_client()

    assert client.get("/decorated").status_code == 200
    assert client.get("/decorated").status_code == 429  # its own 1 per minute
    # Each request counted against the application's limit as well, the refused one too.
    assert [client.get("/plain").status_code for _ in range(2)] == [200, 429]


def test_a_limit_computed_per_request_is_refused() -> None:
    with pytest.raises(TypeError, match="fixed limits only"):
        PlannedLimiter(lambda: "caller", default_limits=[lambda: "1 per minute"])
