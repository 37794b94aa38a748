"""Migration 0006: data written before rules were data keeps working after it."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, insert, text

from adapters.clock import ManualClock
from adapters.ids import UuidV7Generator
from adapters.sqlalchemy import mappers, migrate
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.models import BookRow, CopyRow, HoldRow, LoanRow, MemberRow
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.circulation import Circulation
from domain.policy import Policy
from domain.rules import DEFAULT_CATEGORY, DEFAULT_ITEM_TYPE
from tests.contract.builders import DAY, T0, book, copy, hold, loan, member

NEW_COLUMNS = {
    "card_number",
    "item_type",
    "category",
    "member_category",
    "suspended",
    "not_needed_after",
    "queued_at",
    "notice_receipts",  # 0010d
    "notice_overdue",
}


# Columns added later to one table whose name another table had from the start.
NEW_COLUMNS_OF = {"loans": {"status", "claimed_returned_at"}}


def _before(table: str, values: dict[str, Any]) -> dict[str, Any]:
    new = NEW_COLUMNS | NEW_COLUMNS_OF.get(table, set())
    return {name: value for name, value in values.items() if name not in new}


def _insert(connection: Any, row: Any, values: list[dict[str, Any]]) -> None:
    table = cast(Table, row.__table__)
    connection.execute(insert(table), [_before(table.name, v) for v in values])


def test_rows_from_before_get_the_seeded_category_and_type(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.upgrade(url, "0005_book_availability")
    b = book()
    copies = [copy(b), copy(b)]
    borrower, waiter = member(), member()
    copies[0].lend(T0)
    out = loan(copies[0], borrower)
    queued = hold(b, waiter)
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            _insert(connection, BookRow, [mappers.book_values(b)])
            _insert(connection, CopyRow, [mappers.copy_values(c) for c in copies])
            _insert(connection, MemberRow, [mappers.member_values(m) for m in (borrower, waiter)])
            _insert(connection, LoanRow, [mappers.loan_values(out)])
            _insert(connection, HoldRow, [mappers.hold_values(queued)])

        migrate.upgrade(url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT code FROM member_categories")).all() == [
                (DEFAULT_CATEGORY,)
            ]
            assert connection.execute(text("SELECT code FROM item_types")).all() == [
                (DEFAULT_ITEM_TYPE,)
            ]
            categories = connection.execute(text("SELECT DISTINCT category FROM members")).all()
            assert categories == [(DEFAULT_CATEGORY,)]
            types = connection.execute(
                text("SELECT item_type FROM copies UNION SELECT item_type FROM loans")
            ).all()
            assert types == [(DEFAULT_ITEM_TYPE,)]

        # The old loan is returned and the copy goes to the old hold, under the default rule.
        clock = ManualClock(T0 + 2 * DAY)
        circulation = Circulation(
            lambda: SqlUnitOfWork(session_factory(engine)),
            clock,
            UuidV7Generator(),
            Policy(),
        )
        returned = circulation.return_loan(out.id)
        assert returned.fine_cents == 0
        assert circulation.get_hold(queued.id).hold.copy_id == copies[0].id

        migrate.downgrade(url, "0005_book_availability")
        with engine.connect() as connection:
            columns = connection.execute(text("SELECT * FROM members")).keys()
        assert "category" not in columns
    finally:
        engine.dispose()
