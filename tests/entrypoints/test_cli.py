"""The ``circulate`` command: help, version, migrations, serve, and how it refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import create_engine, inspect

from adapters.sqlalchemy import migrate
from domain.access import Scope
from entrypoints.cli import main
from entrypoints.cli import serve as serve_command
from entrypoints.container import Container
from tests.entrypoints.support import ContainerFactory
from tests.services import free_port

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (only passed around, never bound)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("CIRCULATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # files made by default (the key set) stay out of the work tree


def run(*args: str, env: dict[str, str] | None = None, obj: Any = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, obj=obj)


def wait_until_answering(url: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 (http://127.0.0.1 only)
            return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_help_lists_the_commands() -> None:
    result = run("--help")

    assert result.exit_code == 0, result.output
    for command in ("db", "serve"):
        assert command in result.output
    assert "--debug" in result.output


def test_subcommand_help_works() -> None:
    assert "REVISION" in run("db", "upgrade", "--help").output
    assert "--port" in run("serve", "--help").output


def test_version() -> None:
    result = run("--version")

    assert result.exit_code == 0
    assert version("circulate") in result.output


def test_db_upgrade_creates_the_schema(sqlite_url: str) -> None:
    result = run("db", "upgrade", env={"CIRCULATE_DATABASE_URL": sqlite_url})

    assert result.exit_code == 0, result.output
    assert migrate.is_at_head(sqlite_url)
    assert {"books", "copies", "members", "loans", "holds"} <= tables(sqlite_url)
    assert "revision" in result.output


def test_db_upgrade_is_idempotent(sqlite_url: str) -> None:
    env = {"CIRCULATE_DATABASE_URL": sqlite_url}

    assert run("db", "upgrade", env=env).exit_code == 0
    assert run("db", "upgrade", "head", env=env).exit_code == 0
    assert migrate.is_at_head(sqlite_url)


def test_db_upgrade_uses_the_given_container(
    make_container: ContainerFactory, sqlite_url: str
) -> None:
    container = make_container(database_url=sqlite_url)

    result = run("db", "upgrade", obj=container)

    assert result.exit_code == 0, result.output
    assert migrate.is_at_head(sqlite_url)


def test_db_upgrade_to_an_unknown_revision_is_one_line_and_exit_1(sqlite_url: str) -> None:
    result = run("db", "upgrade", "no-such-revision", env={"CIRCULATE_DATABASE_URL": sqlite_url})

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_db_upgrade_refuses_memory_storage() -> None:
    result = run("db", "upgrade", env={"CIRCULATE_STORAGE": "memory"})

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: nothing to migrate: CIRCULATE_STORAGE is 'memory', which keeps no schema\n"
    )


def test_bad_settings_are_one_line_on_stderr_and_exit_1() -> None:
    result = run("db", "upgrade", env={"CIRCULATE_PORT": "eighty"})

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: invalid settings: CIRCULATE_PORT: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_debug_lets_the_exception_through() -> None:
    result = run("--debug", "db", "upgrade", env={"CIRCULATE_PORT": "eighty"})

    assert result.exit_code == 1
    assert result.exception is not None
    assert type(result.exception).__name__ == "ValidationError"


def test_unknown_command_is_a_usage_error() -> None:
    result = run("frobnicate")

    assert result.exit_code == 2
    assert "No such command" in result.stderr


Calls = list[tuple[Flask, str, int]]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Records the development server's start instead of binding a port."""
    calls: Calls = []

    def fake_run(app: Flask, host: str, port: int) -> None:
        calls.append((app, host, port))

    monkeypatch.setattr(serve_command, "run_development_server", fake_run)
    return calls


