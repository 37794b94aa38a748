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
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from entrypoints.container import Container
from entrypoints.http.openapi import Reply, operation
from entrypoints.http.responses.problem import problem_response
from entrypoints.http.responses.rendering import json_response
from entrypoints.logs import get_logger
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from redis import Redis

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


@dataclass(frozen=True)
class Dependencies:
    """What the probe looks at; the engine and Redis client are built on first use."""

    settings: Settings
    engine: Callable[[], Engine]
    redis: Callable[[], Redis]


def _database(deps: Dependencies) -> Check:
    with deps.engine().connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    return Check(status="ok", detail="answered")


def _migrations(deps: Dependencies) -> Check:
    from adapters.sqlalchemy import migrate

    current = migrate.revision_of(deps.engine())
    if current != _head():
        return Check(status="failed", detail=f"at {current or 'no revision'}, code needs {_head()}")
    return Check(status="ok", detail=f"at {current}")


NO_PERSISTENCE = (
    "answered; no persistence: a restart forgets every revoked token (see docs/security.md)"
)


def _redis(deps: Dependencies) -> Check:
    # Imported here, where Redis is configured: a process without it never loads its client.
    from adapters.redis_store import persists

    client = deps.redis()
    client.ping()
    if deps.settings.revocation_backend() == "redis" and persists(client) is False:
        # Ready (it answers), but not as a deployment should run it: said on every probe.
        log.warning("redis keeps revocations without persistence")
        return Check(status="ok", detail=NO_PERSISTENCE)
    return Check(status="ok", detail="answered")


def _run(check: Callable[[Dependencies], Check], deps: Dependencies) -> Check:
    future = _checks.submit(check, deps)
    try:
        return future.result(timeout=CHECK_TIMEOUT_SECONDS)
    except FutureTimeout:
        return Check(status="failed", detail=f"no answer within {CHECK_TIMEOUT_SECONDS:g} s")
    except Exception as error:
        # The kind of failure only: a driver's message may quote a URL with its password.
        return Check(status="failed", detail=type(error).__name__)


def readiness(deps: Dependencies) -> dict[str, Check]:
    settings = deps.settings
    checks: dict[str, Check] = {}
    if settings.storage == "memory":
        checks["database"] = Check(status="ok", detail="in-memory storage")
        checks["migrations"] = Check(status="ok", detail="in-memory storage has no schema")
    else:
        checks["database"] = _run(_database, deps)
        if checks["database"].status == "ok":
            checks["migrations"] = _run(_migrations, deps)
        else:
            checks["migrations"] = Check(status="failed", detail="the database does not answer")
    if settings.redis_url is None:
        checks["redis"] = Check(status="skipped", detail="not configured")
    else:
        checks["redis"] = _run(_redis, deps)
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
@inject
def readyz(
    settings: Settings = Provide[Container.settings],
    engine: Callable[[], Engine] = Provide[Container.engine.provider],
    # The client's type is not named here: the hints of a view are read when it is declared,
    # and naming it would load Redis's client in every process, also those without one.
    redis: Callable[[], Any] = Provide[Container.redis.provider],
) -> Response:
    checks = readiness(Dependencies(settings, engine, redis))
    if any(check.status == "failed" for check in checks.values()):
        failed = ", ".join(name for name, check in checks.items() if check.status == "failed")
        return problem_response(
            503,
            NOT_READY,
            f"not ready: {failed}",
            {"checks": {name: check.model_dump() for name, check in checks.items()}},
        )
    return json_response(Readiness(status="ok", checks=checks))
