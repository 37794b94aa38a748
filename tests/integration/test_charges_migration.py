"""Migration 0010b: fines become overdue charges, payments are allocated, loans get a status."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from domain.ledger import Account, Allocation, ChargeType, EntryKind
from domain.loans import LoanStatus

BEFORE = "0009c_webhooks"
T = "2030-01-0{day} 09:00:00+00:00"


Statement = tuple[str, dict[str, object]]


def rows() -> list[Statement]:
    """Ada: fines of 100 and 300, payments of 150 (before the second fine) and 200. Bob paid
    80 against a fine of 50 (possible before 0010b)."""
    day = {d: T.format(day=d) for d in range(1, 10)}
    members: list[Statement] = [
        (
            "INSERT INTO members (id, email, name, name_key, role, status, "
            "membership_expires_at, created_at, updated_at, version) VALUES (:id, :email, :name, "
            ":key, 'member', 'active', :expires, :at, :at2, 1)",
            {
                "id": m,
                "email": f"{m}@example.org",
                "name": m,
                "key": m,
                "expires": day[9],
                "at": day[1],
                "at2": day[1],
            },
        )
        for m in ("ada", "bob")
    ]
    book: Statement = (
        "INSERT INTO books (id, isbn, title, authors, subjects, title_key, authors_key, "
        "created_at, updated_at, version) VALUES ('b1', '9780131103627', 'K', '[]', '[]', 'k', "
        "'', :at, :at2, 1)",
        {"at": day[1], "at2": day[1]},
    )
    copies: list[Statement] = [
        (
            "INSERT INTO copies (id, book_id, barcode, status, created_at, updated_at, version) "
            "VALUES (:id, 'b1', :barcode, :status, :at, :at2, 1)",
            {"id": c, "barcode": c, "status": status, "at": day[1], "at2": day[1]},
        )
        for c, status in (("c1", "available"), ("c2", "on_loan"))
    ]
    loans: list[Statement] = [
        (
            "INSERT INTO loans (id, copy_id, book_id, member_id, loaned_at, due_at, renewals, "
            "returned_at, fine_cents, version) VALUES (:id, :copy, 'b1', 'ada', :lent, :due, 0, "
            ":back, 0, 1)",
            {"id": loan, "copy": c, "lent": day[1], "due": day[2], "back": back},
        )
        for loan, c, back in (("l1", "c1", day[3]), ("l2", "c2", None))
    ]
    ledger = [
        ("f1", "ada", "fine", 100, 1, "l1"),
        ("p1", "ada", "payment", 150, 2, None),
        ("f2", "ada", "fine", 300, 3, "l2"),
        ("p2", "ada", "payment", 200, 4, None),
        ("f3", "bob", "fine", 50, 1, None),
        ("p3", "bob", "payment", 80, 2, None),
    ]
    lines: list[Statement] = [
        (
            "INSERT INTO ledger_entries (id, member_id, kind, amount_cents, created_at, loan_id, "
            "note) VALUES (:id, :member, :kind, :cents, :at, :loan, '')",
            {"id": i, "member": m, "kind": k, "cents": a, "at": day[d], "loan": loan},
        )
        for i, m, k, a, d, loan in ledger
    ]
    return [*members, book, *copies, *loans, *lines]


def test_existing_fines_and_payments_become_an_account(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.upgrade(url, BEFORE)
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            for statement, params in rows():
                connection.execute(text(statement), params)

        migrate.upgrade(url)

        with SqlUnitOfWork(session_factory(engine)) as uow:
            ada = Account("ada", uow.ledger.for_member("ada"))
            bob = Account("bob", uow.ledger.for_member("bob"))
            loans = {loan_id: uow.loans.get(loan_id) for loan_id in ("l1", "l2")}
        charges = [e for e in ada.entries if e.kind is EntryKind.CHARGE]
        assert [(c.id, c.charge_type) for c in charges] == [
            ("f1", ChargeType.OVERDUE),
            ("f2", ChargeType.OVERDUE),
        ]
        payments = {e.id: e.allocations for e in ada.entries if e.kind is EntryKind.PAYMENT}
        # Oldest first, to charges posted later too: p1 pays f1 and 50 of f2; p2 pays 200 of f2.
        assert payments == {
            "p1": (Allocation("f1", 100), Allocation("f2", 50)),
            "p2": (Allocation("f2", 200),),
        }
        assert [c.remaining_cents for c in ada.charges()] == [0, 50]
        assert ada.balance_cents == 50
        # Bob paid 30 more than every charge: a credit, to be refunded.
        assert (bob.balance_cents, bob.credit_cents()) == (-30, 30)
        assert {k: v.status for k, v in loans.items() if v is not None} == {
            "l1": LoanStatus.RETURNED,
            "l2": LoanStatus.OPEN,
        }

        migrate.downgrade(url, BEFORE)
        with engine.connect() as connection:
            kinds = connection.execute(text("SELECT id, kind FROM ledger_entries ORDER BY id"))
            assert dict(kinds.all()) == {
                "f1": "fine",
                "f2": "fine",
                "f3": "fine",
                "p1": "payment",
                "p2": "payment",
                "p3": "payment",
            }
    finally:
        engine.dispose()


def test_a_downgrade_refuses_lines_the_old_schema_cannot_hold(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.upgrade(url, BEFORE)
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            for statement, params in rows()[:2]:
                connection.execute(text(statement), params)
        migrate.upgrade(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO ledger_entries (id, member_id, kind, amount_cents, created_at, "
                    "note, charge_type) VALUES ('m1', 'ada', 'charge', 10, :at, 'x', 'manual')"
                ),
                {"at": T.format(day=5)},
            )
        with pytest.raises(RuntimeError, match="refusing to downgrade"):
            migrate.downgrade(url, BEFORE)
    finally:
        engine.dispose()
