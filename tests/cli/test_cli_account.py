"""``circulate account show|pay``: the desk's view of what a member owes, and taking payment."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adapters.clock import ManualClock
from entrypoints.container import Container
from tests.cli.conftest import Cli

KR = "9780131103627"


@pytest.fixture
def late_loan(cli: Cli, clock: ManualClock) -> None:
    """Ada returned K&R eight days late: 200 cents of fines."""
    assert cli("books", "add", "--isbn", KR, "--title", "The C Programming Language").exit_code == 0
    created = cli(
        "members", "create", "--email", "ada@example.org", "--name", "Ada Lovelace", "--no-password"
    )
    assert created.exit_code == 0, created.output
    assert cli("loans", "borrow", "--member", "ada@example.org", "--book", KR).exit_code == 0
    clock.advance(timedelta(days=29))
    assert cli("loans", "return", f"{KR}-1").exit_code == 0


@pytest.mark.usefixtures("late_loan")
def test_show_prints_what_is_owed_and_the_ledger(cli: Cli) -> None:
    result = cli("account", "show", "ada@example.org")

    assert result.exit_code == 0, result.output
    assert "Ada Lovelace <ada@example.org>" in result.stdout
    owes = next(line for line in result.stdout.splitlines() if line.startswith("owes"))
    assert owes.split()[-1] == "2.00"
    assert any(line.split()[3:5] == ["fine", "2.00"] for line in result.stdout.splitlines())


@pytest.mark.usefixtures("late_loan")
def test_show_json_is_the_apis_account_object(cli: Cli, container: Container) -> None:
    ada = container.membership().find_by_email("ada@example.org")
    assert ada is not None

    account = json.loads(cli("account", "show", ada.id, "--json").stdout)

    assert account["member_id"] == ada.id
    assert account["balance_cents"] == account["fines_cents"] == 200
    [entry] = account["entries"]
    assert entry["kind"] == "fine"
    assert entry["created_at"].endswith("Z")  # the API's timestamps


@pytest.mark.usefixtures("late_loan")
def test_pay_takes_an_amount_as_typed_at_a_desk(cli: Cli, container: Container) -> None:
    paid = cli("account", "pay", "ada@example.org", "1.5", "--note", "cash")
    as_json = json.loads(cli("account", "pay", "ada@example.org", "0.25", "--json").stdout)

    assert paid.exit_code == 0, paid.output
    assert paid.stdout == "1.50 received from Ada Lovelace; owed now: 0.50\n"
    assert (as_json["kind"], as_json["amount_cents"]) == ("payment", 25)
    account = json.loads(cli("account", "show", "ada@example.org", "--json").stdout)
    assert account["balance_cents"] == 25
    assert [e["kind"] for e in account["entries"]] == ["fine", "payment", "payment"]
    assert account["entries"][1]["note"] == "cash"


@pytest.mark.usefixtures("late_loan")
def test_pay_refuses_more_than_is_owed_and_amounts_that_are_not_money(cli: Cli) -> None:
    too_much = cli("account", "pay", "ada@example.org", "2.01")
    not_money = [cli("account", "pay", "ada@example.org", value) for value in ("1.234", "-1", "0")]

    assert too_much.exit_code == 1
    assert too_much.stderr.startswith("Error: PAYMENT_EXCEEDS_BALANCE: ")
    assert all(result.exit_code == 2 for result in not_money)
    shown = json.loads(cli("account", "show", "ada@example.org", "--json").stdout)
    assert shown["payments_cents"] == 0


def test_account_commands_have_help_with_an_example(cli: Cli) -> None:
    for command in ("show", "pay"):
        result = cli("account", command, "--help")
        assert result.exit_code == 0
        assert f"circulate account {command}" in result.stdout
