"""``circulate demo`` on the in-memory container."""

from __future__ import annotations

import json
import re

from application.queries import BookFilter, HoldFilter, LoanFilter, MemberFilter, PageRequest
from domain.loans import LoanState
from domain.members import Role
from entrypoints.container import Container
from tests.cli.conftest import Cli

ONE = PageRequest(1, 1)


def test_demo_seeds_a_library_and_prints_how_to_sign_in(cli: Cli, container: Container) -> None:
    result = cli("demo", "--books", "60", "--members", "12")

    assert result.exit_code == 0, result.output
    password = re.search(r"the password (\S+)", result.stdout)
    assert password is not None
    assert "admin      admin@demo.circulate.example" in result.stdout
    membership, circulation = container.membership(), container.circulation()
    admin = membership.find_by_email("admin@demo.circulate.example")
    assert admin is not None
    assert admin.role is Role.ADMIN
    assert admin.password_hash is not None
    assert container.hasher().verify(admin.password_hash, password.group(1))
    for role in Role:
        assert membership.list(MemberFilter(role=role), ONE).total >= 1
    assert container.catalogue().search_books(BookFilter(), ONE).total == 60
    for state in LoanState:
        assert circulation.list_loans(LoanFilter(state=state), ONE).total > 0, state
    assert circulation.list_holds(HoldFilter(), ONE).total > 0
    assert container.accounts().arrears()  # someone is late or owes money


def test_demo_ends_with_a_first_loan_that_goes_through(cli: Cli) -> None:
    result = cli("demo", "--books", "30", "--members", "6")
    suggested = re.search(r"circulate (loans borrow --member \S+ --book \S+)", result.stdout)
    assert suggested is not None, result.stdout

    loan = cli(*suggested.group(1).split(), "--json")

    assert loan.exit_code == 0, loan.output
    assert json.loads(loan.stdout)["returned_at"] is None


def test_demo_data_depends_only_on_the_seed(cli: Cli, container: Container) -> None:
    cli("demo", "--books", "20", "--members", "5", "--seed", "7")
    first = [b.isbn for b in container.catalogue().search_books(BookFilter(), PageRequest()).items]

    again = cli("demo", "--books", "20", "--members", "5", "--seed", "7", "--force")

    assert again.exit_code == 0, again.output
    assert container.catalogue().search_books(BookFilter(), ONE).total == 20  # nothing added
    assert len(first) == 20


def test_demo_refuses_a_database_with_data_unless_forced(cli: Cli) -> None:
    cli("members", "create", "--email", "a@example.org", "--name", "A", "--no-password")

    refused = cli("demo")

    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: DATABASE_NOT_EMPTY: the database already holds 0 books and 1 members; "
        "run with --force to add the demo library to it\n"
    )


def test_demo_help_has_an_example(cli: Cli) -> None:
    result = cli("demo", "--help")

    assert result.exit_code == 0
    assert "circulate demo" in result.stdout
