"""gunicorn's configuration, from the ``CIRCULATE_*`` settings.

Used by ``circulate serve --workers N`` (``gunicorn -c python:entrypoints.gunicorn_conf``) and by
``gunicorn.conf.py`` at the repository root, so ``gunicorn`` run there needs no options. Command
line options given to gunicorn win over these values.

- Workers and threads: ``CIRCULATE_WORKERS`` processes of ``CIRCULATE_THREADS`` threads each
  (gunicorn's ``gthread`` worker, accepting only while a thread is free, so that clients
  arriving together are spread over the workers: ``entrypoints/gunicorn_worker.py``; one
  thread means the plain ``sync`` worker).
- Timeouts: a worker silent for ``CIRCULATE_TIMEOUT_SECONDS`` is killed and replaced; on SIGTERM
  workers get ``CIRCULATE_GRACEFUL_TIMEOUT_SECONDS`` to finish the requests they have.
- Logs: gunicorn's own loggers go through the app's structlog pipeline; the access log line is
  the one line per request, with the request's id, route, status, duration and caller.
- Metrics: prometheus-client's multiprocess mode. ``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary
  directory unless set) is emptied when gunicorn starts, so counts of a previous run never
  leak in, and a dead worker's live values are dropped when it exits.
- Production settings that must not serve, and a database schema that is not at the migration
  head, stop gunicorn before any worker starts.

The app is built once, in the master (``preload_app``), and every worker forked from it shares
its pages instead of importing the modules and building the app again: a worker's own memory is
then what its requests touch. That is safe because building the app opens no database
connection and starts no thread (``tests/entrypoints/test_deployment.py`` checks it): engines,
pools, caches and Redis connections are made by a worker's first request, after the fork. The
metrics directory is chosen when this module loads, before the app is built, so the app's
metrics are in multiprocess mode. As with any preloaded app, a HUP starts new workers from the
same app: new code or settings take a restart.
"""

from __future__ import annotations

import gc
import importlib
import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger
from pydantic import ValidationError

from entrypoints.logs import clear_request, configure_logging, log_line
from entrypoints.settings import Settings, describe_validation_error
from entrypoints.startup import (
    SchemaNotAtHead,
    UnsafeProductionSettings,
    check_production,
    checked_engine,
)

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise SystemExit(f"error: {describe_validation_error(error)}") from None


_circulate = _settings()
try:
    check_production(_circulate)
except UnsafeProductionSettings as error:
    raise SystemExit(f"error: {error}") from None

# ---------------------------------------------------------------- gunicorn settings

wsgi_app = "entrypoints.http:create_app()"
bind = [
    f"[{_circulate.host}]:{_circulate.port}"
    if ":" in _circulate.host
    else f"{_circulate.host}:{_circulate.port}"
]
workers = _circulate.workers
threads = _circulate.threads
THREADED_WORKER = "entrypoints.gunicorn_worker.BalancedThreadWorker"
worker_class = THREADED_WORKER if _circulate.threads > 1 else "sync"
timeout = _circulate.timeout_seconds
graceful_timeout = _circulate.graceful_timeout_seconds
keepalive = 5
# A worker is replaced after this many requests (with jitter, so they do not all restart at
# once): bounds the effect of any slow leak.
max_requests = 10_000
max_requests_jitter = 1_000
loglevel = _circulate.log_level.lower()
accesslog = "-"
errorlog = "-"
# Any proxy in front is trusted through ProxyFix (CIRCULATE_PROXY_HOPS), and nowhere else:
# gunicorn takes no scheme or path from forwarded headers, from any peer (by default it believes
# X-Forwarded-Proto from loopback, so a local client could claim HTTPS).
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""
preload_app = True  # see the module's docstring
# gunicorn's control socket (gunicornc) would sit at one fixed path in the home directory,
# shared by every gunicorn of the user; the service is managed with signals instead.
control_socket_disable = True


class StructlogLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, writing through the app's logging pipeline."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        configure_logging(_settings())
        for logger in (self.error_log, self.access_log):
            logger.handlers.clear()
            logger.propagate = True

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        del req
        if not self.access_log_enabled:
            return
        try:
            log_line(
                "gunicorn.access",
                "info",
                "request",
                method=environ.get("REQUEST_METHOD"),
                path=environ.get("PATH_INFO"),  # never the query string: it may carry secrets
                status=resp.status_code,
                duration_ms=round(request_time.total_seconds() * 1000, 2),
                bytes=getattr(resp, "sent", None),
                remote_addr=environ.get("REMOTE_ADDR"),
                protocol=environ.get("SERVER_PROTOCOL"),
            )
        finally:
            # The request's fields stay bound until here so that this line carries them.
            clear_request()


