"""``circulate account show|pay|charge|waive|cancel|refund``: a member's account at the desk."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

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


def shown(cli: Cli) -> dict[str, Any]:
    result = cli("account", "show", "ada@example.org", "--json")
    assert result.exit_code == 0, result.output
    account: dict[str, Any] = json.loads(result.stdout)
    return account


def run_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    return out


@pytest.mark.usefixtures("late_loan")
def test_show_prints_what_is_owed_and_the_ledger(cli: Cli) -> None:
    result = cli("account", "show", "ada@example.org")

    assert result.exit_code == 0, result.output
    assert "Ada Lovelace <ada@example.org>" in result.stdout
    owes = next(line for line in result.stdout.splitlines() if line.startswith("owes now"))
    assert owes.split()[-1] == "2.00"
    charge = shown(cli)["entries"][0]
    words = next(line for line in result.stdout.splitlines() if charge["id"] in line).split()
    at = words.index(charge["id"])
    assert words[at + 1 : at + 4] == ["overdue", "2.00", "2.00"]  # kind, amount, left


@pytest.mark.usefixtures("late_loan")
def test_show_json_is_the_apis_account_object(cli: Cli, container: Container) -> None:
    ada = container.library.membership().find_by_email("ada@example.org")
    assert ada is not None

    account = json.loads(cli("account", "show", ada.id, "--json").stdout)

    assert account["member_id"] == ada.id
    assert account["balance_cents"] == account["totals"]["charges_cents"] == 200
    [entry] = account["entries"]
    assert (entry["kind"], entry["charge_type"], entry["remaining_cents"]) == (
        "charge",
        "overdue",
        200,
    )
    assert entry["created_at"].endswith("Z")  # the API's timestamps


@pytest.mark.usefixtures("late_loan")
def test_pay_takes_an_amount_as_typed_at_a_desk(cli: Cli) -> None:
    paid = cli("account", "pay", "ada@example.org", "1.5", "--note", "cash")
    as_json = run_json(cli, "account", "pay", "ada@example.org", "0.25")

    assert paid.exit_code == 0, paid.output
    assert paid.stdout.startswith("received from Ada Lovelace: 1.50 (line ")
    assert paid.stdout.endswith("owed now: 0.50\n")
    assert (as_json["kind"], as_json["amount_cents"]) == ("payment", 25)
    account = shown(cli)
    assert account["balance_cents"] == 25
    assert [e["kind"] for e in account["entries"]] == ["charge", "payment", "payment"]
    assert account["entries"][1]["note"] == "cash"
    assert account["entries"][0]["remaining_cents"] == 25


@pytest.mark.usefixtures("late_loan")
def test_pay_refuses_more_than_is_owed_and_amounts_that_are_not_money(cli: Cli) -> None:
    too_much = cli("account", "pay", "ada@example.org", "2.01")
    not_money = [cli("account", "pay", "ada@example.org", value) for value in ("1.234", "-1", "0")]

    assert too_much.exit_code == 1
    assert too_much.stderr.startswith("Error: PAYMENT_EXCEEDS_BALANCE: ")
    assert all(result.exit_code == 2 for result in not_money)
    assert shown(cli)["totals"]["payments_cents"] == 0


@pytest.mark.usefixtures("late_loan")
def test_charge_waive_pay_a_named_charge_refund_and_cancel(cli: Cli) -> None:
    fine_id = shown(cli)["entries"][0]["id"]
    manual = run_json(
        cli, "account", "charge", "ada@example.org", "3", "--note", "damaged dust jacket"
    )
    assert (manual["charge_type"], manual["amount_cents"]) == ("manual", 300)

    waiver = run_json(
        cli, "account", "waive", "ada@example.org", fine_id, "--amount", "0.5", "--reason", "first"
    )
    assert (waiver["kind"], waiver["target_id"], waiver["amount_cents"]) == ("waiver", fine_id, 50)
    payment = run_json(cli, "account", "pay", "ada@example.org", "1", "--charge", manual["id"])
    assert payment["allocations"] == [{"charge_id": manual["id"], "amount_cents": 100}]
    refund = run_json(
        cli, "account", "refund", "ada@example.org", payment["id"], "--reason", "paid twice"
    )
    assert (refund["kind"], refund["amount_cents"]) == ("refund", 100)
    cancelled = run_json(
        cli, "account", "cancel", "ada@example.org", manual["id"], "--reason", "wrong member"
    )
    assert cancelled["amount_cents"] == 300

    account = shown(cli)
    assert account["balance_cents"] == 150  # the fine, less the waiver
    assert (
        sum(
            e["amount_cents"] * (1 if e["kind"] in ("charge", "refund") else -1)
            for e in account["entries"]
        )
        == account["balance_cents"]
    )
    refused = cli("account", "cancel", "ada@example.org", manual["id"], "--reason", "again")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: CHARGE_SETTLED: ")
    no_reason = cli("account", "waive", "ada@example.org", fine_id)
    assert no_reason.exit_code == 2


def test_account_commands_have_help_with_an_example(cli: Cli) -> None:
    for command in ("show", "pay", "charge", "waive", "cancel", "refund"):
        result = cli("account", command, "--help")
        assert result.exit_code == 0
        assert f"circulate account {command}" in result.stdout
