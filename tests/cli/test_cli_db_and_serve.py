"""``circulate db current|downgrade`` on a SQLite file, and ``serve --workers``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from adapters.sqlalchemy import migrate
from entrypoints.cli import main
from entrypoints.container import Container, build_container, dispose
from entrypoints.settings import Settings


@pytest.fixture
def sql_container(tmp_path: Path) -> Iterator[Container]:
    container = build_container(
        Settings(database_url=f"sqlite:///{tmp_path / 'c.db'}", environment="test")
    )
    yield container
    dispose(container)


def run(container: Container, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), obj=container, input=input)


def test_current_tells_whether_the_schema_is_up_to_date(sql_container: Container) -> None:
    head = migrate.head()

    empty = run(sql_container, "db", "current")
    run(sql_container, "db", "upgrade")
    upgraded = run(sql_container, "db", "current")
    as_json = json.loads(run(sql_container, "db", "current", "--json").stdout)

    assert empty.exit_code == upgraded.exit_code == 0
    assert empty.stdout == f"base (empty) (behind head {head}: run 'circulate db upgrade')\n"
    assert upgraded.stdout == f"{head} (up to date)\n"
    assert as_json == {"current": head, "head": head, "up_to_date": True}


def test_downgrade_asks_first(sql_container: Container) -> None:
    run(sql_container, "db", "upgrade")
    url = sql_container.config.database_url()

    declined = run(sql_container, "db", "downgrade", "base", input="n\n")
    assert declined.exit_code == 1
    assert migrate.is_at_head(url)

    done = run(sql_container, "db", "downgrade", "base", "--yes")
    assert done.exit_code == 0, done.output
    assert done.stdout == "database schema at revision base (empty)\n"
    assert migrate.current(url) is None


def test_db_commands_refuse_memory_storage() -> None:
    container = build_container(Settings(storage="memory", environment="test"))
    try:
        for args in (("db", "current"), ("db", "downgrade", "base", "--yes")):
            result = run(container, *args)
            assert result.exit_code == 1
            assert "nothing to migrate" in result.stderr
    finally:
        dispose(container)


def test_serve_with_workers_execs_gunicorn_on_the_app_factory(
    sql_container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append((path, list(argv))))
    run(sql_container, "db", "upgrade")

    result = run(sql_container, "serve", "--workers", "3", "--host", "::1", "--port", "9000")

    assert result.exit_code == 0, result.output
    [(path, argv)] = calls
    assert path == sys.executable
    assert argv[1:3] == ["-m", "gunicorn"]
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[argv.index("--bind") + 1] == "[::1]:9000"
    assert argv[-1] == "entrypoints.http:create_app()"


def test_serve_with_workers_refuses_memory_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "execv", lambda *_: pytest.fail("must not exec"))
    container = build_container(Settings(storage="memory", environment="test"))
    try:
        result = run(container, "serve", "--workers", "2")
    finally:
        dispose(container)

    assert result.exit_code == 1
    assert "--workers needs CIRCULATE_STORAGE=sql" in result.stderr


def test_db_and_serve_help_has_examples() -> None:
    for command in (("db", "upgrade"), ("db", "downgrade"), ("db", "current"), ("serve",)):
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "Example" in result.stdout, command
