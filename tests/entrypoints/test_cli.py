"""The ``circulate`` command: help, version, migrations, serve, and how it refuses."""

from __future__ import annotations

import os
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import create_engine, inspect

from adapters.sqlalchemy import migrate
from entrypoints.cli import main
from entrypoints.container import Container
from entrypoints.http.app import get_container
from tests.entrypoints.support import ContainerFactory

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (only passed around, never bound)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("CIRCULATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # files made by default (the key set) stay out of the work tree


def run(*args: str, env: dict[str, str] | None = None, obj: Any = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, obj=obj)


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


Calls = list[tuple[Flask, dict[str, Any]]]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Records ``Flask.run`` calls instead of binding a port."""
    calls: Calls = []

    def fake_run(app: Flask, **options: Any) -> None:
        calls.append((app, options))

    monkeypatch.setattr(Flask, "run", fake_run)
    return calls


def test_serve_defaults_come_from_settings(served: Calls) -> None:
    result = run("serve", env={"CIRCULATE_PORT": "9123", "CIRCULATE_STORAGE": "memory"})

    assert result.exit_code == 0, result.output
    [(app, options)] = served
    assert options["host"] == "127.0.0.1"
    assert options["port"] == 9123
    assert options["threaded"] is True
    assert options["use_reloader"] is False
    assert get_container(app).config.storage() == "memory"


def test_serve_options_win_over_settings(served: Calls, make_container: ContainerFactory) -> None:
    container: Container = make_container(storage="memory", port=9123)

    result = run("serve", "--host", ALL_INTERFACES, "--port", "8080", obj=container)

    assert result.exit_code == 0, result.output
    [(app, options)] = served
    assert (options["host"], options["port"]) == (ALL_INTERFACES, 8080)
    assert get_container(app) is container


def test_serve_warns_that_it_is_not_a_production_server(
    served: Calls, sqlite_url: str, tmp_path: Path
) -> None:
    env = {
        "CIRCULATE_ENVIRONMENT": "production",
        "CIRCULATE_DATABASE_URL": sqlite_url,
        "CIRCULATE_SIGNING_KEYS_FILE": str(tmp_path / "keys.json"),
    }
    assert run("keys", "rotate", env=env).exit_code == 0

    quiet = run("serve", env={"CIRCULATE_STORAGE": "memory"})
    loud = run("serve", env=env)

    assert quiet.exit_code == loud.exit_code == 0
    assert "development server" not in quiet.stderr
    assert loud.stderr.startswith("warning: this is Flask's development server")
    assert len(served) == 2


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
