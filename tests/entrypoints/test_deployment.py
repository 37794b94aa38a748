"""The files that deploy the service: gunicorn's configuration, the Dockerfile, compose.yaml,
the configuration page's table, and the production refusal of unsafe settings."""

from __future__ import annotations

import importlib
import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
import yaml
from gunicorn.config import Config as GunicornConfig
from gunicorn.http.parser import RequestParser
from pydantic import SecretStr

from adapters.sqlalchemy import migrate
from domain.access import Scope
from entrypoints.container import build_container, dispose
from entrypoints.http import create_app
from entrypoints.settings import ENV_PREFIX, Settings

connect = sqlite3.connect

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    yield
    for name in list(os.environ):  # what gunicorn's hooks set for the workers
        if name.startswith(ENV_PREFIX):
            del os.environ[name]


def load_gunicorn_conf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> ModuleType:
    # The metrics directory is given, so loading the module changes no process-wide variable.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    for name, value in env.items():
        monkeypatch.setenv(ENV_PREFIX + name, value)
    # Imported here, never at collection: it sets process-wide variables when loaded.
    return importlib.reload(importlib.import_module("entrypoints.gunicorn_conf"))


# ------------------------------------------------------------------------------ gunicorn


def test_gunicorn_takes_workers_threads_and_timeouts_from_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conf = load_gunicorn_conf(
        monkeypatch,
        tmp_path,
        WORKERS="3",
        THREADS="8",
        TIMEOUT_SECONDS="45",
        GRACEFUL_TIMEOUT_SECONDS="20",
        PORT="9100",
    )

    assert (conf.workers, conf.threads) == (3, 8)
    assert conf.worker_class == "entrypoints.gunicorn_worker.BalancedThreadWorker"
    assert (conf.timeout, conf.graceful_timeout) == (45, 20)
    assert conf.bind == ["127.0.0.1:9100"]
    assert conf.wsgi_app == "entrypoints.http:create_app()"
    assert conf.preload_app is True
    assert conf.accesslog == "-"
    assert conf.logger_class.__name__ == "StructlogLogger"


def test_building_the_app_in_the_master_leaves_nothing_the_workers_would_share(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # What ``preload_app`` relies on: the app the master builds before forking holds no
    # database connection (a SQLite or PostgreSQL connection used by two processes corrupts
    # their conversations) and no thread (a fork copies none); a worker's first request makes
    # them.
    url = f"sqlite:///{tmp_path / 'circulate.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("CIRCULATE_SIGNING_KEYS_FILE", str(tmp_path / "signing-keys.json"))
    opened: list[object] = []

    def recording_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(args)
        connection: sqlite3.Connection = connect(*args, **kwargs)
        return connection

    for module in (sqlite3, sqlite3.dbapi2):  # the standard library's name and the DB-API's
        monkeypatch.setattr(module, "connect", recording_connect)
    threads = set(threading.enumerate())
    settings = Settings(storage="sql", environment="test", database_url=url)

    create_app(settings)

    assert opened == []
    started = set(threading.enumerate()) - threads
    for thread in started:  # a short-lived timer may still be finishing: none may stay
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in started)


def test_gunicorn_refuses_a_database_that_is_not_migrated_before_any_worker_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'circulate.db'}"
    conf = load_gunicorn_conf(monkeypatch, tmp_path, DATABASE_URL=url)

    with pytest.raises(SystemExit) as refused:
        conf.on_starting(None)

    assert str(refused.value) == (
        f"error: there is no database file {tmp_path / 'circulate.db'}: "
        "run `circulate db upgrade` first"
    )
    migrate.upgrade(url)
    conf.on_starting(None)  # at the head: gunicorn goes on to start its workers


_MASTER_MODULES = """
import sys
import entrypoints.gunicorn_conf as conf
conf.on_starting(None)
loaded = sorted({name.split(".")[0] for name in sys.modules} & {"alembic", "mako", "migrations"})
print(",".join(loaded) + "|" + str("adapters.sqlalchemy.models" in sys.modules))
"""


