"""``circulate loans lost|claimed-returned|found`` and the ``loans-age-to-lost`` job."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers

from adapters.clock import ManualClock
from domain.policy import Policy
from entrypoints.container import Container
from tests.cli.conftest import Cli

KR = "9780131103627"


@pytest.fixture
def rules(cli: Cli) -> None:
    """Lost items cost 25.00 to replace and 5.00 to process."""
    changed = cli(
        "rules", "change", "default", "--replacement-fee-cents", "2500",
        "--processing-fee-cents", "500",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output


def lend(cli: Cli, email: str) -> dict[str, Any]:
    if cli("books", "show", KR).exit_code != 0:
        assert cli("books", "add", "--isbn", KR, "--title", "K&R").exit_code == 0
    made = cli("members", "create", "--email", email, "--name", email, "--no-password")
    assert made.exit_code == 0, made.output
    lent = cli("loans", "borrow", "--member", email, "--book", KR, "--json")
    assert lent.exit_code == 0, lent.output
    loan: dict[str, Any] = json.loads(lent.stdout)
    return loan


def account(cli: Cli, email: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(cli("account", "show", email, "--json").stdout)
    return shown


@pytest.mark.usefixtures("rules")
def test_declare_lost_then_found_cancels_the_replacement_fee(cli: Cli, clock: ManualClock) -> None:
    loan = lend(cli, "ada@example.org")
    clock.advance(timedelta(days=23))  # two days late: 50 cents

    lost = cli("loans", "lost", loan["id"])
    assert lost.exit_code == 0, lost.output
    assert lost.stdout == (
        f"loan {loan['id']} closed as lost; charged: overdue 0.50, lost 25.00, processing 5.00\n"
    )
    assert account(cli, "ada@example.org")["balance_cents"] == 3050
    again = cli("loans", "lost", loan["id"])
    assert again.exit_code == 1
    assert again.stderr.startswith("Error: LOAN_ALREADY_RETURNED: ")

    found = cli("loans", "found", f"{KR}-1")
    assert found.exit_code == 0, found.output
    assert found.stdout == (
        f"copy {KR}-1 goes to the shelf; replacement fee cancelled 25.00, refunded 0.00\n"
    )
    assert account(cli, "ada@example.org")["balance_cents"] == 550
    not_lost = cli("loans", "found", f"{KR}-1")
    assert not_lost.exit_code == 1
    assert not_lost.stderr.startswith("Error: COPY_NOT_LOST: ")


@pytest.mark.usefixtures("rules")
def test_a_claimed_return_stops_the_fine(cli: Cli, clock: ManualClock) -> None:
    loan = lend(cli, "ada@example.org")
    clock.advance(timedelta(days=22))  # one day late
    claimed = cli("loans", "claimed-returned", loan["id"], "--json")
    assert claimed.exit_code == 0, claimed.output
    assert json.loads(claimed.stdout)["status"] == "claimed_returned"
    clock.advance(timedelta(days=10))

    assert account(cli, "ada@example.org")["accruing_cents"] == 25
    listed = cli("loans", "list", "--member", "ada@example.org")
    assert "claimed returned" in listed.stdout
    returned = cli("loans", "return", f"{KR}-1", "--json")
    assert json.loads(returned.stdout)["loan"]["fine_cents"] == 25


@pytest.fixture
def ages_after_30_days(container: Container) -> Iterator[None]:
    with container.policy.override(providers.Object(Policy(lost_after_days_overdue=30))):
        container.lost_items.reset()
        yield
    container.lost_items.reset()


@pytest.mark.usefixtures("rules", "ages_after_30_days")
def test_the_job_ages_long_overdue_loans_to_lost(
    cli: Cli, clock: ManualClock, container: Container
) -> None:
    loan = lend(cli, "ada@example.org")
    clock.advance(timedelta(days=21 + 29))
    assert cli("jobs", "run", "loans-age-to-lost").output == "loans-age-to-lost: 0\n"
    clock.advance(timedelta(days=2))

    ran = cli("jobs", "run", "loans-age-to-lost")

    assert ran.output == "loans-age-to-lost: 1\n"
    shown = json.loads(cli("loans", "list", "--member", "ada@example.org", "--json").stdout)
    assert [(i["id"], i["status"]) for i in shown["items"]] == [(loan["id"], "lost")]
    assert account(cli, "ada@example.org")["totals"]["charges_cents"] == 31 * 25 + 2500 + 500


def test_lost_item_commands_have_help_with_an_example(cli: Cli) -> None:
    for command in ("lost", "claimed-returned", "found"):
        result = cli("loans", command, "--help")
        assert result.exit_code == 0
        assert f"circulate loans {command}" in result.stdout
