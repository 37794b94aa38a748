"""``GET /readyz``: whether this process can serve real traffic now.

``/healthz`` (root.py) only says the process is up; a load balancer or orchestrator sends traffic
only while ``/readyz`` answers 200: the database answers, its schema is at the migration this
code expects, and Redis answers when one is configured. Each check has a deadline, so a hung
dependency makes the probe fail rather than hang.

``OPERATIONS_ENDPOINTS`` lists the probes and ``/metrics``: they take no credentials and no rate
limit, as probes and scrapers cannot present any and must not be throttled into a restart loop.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cache
from typing import Literal

from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from adapters.redis_store import persists
from entrypoints.container import Container
from entrypoints.http.context import get_container
from entrypoints.http.openapi import Reply, operation
from entrypoints.http.responses.problem import problem_response
from entrypoints.http.responses.rendering import json_response
from entrypoints.logs import get_logger

# The operations endpoints: no authentication, no rate limit.
OPERATIONS_ENDPOINTS = frozenset({"root.healthz", "health.readyz", "metrics.metrics"})
CHECK_TIMEOUT_SECONDS = 3.0
NOT_READY = "NOT_READY"
log = get_logger("circulate.health")

bp = APIBlueprint(
    "health", __name__, abp_tags=[Tag(name="Service", description="Liveness and the API index.")]
)
# Checks run here so that a hung one can be abandoned at its deadline; a few threads suffice
# since probes come every few seconds.
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")

CheckStatus = Literal["ok", "failed", "skipped"]


class Check(BaseModel):
    status: CheckStatus
    detail: str = Field(description="What was checked, or why it failed.")


class Readiness(BaseModel):
    status: Literal["ok"] = Field(description="`ok`: every check passed.")
    checks: dict[str, Check] = Field(description="`database`, `migrations` and `redis`.")


READY_EXAMPLE = {
    "status": "ok",
    "checks": {
        "database": {"status": "ok", "detail": "answered"},
        "migrations": {"status": "ok", "detail": "at 0010d_notice_preferences"},
        "redis": {"status": "skipped", "detail": "not configured"},
    },
}


# alembic is imported by the readiness check when it first runs, not by every worker at start:
# it is the largest import the API would otherwise make and serves this one probe.


@cache
def _head() -> str:
    from adapters.sqlalchemy import migrate

    return migrate.head()


def _database(container: Container) -> Check:
    with container.engine().connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    return Check(status="ok", detail="answered")


def _migrations(container: Container) -> Check:
    from adapters.sqlalchemy import migrate

    current = migrate.revision_of(container.engine())
    if current != _head():
        return Check(status="failed", detail=f"at {current or 'no revision'}, code needs {_head()}")
    return Check(status="ok", detail=f"at {current}")


NO_PERSISTENCE = (
    "answered; no persistence: a restart forgets every revoked token (see docs/security.md)"
)


def _redis(container: Container) -> Check:
    client = container.redis()
    client.ping()
    if container.settings().revocation_backend() == "redis" and persists(client) is False:
        # Ready (it answers), but not as a deployment should run it: said on every probe.
        log.warning("redis keeps revocations without persistence")
        return Check(status="ok", detail=NO_PERSISTENCE)
    return Check(status="ok", detail="answered")


def _run(check: Callable[[Container], Check], container: Container) -> Check:
    future = _checks.submit(check, container)
    try:
        return future.result(timeout=CHECK_TIMEOUT_SECONDS)
    except FutureTimeout:
        return Check(status="failed", detail=f"no answer within {CHECK_TIMEOUT_SECONDS:g} s")
    except Exception as error:
        # The kind of failure only: a driver's message may quote a URL with its password.
        return Check(status="failed", detail=type(error).__name__)


def readiness(container: Container) -> dict[str, Check]:
    settings = container.settings()
    checks: dict[str, Check] = {}
    if settings.storage == "memory":
        checks["database"] = Check(status="ok", detail="in-memory storage")
        checks["migrations"] = Check(status="ok", detail="in-memory storage has no schema")
    else:
        checks["database"] = _run(_database, container)
        if checks["database"].status == "ok":
            checks["migrations"] = _run(_migrations, container)
        else:
            checks["migrations"] = Check(status="failed", detail="the database does not answer")
    if settings.redis_url is None:
        checks["redis"] = Check(status="skipped", detail="not configured")
    else:
        checks["redis"] = _run(_redis, container)
    return checks


@operation(
    bp,
    "GET",
    "/readyz",
    summary="Readiness probe",
    description="200 when the database answers, its schema is at the latest migration and "
    "Redis (when configured) answers; 503 `NOT_READY` otherwise, with each check's result in "
    "`details.checks`. Needs no credentials.",
    replies=[Reply(200, "Ready for traffic.", Readiness, READY_EXAMPLE)],
    errors=(503,),
    probe=True,
)
def readyz() -> Response:
    checks = readiness(get_container())
    if any(check.status == "failed" for check in checks.values()):
        failed = ", ".join(name for name, check in checks.items() if check.status == "failed")
        return problem_response(
            503,
            NOT_READY,
            f"not ready: {failed}",
            {"checks": {name: check.model_dump() for name, check in checks.items()}},
        )
    return json_response(Readiness(status="ok", checks=checks))