def test_the_master_checks_the_schema_without_loading_the_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'circulate.db'}"
    migrate.upgrade(url)
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith(ENV_PREFIX)},
        ENV_PREFIX + "DATABASE_URL": url,
        ENV_PREFIX + "STORAGE": "sql",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }

    # A fresh interpreter: nothing imported before the hook.
    master = subprocess.run(
        [sys.executable, "-c", _MASTER_MODULES],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )

    # Checked in a child: alembic and the migration scripts never reach the workers' memory,
    # while the mapped classes they query through are loaded (and configured) once, here.
    assert master.stdout.strip().splitlines()[-1] == "|True"


_WORKER_IMPORTS = """
import os, sys
import entrypoints.gunicorn_conf as conf
from domain.access import Scope
from entrypoints.container import build_container, dispose
from entrypoints.http import create_app

app = create_app()  # as gunicorn's preload_app builds it, before the hook
conf.on_starting(None)
client = app.test_client()  # the test client's own modules are no worker's
before = set(sys.modules)  # the fork
headers = {"Authorization": "ApiKey " + os.environ["TEST_API_KEY"]}
for path, status in (
    ("/api/v1/books?per_page=20", 200),
    ("/api/v1/books?q=book&sort=-title", 200),
    ("/api/v1/books/" + "0" * 26, 404),
):
    assert client.get(path, headers=headers).status_code == status, path
print("redis loaded:", any(name.partition(".")[0] == "redis" for name in sys.modules))
print("imported by the worker:", *sorted(set(sys.modules) - before))
"""


def test_a_worker_reads_the_catalogue_with_only_the_modules_the_master_imported(
    tmp_path: Path,
) -> None:
    # Modules imported by a worker after the fork are a private copy in each worker; imported
    # by the master (``SERVING_MODULES``), they are pages every worker shares.
    url = f"sqlite:///{tmp_path / 'circulate.db'}"
    migrate.upgrade(url)
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith(ENV_PREFIX)},
        ENV_PREFIX + "DATABASE_URL": url,
        ENV_PREFIX + "STORAGE": "sql",
        ENV_PREFIX + "ENVIRONMENT": "test",
        ENV_PREFIX + "SIGNING_KEYS_FILE": str(tmp_path / "signing-keys.json"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    settings = Settings(
        storage="sql",
        environment="test",
        database_url=url,
        signing_keys_file=str(tmp_path / "signing-keys.json"),
    )
    container = build_container(settings, wire=False)
    try:
        key = container.identity.api_keys().create("reader", frozenset({Scope.BOOKS_READ}))
    finally:
        dispose(container)

    worker = subprocess.run(
        [sys.executable, "-c", _WORKER_IMPORTS],
        env={**env, "TEST_API_KEY": key.plaintext},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )

    # Without Redis configured, no process of the deployment loads its client: a few MB of
    # every worker's memory.
    assert worker.stdout.strip().splitlines()[-2:] == [
        "redis loaded: False",
        "imported by the worker:",
    ]


def test_the_repository_root_config_is_the_packages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gunicorn_conf = load_gunicorn_conf(monkeypatch, tmp_path)
    names: dict[str, Any] = {}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), names)  # noqa: S102

    for setting in ("workers", "threads", "timeout", "graceful_timeout", "logger_class"):
        assert names[setting] == getattr(gunicorn_conf, setting)
    for hook in ("on_starting", "child_exit"):
        assert callable(names[hook])


def test_starting_empties_the_metrics_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conf = load_gunicorn_conf(monkeypatch, tmp_path, STORAGE="memory")
    stale = tmp_path / "metrics" / "counter_123.db"
    stale.parent.mkdir()
    stale.write_bytes(b"old run")

    conf.on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=3)))

    assert list((tmp_path / "metrics").iterdir()) == []


def test_gunicorn_refuses_unsafe_production_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="refusing to start in production"):
        load_gunicorn_conf(monkeypatch, tmp_path, ENVIRONMENT="production")


# ------------------------------------------------------------------ production settings


def test_production_problems_name_each_missing_or_default_secret(tmp_path: Path) -> None:
    settings = Settings(
        environment="production",
        signing_keys_file=str(tmp_path / "missing.json"),
        redis_url="redis://:changeme@redis:6379/0",
        metrics_token=SecretStr("short"),
    )

    problems = " | ".join(settings.production_problems())

    assert "CIRCULATE_DATABASE_URL is the default SQLite file" in problems
    assert "no signing keys" in problems
    assert "CIRCULATE_REDIS_URL has a placeholder password" in problems
    assert "CIRCULATE_METRICS_TOKEN" in problems
    assert "changeme" not in problems