logger_class = StructlogLogger


def _metrics_directory() -> tuple[Path, bool]:
    """The directory, and whether it was made here (and so is removed at exit)."""
    configured = os.environ.get(MULTIPROCESS_VARIABLE)
    if configured:
        return Path(configured), False
    made = Path(tempfile.mkdtemp(prefix="circulate-metrics-"))
    os.environ[MULTIPROCESS_VARIABLE] = str(made)
    return made, True


# Before any worker exists, and before anything imports prometheus_client in this process.
metrics_directory, _made_here = _metrics_directory()


def on_starting(_server: Any) -> None:
    """In the master, once, before any worker: refuse a database whose schema is not at the
    migration head (every request would fail), then empty the metrics directory of an earlier run.
    """
    if _circulate.storage == "sql":
        _check_schema_apart(_circulate.database_url)
    metrics_directory.mkdir(parents=True, exist_ok=True)
    for stale in metrics_directory.iterdir():
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    _share_code_with_workers()


# How the child that checks the schema reports (its exit status): refused, or it failed.
_SCHEMA_REFUSED = 3
_CHECK_FAILED = 4


def _check_schema_apart(database_url: str) -> None:
    """``checked_engine``'s check, in a child process forked for it.

    The check loads alembic, its templates and every migration script, which no worker needs:
    loaded in the master, they would sit in memory every worker shares (and a third of which,
    with two workers, counts against each). The child reports a refusal (or a failure) on a
    pipe and exits; the master only loads the database driver, which every worker uses.
    """
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child leaves with os._exit)
        os.close(reader)
        status, message = 0, ""
        try:
            checked_engine(database_url).dispose()
        except SchemaNotAtHead as error:
            status, message = _SCHEMA_REFUSED, str(error)
        except BaseException as error:
            status, message = _CHECK_FAILED, f"{type(error).__name__}: {error}"
        with os.fdopen(writer, "wb") as report:
            report.write(message.encode("utf-8", "replace"))
        os._exit(status)
    os.close(writer)
    with os.fdopen(reader, "rb") as report:
        message = report.read().decode("utf-8", "replace")
    _, waited = os.waitpid(child, 0)
    status = os.waitstatus_to_exitcode(waited)
    if status == _SCHEMA_REFUSED:
        raise SystemExit(f"error: {message}")
    if status != 0:
        raise SystemExit(f"error: the database schema could not be checked: {message}")
    from adapters.sqlalchemy.engine import create_engine_for

    create_engine_for(database_url).dispose()  # loads the dialect and its driver; connects not


# What every worker imports to serve its first requests, which the container's providers import
# only when first used (``entrypoints/containers/deferred.py``): imported here, once, they sit in
# pages the workers share instead of in a copy of their own each. Nothing here connects or starts
# a thread. ``encodings.idna`` is werkzeug's, for the host name of every request.
SERVING_MODULES = ("adapters.caching", "adapters.credential_cache", "encodings.idna")
# With ``storage = "sql"``: the units of work and what they load (the repositories, the search,
# the mappers), the audit log and outbox they write to, and SQLite's data version.
SQL_SERVING_MODULES = (
    "adapters.sqlalchemy.models",  # as the migrations' env.py names the mapped classes
    "adapters.sqlalchemy.unit_of_work",
    "adapters.sqlalchemy.identity_unit_of_work",
    "adapters.sqlalchemy.audit",
    "adapters.sqlalchemy.outbox",
    "adapters.sqlalchemy.idempotency",
    "adapters.sqlalchemy.data_version",
)


def _share_code_with_workers() -> None:
    """The app was built before this hook (``preload_app``): import what the workers' requests
    need, then freeze what the master holds, so that the collector in the workers leaves those
    objects' headers alone instead of writing to them and copying their pages one by one."""
    from sqlalchemy.orm import configure_mappers

    for module in SERVING_MODULES:
        importlib.import_module(module)
    if _circulate.storage == "sql":
        for module in SQL_SERVING_MODULES:
            importlib.import_module(module)
    # The mapped classes, configured here once rather than by each worker's first query.
    configure_mappers()
    gc.collect()
    gc.freeze()


def child_exit(server: Any, worker: Any) -> None:
    """A worker has exited: keep its counters, drop its live values (gauges)."""
    del server
    from prometheus_client import multiprocess  # here: only once the variable is set

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    del server
    if _made_here:
        shutil.rmtree(metrics_directory, ignore_errors=True)
