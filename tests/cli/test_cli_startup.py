"""What a ``circulate`` command imports before it works: its own module and the service it
uses, never the serving stack.

Each case runs the command in a fresh interpreter, as an administrator's shell does, and reads
the names in ``sys.modules`` as the process exits; the assertions are on those names, not on any
time.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from entrypoints.cli import main
from entrypoints.cli.command import ServiceCommand, ServiceGroup
from entrypoints.cli.main import COMMANDS

# What only a serving process (the HTTP API, the web pages, shared state in Redis) needs.
# (Not werkzeug: dependency-injector's wiring imports it, for its Flask support.)
SERVING_ONLY = (
    "flask",
    "flask_openapi3",
    "flask_cors",
    "flask_limiter",
    "flask_wtf",
    "gunicorn",
    "redis",
    "entrypoints.http",
    "entrypoints.web",
)
# What the command list needs none of: the service itself.
SERVICE = (
    "dependency_injector",
    "pydantic",
    "pydantic_settings",
    "sqlalchemy",
    "alembic",
    "structlog",
    "entrypoints.container",
    "entrypoints.settings",
    "entrypoints.cli.context",
    "adapters",
    "application",
    "domain",
)
BOOKS = "isbn,title,authors,copies\n9780306406157,The River Garden,Abara A.,2\n"
REPOSITORY = Path(__file__).resolve().parents[2]


# Runs the command as the ``circulate`` script does, and on the way out (click ends with
# ``sys.exit``) writes the names of the modules the process imported to the file in argv[1].
PROBE = """
import atexit, sys
from pathlib import Path
out = Path(sys.argv.pop(1))
atexit.register(lambda: out.write_text("\\n".join(sorted(sys.modules)), encoding="utf-8"))
sys.argv[0] = "circulate"
from entrypoints.cli import main
main()
"""


def imported(*args: str, env: dict[str, str], cwd: Path) -> tuple[set[str], str]:
    """The modules ``circulate ARGS`` imports, and what it printed; it must succeed."""
    names = cwd / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(names), *args],
        cwd=cwd,  # not the work tree, which ``-c`` would put first on the path
        env={**env, "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(names.read_text(encoding="utf-8").split()), done.stdout


def loaded(modules: set[str], packages: tuple[str, ...]) -> set[str]:
    """The modules among ``modules`` that are any of ``packages`` or inside one."""
    return {
        name
        for name in modules
        if any(name == package or name.startswith(package + ".") for package in packages)
    }


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CIRCULATE_")}
    environment["CIRCULATE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'circulate.db'}"
    environment["CIRCULATE_SIGNING_KEYS_FILE"] = str(tmp_path / "keys.json")
    return environment


def test_the_command_list_imports_no_command_and_none_of_the_service(
    env: dict[str, str], tmp_path: Path
) -> None:
    modules, output = imported("--help", env=env, cwd=tmp_path)

    assert "click" in modules  # the probe sees what is imported
    assert not loaded(modules, SERVICE + SERVING_ONLY)
    assert not {name for name in modules if name.startswith("entrypoints.cli.")} - {
        "entrypoints.cli.main",
        "entrypoints.cli.command",
    }
    for name in COMMANDS:
        assert f"\n  {name} " in output


def test_a_command_help_imports_its_module_but_no_serving_and_no_database(
    env: dict[str, str], tmp_path: Path
) -> None:
    modules, output = imported("books", "import", "--help", env=env, cwd=tmp_path)

    assert "FILE" in output
    assert "entrypoints.cli.books" in modules
    assert not loaded(modules, SERVING_ONLY)
    # Help is answered before any set-up: no settings read, no database, no logging.
    assert not loaded(modules, ("entrypoints.cli.context", "sqlalchemy", "alembic", "structlog"))
    # Nor the other commands' modules.
    assert not loaded(modules, ("entrypoints.cli.serve", "entrypoints.cli.demo"))


def test_books_import_on_sqlite_loads_no_serving_module(
    env: dict[str, str], tmp_path: Path
) -> None:
    imported("db", "upgrade", env=env, cwd=tmp_path)
    books = tmp_path / "books.csv"
    books.write_text(BOOKS, encoding="utf-8")

    modules, output = imported("books", "import", str(books), env=env, cwd=tmp_path)

    assert "added 1 books with 2 copies" in output
    assert "adapters.sqlalchemy.unit_of_work" in modules
    assert not loaded(modules, SERVING_ONLY)
    # Nor the adapters this command has no use for.
    assert not loaded(
        modules, ("adapters.redis_store", "adapters.notices", "adapters.webhooks", "jinja2")
    )


def test_members_import_in_memory_loads_no_sql_and_no_serving_module(
    env: dict[str, str], tmp_path: Path
) -> None:
    members = tmp_path / "members.csv"
    members.write_text("email,name\nada@example.org,Ada Abara\n", encoding="utf-8")

    modules, output = imported(
        "members", "import", str(members), env={**env, "CIRCULATE_STORAGE": "memory"}, cwd=tmp_path
    )

    assert "added 1" in output
    assert "adapters.memory.unit_of_work" in modules
    assert not loaded(modules, (*SERVING_ONLY, "sqlalchemy", "alembic", "adapters.sqlalchemy"))


def test_serve_imports_the_application(env: dict[str, str], tmp_path: Path) -> None:
    # The same probe sees the serving stack where it belongs: serving needs the app.
    modules, _ = imported("serve", "--help", env=env, cwd=tmp_path)

    assert {"flask", "flask_openapi3", "entrypoints.http"} <= modules


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_summary_is_the_command_own_help(name: str) -> None:
    command = main.get_command(click.Context(main), name)

    assert command is not None
    assert COMMANDS[name].summary == command.get_short_help_str(limit=10_000)


def walk(command: click.Command) -> list[click.Command]:
    if isinstance(command, click.Group):
        return [command, *(c for sub in command.commands.values() for c in walk(sub))]
    return [command]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_sets_the_service_up(name: str) -> None:
    # A plain click command would run with its injected arguments unresolved.
    command = main.get_command(click.Context(main), name)
    assert command is not None

    for each in walk(command):
        expected = ServiceGroup if isinstance(each, click.Group) else ServiceCommand
        assert isinstance(each, expected), each.name


def decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def test_only_command_callbacks_take_injections() -> None:
    # A command wires its own module alone (entrypoints.cli.context): an injected helper
    # elsewhere would run with its markers unresolved.
    injected = []
    for path in sorted((REPOSITORY / "entrypoints" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                names = [decorator_name(d) for d in node.decorator_list]
                if "inject" in names:
                    injected.append(node.name)
                    assert "command" in names, f"{path.name}: {node.name}"

    assert len(injected) > 50
