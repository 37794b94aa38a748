"""The desk in the CLI: members by card number, lending by scan, check-in says where next."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adapters.clock import ManualClock
from tests.cli.conftest import Cli

KR = "9780131103627"


@pytest.fixture
def library(cli: Cli) -> None:
    """K&R with two copies; Ada with card ADA-0001, Grace with a drawn card."""
    added = cli(
        "books", "add", "--isbn", KR, "--title", "The C Programming Language", "--copies", "2"
    )
    assert added.exit_code == 0, added.output
    for extra in (
        ("--email", "ada@example.org", "--name", "Ada", "--card", "ada-0001"),
        ("--email", "grace@example.org", "--name", "Grace Hopper"),
    ):
        created = cli("members", "create", *extra, "--no-password")
        assert created.exit_code == 0, created.output


def card_of(cli: Cli, email: str) -> str:
    shown = cli("members", "show", email, "--json")
    assert shown.exit_code == 0, shown.output
    card: str = json.loads(shown.stdout)["member"]["card_number"]
    return card


@pytest.mark.usefixtures("library")
def test_members_show_list_and_update_by_card_number(cli: Cli) -> None:
    shown = cli("members", "show", "ADA 0001")
    listed = cli("members", "list", "--card", "ada0001", "--json")
    updated = cli("members", "update", "ada@example.org", "--card", "ADA-0002")
    taken = cli("members", "update", "grace@example.org", "--card", "ada0002")
    bad = cli(
        "members",
        "create",
        "--email",
        "x@example.org",
        "--name",
        "X",
        "--card",
        "a/b",
        "--no-password",
    )

    assert shown.exit_code == 0, shown.output
    card_line = next(line for line in shown.stdout.splitlines() if line.startswith("card number"))
    assert card_line.split()[-1] == "ADA0001"
    assert [m["email"] for m in json.loads(listed.stdout)["items"]] == ["ada@example.org"]
    assert updated.exit_code == 0, updated.output
    assert "card ADA0002" in updated.stdout
    assert taken.exit_code == 1
    assert taken.stderr.startswith("Error: CARD_NUMBER_TAKEN: ")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("Error: INVALID_VALUE: ")
    assert len(card_of(cli, "grace@example.org")) == 14


@pytest.mark.usefixtures("library")
def test_borrow_by_card_and_barcode_then_check_in_to_the_hold_shelf(
    cli: Cli, clock: ManualClock
) -> None:
    grace_card = card_of(cli, "grace@example.org")
    lent = cli("loans", "borrow", "--card", "ADA0001", "--barcode", f"{KR}-1")
    cli("loans", "borrow", "--card", "ADA0001", "--barcode", f"{KR}-2")
    held = cli("holds", "place", "--member", grace_card, "--book", KR)
    assert held.exit_code == 0, held.output
    clock.advance(timedelta(days=23))

    first = cli("loans", "return", "--barcode", f"{KR}-1")
    second = cli("loans", "return", f"{KR}-2", "--json")

    assert lent.exit_code == 0, lent.output
    assert lent.stdout.startswith(f"lent copy {KR}-1 to ada@example.org, due ")
    assert first.exit_code == 0, first.output
    returned, where = first.stdout.splitlines()
    assert returned.startswith(f"returned copy {KR}-1 (loan ")
    assert "fine" in returned
    assert where.startswith(f"-> hold shelf for Grace Hopper (card {grace_card}), to collect by ")
    body = json.loads(second.stdout)
    assert body["loan"]["returned_at"] is not None
    assert body["destination"] == "shelf"
    assert body["hold"] is None


@pytest.mark.usefixtures("library")
def test_borrow_and_return_need_one_reference_of_each_kind(cli: Cli) -> None:
    both = cli("loans", "borrow", "--member", "ada@example.org", "--card", "ADA0001", "--book", KR)
    neither = cli("loans", "borrow", "--barcode", f"{KR}-1")
    two_copies = cli("loans", "borrow", "--card", "ADA0001", "--barcode", f"{KR}-1", "--book", KR)
    no_copy = cli("loans", "return")
    twice = cli("loans", "return", f"{KR}-1", "--barcode", f"{KR}-1")
    unknown_card = cli("loans", "borrow", "--card", "NOCARD", "--barcode", f"{KR}-1")
    not_lent = cli("loans", "return", "--barcode", f"{KR}-1")

    assert {r.exit_code for r in (both, neither, two_copies, no_copy, twice)} == {2}
    assert unknown_card.stderr.startswith("Error: MEMBER_NOT_FOUND: ")
    assert not_lent.stderr.startswith("Error: NO_OPEN_LOAN: ")