def test_sound_production_settings_have_no_problem(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text("{}")
    settings = Settings(
        environment="production",
        database_url="postgresql+psycopg://app:Zq8w-long-random@db/circulate",
        signing_keys_file=str(keys),
    )

    assert settings.production_problems() == []
    placeholder = settings.model_copy(
        update={"database_url": "postgresql+psycopg://app:password@db/circulate"}
    )
    assert placeholder.production_problems() == [
        "CIRCULATE_DATABASE_URL has a placeholder password"
    ]


# ------------------------------------------------------------------- Dockerfile, compose


def test_the_dockerfile_builds_wheels_then_runs_slim_and_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.MULTILINE)

    assert [name for _, name in stages] == ["build", "runtime"]
    assert re.search(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm", text)
    assert "pip wheel" in text
    assert "--no-index" in text  # the runtime installs only the wheels built
    runtime = text.split("AS runtime", 1)[1]
    user = re.search(r"^USER\s+(\S+)", runtime, re.MULTILINE)
    assert user is not None
    assert not user.group(1).startswith(("root", "0"))
    assert "HEALTHCHECK" in runtime
    assert "/healthz" in runtime
    [command] = re.findall(r"^CMD\s+(.+)$", runtime, re.MULTILINE)
    assert "circulate serve --workers" in command
    assert "db upgrade" not in command  # migrations are an explicit step


def test_compose_runs_the_api_after_postgres_redis_and_the_migrations() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]

    assert {"api", "migrate", "postgres", "redis"} <= set(services)
    for name in ("postgres", "redis"):
        image = services[name]["image"]
        assert re.fullmatch(r"[a-z]+:\d+(\.\d+)*-\S+", image), image  # pinned
        assert services[name]["healthcheck"]["test"]
    assert services["migrate"]["command"] == ["circulate", "db", "upgrade"]
    api = services["api"]
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert api["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "/readyz" in str(api["healthcheck"]["test"])
    environment = api["environment"]
    assert environment["CIRCULATE_ENVIRONMENT"] == "production"
    assert environment["CIRCULATE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert environment["CIRCULATE_REDIS_URL"].startswith("redis://redis:")
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    for service in services.values():
        for variable in service.get("environment", {}):
            if variable.startswith(ENV_PREFIX):
                assert variable in known, variable
    assert "password" not in str(environment).lower().replace("postgres_password", "")


def test_the_configuration_page_documents_every_setting_with_its_default() -> None:
    readme = (ROOT / "docs" / "configuration.md").read_text()
    rows = dict(re.findall(r"^\| `(CIRCULATE_[A-Z0-9_]+)` \| ([^|]+) \|", readme, re.MULTILINE))

    for name, field in Settings.model_fields.items():
        variable = ENV_PREFIX + name.upper()
        assert variable in rows, f"{variable} is not in the configuration page's table"
        default = field.default
        if isinstance(default, bool):
            assert f"`{str(default).lower()}`" in rows[variable], variable
        elif default is not None and default != "":
            assert str(default) in rows[variable].replace(",", "").replace("_", ""), variable


@pytest.mark.parametrize("peer", [("127.0.0.1", 5555), ("::1", 5555), ("203.0.113.9", 5555)])
def test_gunicorn_believes_no_forwarded_header_from_any_peer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, peer: tuple[str, int]
) -> None:
    conf = load_gunicorn_conf(monkeypatch, tmp_path)
    config = GunicornConfig()
    for setting in ("forwarded_allow_ips", "secure_scheme_headers", "forwarder_headers"):
        config.set(setting, getattr(conf, setting))
    raw = (
        b"GET /api/v1 HTTP/1.1\r\nHost: api\r\nX-Forwarded-Proto: https\r\n"
        b"X-Forwarded-Ssl: on\r\nX-Forwarded-Protocol: ssl\r\n\r\n"
    )

    parsed = next(iter(RequestParser(config, [raw], peer)))

    assert parsed.scheme == "http"  # only ProxyFix, with CIRCULATE_PROXY_HOPS, may say https
