"""``circulate loans``, ``holds`` and ``report`` on the in-memory container."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adapters.clock import ManualClock
from entrypoints.container import Container
from tests.cli.conftest import Cli

KR = "9780131103627"
SICP = "9780262510875"


@pytest.fixture
def library(cli: Cli) -> None:
    """Two books (K&R with two copies, SICP with one) and two members."""
    for args in (
        ("--isbn", KR, "--title", "The C Programming Language", "--copies", "2"),
        ("--isbn", SICP, "--title", "Structure and Interpretation", "--copies", "1"),
    ):
        assert cli("books", "add", *args).exit_code == 0
    for email, name in (("ada@example.org", "Ada"), ("grace@example.org", "Grace")):
        created = cli("members", "create", "--email", email, "--name", name, "--no-password")
        assert created.exit_code == 0, created.output


def borrow(cli: Cli, member: str, *target: str) -> dict[str, object]:
    result = cli("loans", "borrow", "--member", member, *target, "--json")
    assert result.exit_code == 0, result.output
    loan: dict[str, object] = json.loads(result.stdout)
    return loan


@pytest.mark.usefixtures("library")
def test_borrow_by_book_or_copy_and_return_by_barcode_or_loan_id(cli: Cli) -> None:
    by_book = cli("loans", "borrow", "--member", "ada@example.org", "--book", KR)
    by_copy = borrow(cli, "grace@example.org", "--copy", f"{KR}-2")

    assert by_book.exit_code == 0, by_book.output
    assert by_book.stdout.startswith(f"lent copy {KR}-1 to ada@example.org, due ")
    returned = cli("loans", "return", f"{KR}-1")
    assert returned.exit_code == 0, returned.output
    assert returned.stdout.startswith(f"returned copy {KR}-1 (loan ")
    by_id = json.loads(cli("loans", "return", str(by_copy["id"]), "--json").stdout)
    assert by_id["loan"]["returned_at"] is not None
    assert by_id["loan"]["status"] == "returned"
    assert by_id["destination"] == "shelf"


@pytest.mark.usefixtures("library")
def test_borrow_refusals_carry_the_domain_code(cli: Cli) -> None:
    borrow(cli, "ada@example.org", "--book", SICP)

    taken = cli("loans", "borrow", "--member", "grace@example.org", "--book", SICP)
    unknown = cli("loans", "borrow", "--member", "nobody@example.org", "--book", SICP)
    neither = cli("loans", "borrow", "--member", "grace@example.org")
    not_lent = cli("loans", "return", f"{KR}-1")

    assert taken.exit_code == unknown.exit_code == not_lent.exit_code == 1
    assert taken.stderr.startswith("Error: NO_COPY_AVAILABLE: ")
    assert unknown.stderr.startswith("Error: MEMBER_NOT_FOUND: ")
    assert not_lent.stderr.startswith("Error: NO_OPEN_LOAN: ")
    assert neither.exit_code == 2


@pytest.mark.usefixtures("library")
def test_list_overdue_and_return_late_with_a_fine(cli: Cli, clock: ManualClock) -> None:
    late = borrow(cli, "ada@example.org", "--book", KR)
    clock.advance(timedelta(days=10))
    borrow(cli, "grace@example.org", "--book", SICP)
    clock.advance(timedelta(days=13))  # Ada's loan is two days late, Grace's is not

    overdue = cli("loans", "list", "--overdue")
    every = json.loads(cli("loans", "list", "--json").stdout)
    adas = json.loads(cli("loans", "list", "--member", "ada@example.org", "--json").stdout)

    assert overdue.exit_code == 0, overdue.output
    header, row = overdue.stdout.splitlines()
    assert header.split() == ["LOAN", "MEMBER", "BOOK", "COPY", "DUE", "STATE"]
    assert str(late["id"]) in row
    assert "ada@example.org" in row
    assert row.rstrip().endswith("OVERDUE, fine 0.50")
    assert every["total"] == 2
    assert [loan["id"] for loan in adas["items"]] == [late["id"]]
    # The accruing fine and the state, as the API shows them, not the (unassessed) stored fine.
    assert (adas["items"][0]["status"], adas["items"][0]["fine_cents"]) == ("overdue", 50)
    assert adas["items"][0]["due_at"].endswith("Z")

    returned = cli("loans", "return", f"{KR}-1")
    assert "fine 0.50 charged" in returned.stdout
    assert cli("loans", "list", "--overdue").stdout == "No loans match.\n"
    assert "returned, fine 0.50" in cli("loans", "list", "--returned").stdout


@pytest.mark.usefixtures("library")
def test_renew(cli: Cli) -> None:
    loan = borrow(cli, "ada@example.org", "--book", KR)

    result = cli("loans", "renew", str(loan["id"]), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["renewals"] == 1


@pytest.mark.usefixtures("library")
def test_holds_place_list_cancel(cli: Cli) -> None:
    borrow(cli, "ada@example.org", "--book", SICP)

    placed = cli("holds", "place", "--member", "grace@example.org", "--book", SICP, "--json")
    hold = json.loads(placed.stdout)
    listed = cli("holds", "list", "--status", "waiting")

    assert hold["position"] == 1
    assert hold["id"] in listed.stdout
    assert cli("holds", "cancel", hold["id"]).exit_code == 0
    assert cli("holds", "list", "--status", "waiting").stdout == "No holds match.\n"


@pytest.mark.usefixtures("library")
def test_holds_expire_passes_the_copy_to_the_next_in_the_queue(
    cli: Cli, clock: ManualClock
) -> None:
    borrow(cli, "ada@example.org", "--book", SICP)
    cli("members", "create", "--email", "third@example.org", "--name", "Third", "--no-password")
    cli("holds", "place", "--member", "grace@example.org", "--book", SICP)
    cli("holds", "place", "--member", "third@example.org", "--book", SICP)
    cli("loans", "return", f"{SICP}-1")  # set aside for Grace

    assert cli("holds", "expire").stdout == "expired 0 uncollected holds\n"
    clock.advance(timedelta(days=8))  # Grace did not come within the 7-day window
    result = cli("holds", "expire")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("expired 1 uncollected hold\n")
    ready = json.loads(cli("holds", "list", "--status", "ready", "--json").stdout)["items"]
    third = json.loads(cli("members", "show", "third@example.org", "--json").stdout)
    assert [h["member_id"] for h in ready] == [third["member"]["id"]]
    assert json.loads(cli("holds", "expire", "--json").stdout) == {"expired": []}


@pytest.mark.usefixtures("library")
def test_report_lists_overdue_loans_and_debts_per_member(
    cli: Cli, clock: ManualClock, container: Container
) -> None:
    assert cli("report").stdout == "No overdue loans and no debts.\n"
    borrow(cli, "ada@example.org", "--book", KR)
    borrow(cli, "ada@example.org", "--book", SICP)
    borrow(cli, "grace@example.org", "--book", KR)
    clock.advance(timedelta(days=25))  # every loan is 4 days late: 1.00 each
    cli("loans", "return", f"{KR}-2")  # Grace pays her fine into the ledger
    grace = container.membership().find_by_email("grace@example.org")
    assert grace is not None
    container.accounts().record_payment(grace.id, 40)

    table = cli("report")
    rows = json.loads(cli("report", "--json").stdout)

    assert table.exit_code == 0, table.output
    header, ada_line, grace_line = table.stdout.splitlines()
    assert header.split()[:3] == ["MEMBER", "EMAIL", "STATUS"]
    assert ada_line.split()[-5:-3] == ["2", "2030-01-22"]
    assert ada_line.split()[-3:] == ["0.00", "2.00", "2.00"]
    assert grace_line.split()[-4:] == ["0", "0.60", "0.00", "0.60"]
    assert [(r["member"]["email"], r["owed_cents"]) for r in rows] == [
        ("ada@example.org", 200),
        ("grace@example.org", 60),
    ]
    assert len(rows[0]["overdue_loans"]) == 2


def test_every_circulation_command_has_help_with_an_example(cli: Cli) -> None:
    for command in (
        ("loans", "list"),
        ("loans", "borrow"),
        ("loans", "return"),
        ("loans", "renew"),
        ("holds", "list"),
        ("holds", "place"),
        ("holds", "cancel"),
        ("holds", "expire"),
        ("report",),
    ):
        result = cli(*command, "--help")
        assert result.exit_code == 0, command
        assert "Example" in result.stdout, command
        assert f"circulate {command[0]}" in result.stdout, command


@pytest.mark.usefixtures("library")
def test_renew_all_says_what_happened_to_each_loan(cli: Cli) -> None:
    kr = borrow(cli, "ada@example.org", "--book", KR)
    sicp = borrow(cli, "ada@example.org", "--book", SICP)
    assert cli("holds", "place", "--member", "grace@example.org", "--book", SICP).exit_code == 0

    result = cli("loans", "renew-all", "--member", "ada@example.org", "--json")

    assert result.exit_code == 0, result.output
    outcomes = {o["loan"]["id"]: o for o in json.loads(result.stdout)["items"]}
    assert outcomes[kr["id"]]["renewed"] is True
    assert outcomes[sicp["id"]]["code"] == "RENEWAL_BLOCKED_BY_HOLD"
    table = cli("loans", "renew-all", "--member", "ada@example.org")
    assert "RENEWAL_BLOCKED_BY_HOLD" in table.stdout


@pytest.mark.usefixtures("library")
def test_suspend_and_resume_a_hold(cli: Cli) -> None:
    borrow(cli, "ada@example.org", "--book", SICP)
    placed = cli(
        "holds",
        "place",
        "--member",
        "grace@example.org",
        "--book",
        SICP,
        "--not-needed-after",
        "2030-02-01",
        "--json",
    )
    assert placed.exit_code == 0, placed.output
    hold = json.loads(placed.stdout)
    assert hold["not_needed_after"] == "2030-02-01"

    suspended = cli("holds", "suspend", hold["id"])
    assert suspended.exit_code == 0, suspended.output
    assert "number 1 in the queue" in suspended.stdout
    listed = json.loads(cli("holds", "list", "--json").stdout)["items"]
    assert [(h["suspended"], h["position"]) for h in listed] == [(True, 1)]
    resumed = cli("holds", "resume", hold["id"])
    assert resumed.exit_code == 0, resumed.output


@pytest.mark.usefixtures("library")
def test_move_a_hold(cli: Cli) -> None:
    borrow(cli, "ada@example.org", "--book", SICP)
    created = cli("members", "create", "--email", "cy@example.org", "--name", "Cy", "--no-password")
    assert created.exit_code == 0, created.output
    ids = []
    for email in ("grace@example.org", "cy@example.org"):
        placed = cli("holds", "place", "--member", email, "--book", SICP, "--json")
        ids.append(json.loads(placed.stdout)["id"])

    moved = cli("holds", "move", ids[1], "--to", "1")

    assert moved.exit_code == 0, moved.output
    assert "number 1 in the queue" in moved.stdout
    listed = json.loads(cli("holds", "list", "--json").stdout)["items"]
    assert [(h["id"], h["position"]) for h in listed] == [(ids[1], 1), (ids[0], 2)]