@pytest.fixture
def execs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Records the exec of gunicorn instead of replacing the test process."""
    calls: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda _path, argv: calls.append(list(argv)))
    return calls


def test_serve_defaults_come_from_settings(served: Calls) -> None:
    result = run("serve", env={"CIRCULATE_PORT": "9123", "CIRCULATE_STORAGE": "memory"})

    assert result.exit_code == 0, result.output
    [(app, host, port)] = served
    assert (host, port) == ("127.0.0.1", 9123)
    ready = app.test_client().get("/readyz").get_json()
    assert ready["checks"]["database"]["detail"] == "in-memory storage"


def test_serve_options_win_over_settings(served: Calls, make_container: ContainerFactory) -> None:
    container: Container = make_container(storage="memory", port=9123)

    result = run("serve", "--host", ALL_INTERFACES, "--port", "8080", obj=container)

    assert result.exit_code == 0, result.output
    [(app, host, port)] = served
    assert (host, port) == (ALL_INTERFACES, 8080)
    key = container.identity().api_keys().create("probe", frozenset({Scope.BOOKS_READ}))
    listed = app.test_client().get(
        "/api/v1/books", headers={"Authorization": f"ApiKey {key.plaintext}"}
    )
    assert listed.status_code == 200  # the key exists in this container's storage only


def test_the_development_server_says_what_to_do_next(served: Calls) -> None:
    result = run("serve", "--port", "9124", env={"CIRCULATE_STORAGE": "memory"})

    assert result.exit_code == 0, result.output
    assert "Circulate serving http://127.0.0.1:9124 (development server" in result.stderr
    assert "http://127.0.0.1:9124/docs" in result.stderr
    assert "POST http://127.0.0.1:9124/api/v1/auth/token" in result.stderr
    assert "circulate demo" in result.stderr
    assert result.stdout == ""  # stdout stays free for what a script might read


def test_the_development_server_logs_one_line_per_request_without_colour(
    tmp_path: Path, sqlite_url: str
) -> None:
    """werkzeug's own request line and banner (with ANSI colours) are not written."""
    assert run("db", "upgrade", env={"CIRCULATE_DATABASE_URL": sqlite_url}).exit_code == 0
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CIRCULATE_")},
        "CIRCULATE_DATABASE_URL": sqlite_url,
        "CIRCULATE_LOG_FORMAT": "json",
        "CIRCULATE_SIGNING_KEYS_FILE": str(tmp_path / "keys.json"),
    }
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "circulate"), "serve", "--port", str(port)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_answering(f"http://127.0.0.1:{port}/healthz")
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
        finally:
            process.terminate()
            process.wait(timeout=10)

    text = log.read_text()
    json_lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests = [line for line in json_lines if line.get("route") == "/healthz"]
    assert len(requests) == 2, text  # the readiness poll and the request: one line each
    assert "\x1b" not in text
    assert "\\u001b" not in text
    assert not any(line.get("logger") == "werkzeug" for line in json_lines), text


def test_production_serve_runs_gunicorn_with_the_configured_workers(
    execs: list[list[str]], served: Calls, sqlite_url: str, tmp_path: Path
) -> None:
    env = {
        "CIRCULATE_ENVIRONMENT": "production",
        "CIRCULATE_DATABASE_URL": sqlite_url,
        "CIRCULATE_SIGNING_KEYS_FILE": str(tmp_path / "keys.json"),
        "CIRCULATE_WORKERS": "3",
    }
    assert run("keys", "rotate", env=env).exit_code == 0
    assert run("db", "upgrade", env=env).exit_code == 0

    result = run("serve", env=env)

    assert result.exit_code == 0, result.output
    [argv] = execs
    assert argv[argv.index("--workers") + 1] == "3"
    assert not served


def test_every_command_refuses_a_database_that_is_not_migrated(sqlite_url: str) -> None:
    env = {"CIRCULATE_DATABASE_URL": sqlite_url}
    database = Path(sqlite_url.removeprefix("sqlite:///"))

    for command in (("books", "list"), ("demo",), ("serve",), ("members", "list")):
        result = run(*command, env=env)

        assert result.exit_code == 1, (command, result.output)
        [line] = result.stderr.strip().splitlines()
        assert line == (
            f"Error: there is no database file {database}: run `circulate db upgrade` first"
        )
    assert not database.exists()  # refusing leaves no empty file behind
    assert run("books", "list", "--help", env=env).exit_code == 0

    assert run("db", "upgrade", "0004", env=env).exit_code == 0
    behind = run("books", "list", env=env)

    assert behind.exit_code == 1
    assert f"is at 0004_book_search but this version needs {migrate.head()}" in behind.stderr
    assert "run `circulate db upgrade` first" in behind.stderr
    assert run("db", "upgrade", env=env).exit_code == 0
    assert run("books", "list", env=env).exit_code == 0


def test_serve_refuses_production_with_a_default_database_and_no_keys(
    served: Calls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no key file here

    result = run("serve", env={"CIRCULATE_ENVIRONMENT": "production"})

    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: refusing to start in production:")
    assert "CIRCULATE_DATABASE_URL is the default SQLite file" in line
    assert "no signing keys" in line
    assert not served


def test_serve_refuses_a_port_out_of_range() -> None:
    result = run("serve", "--port", "70000")

    assert result.exit_code == 2
    assert "70000" in result.stderr
