"""``circulate audit``, and what commands record as their actor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.clock import ManualClock
from entrypoints.cli import main
from entrypoints.cli.main import os_user
from entrypoints.container import Container, build_container, dispose
from entrypoints.settings import Settings
from tests.cli.conftest import Cli

KR = "9780131103627"


def trail(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("audit", "--json", *args)
    assert result.exit_code == 0, result.output
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


def test_a_command_acts_as_the_os_user(cli: Cli) -> None:
    ada = ("--email", "ada@example.org", "--name", "Ada", "--no-password", "--json")
    created = cli("members", "create", *ada)
    member_id = json.loads(created.stdout)["id"]
    assert cli("members", "suspend", "ada@example.org").exit_code == 0

    events = trail(cli, "--entity-type", "member", "--entity", member_id)

    assert [e["action"] for e in events] == ["member_status_changed", "member_registered"]
    assert {e["actor"] for e in events} == {f"cli:{os_user()}"}
    # One request id per invocation: the two commands are told apart.
    assert len({e["request_id"] for e in events}) == 2
    assert "ada@example.org" not in json.dumps(events)


def test_an_import_acts_as_the_os_user(cli: Cli, tmp_path: Path) -> None:
    # The batches are stored by another thread than the command's; the actor goes with them.
    books = tmp_path / "books.csv"
    books.write_text("isbn,title\n9780306406157,The River Garden\n", encoding="utf-8")
    members = tmp_path / "members.csv"
    members.write_text("email,name\nada@example.org,Ada\n", encoding="utf-8")
    assert cli("books", "import", str(books)).exit_code == 0
    assert cli("members", "import", str(members)).exit_code == 0

    events = trail(cli, "--action", "books_imported") + trail(cli, "--action", "members_imported")

    assert len(events) == 2
    assert {e["actor"] for e in events} == {f"cli:{os_user()}"}


def test_filters_and_table(cli: Cli) -> None:
    for name in ("ada", "bob"):
        made = cli("members", "create", "--email", f"{name}@x.org", "--name", name, "--no-password")
        assert made.exit_code == 0, made.output

    table = cli("audit", "--action", "member_registered")
    none = cli("audit", "--actor", "cli:nobody")
    later = trail(cli, "--since", "2100-01-01")

    assert table.exit_code == 0, table.output
    assert table.stdout.count("member_registered") == 2
    assert f"cli:{os_user()}" in table.stdout
    assert "No audit events." in none.stdout
    assert later == []


def test_a_backwards_range_and_a_bad_date_are_refused(cli: Cli) -> None:
    backwards = cli("audit", "--since", "2030-01-02", "--until", "2030-01-01")
    bad = cli("audit", "--since", "yesterday")

    assert backwards.exit_code == 1
    assert "INVALID_VALUE" in backwards.output
    assert bad.exit_code == 2
    assert "--since" in bad.output


@pytest.fixture
def retaining(clock: ManualClock) -> Iterator[Container]:
    container = build_container(
        Settings(storage="memory", environment="test", loan_retention_days=30)
    )
    container.clock.override(clock)
    yield container
    dispose(container)


def test_the_retention_job_anonymises_old_loans_as_itself(
    retaining: Container, clock: ManualClock
) -> None:
    def cli(*args: str) -> Any:
        return CliRunner().invoke(main, list(args), obj=retaining)

    assert cli("books", "add", "--isbn", KR, "--title", "K&R").exit_code == 0
    cli("members", "create", "--email", "ada@example.org", "--name", "Ada", "--no-password")
    lent = json.loads(
        cli("loans", "borrow", "--member", "ada@example.org", "--book", KR, "--json").stdout
    )
    assert cli("loans", "return", lent["id"]).exit_code == 0
    clock.advance(timedelta(days=31))

    first = cli("jobs", "run", "loans-anonymise")
    again = cli("jobs", "run", "loans-anonymise")

    assert (first.output, again.output) == ("loans-anonymise: 1\n", "loans-anonymise: 0\n")
    [event] = json.loads(cli("audit", "--action", "loan_anonymised", "--json").stdout)["items"]
    assert (event["entity_id"], event["actor"]) == (lent["id"], "job:loans-anonymise")
    loans = json.loads(cli("loans", "list", "--member", "ada@example.org", "--json").stdout)
    assert loans["items"] == []  # her history no longer names her
