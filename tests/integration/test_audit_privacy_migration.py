"""Migration 0010c: members stored before it can be anonymised after it, the audit table is
append-only from the start, and going back keeps every member row valid."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import Table, insert, text
from sqlalchemy.exc import DatabaseError

from adapters.sqlalchemy import mappers, migrate
from adapters.sqlalchemy.engine import create_engine_for
from adapters.sqlalchemy.models import MemberRow
from tests.contract.builders import T0, member

BEFORE = "0010b_charges"  # the revision before 0010c
LATER_COLUMNS = {"notice_receipts", "notice_overdue"}  # members' columns added after it


def test_existing_members_can_be_anonymised_and_back(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.upgrade(url, BEFORE)
    ada, bob = member(), member()
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(cast(Table, MemberRow.__table__)),
                [
                    {k: v for k, v in mappers.member_values(m).items() if k not in LATER_COLUMNS}
                    for m in (ada, bob)
                ],
            )
        migrate.upgrade(url)

        ada.anonymise(T0)
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE members SET status = :s, email = :e, name = :n WHERE id = :id"),
                {"s": ada.status.value, "e": ada.email, "n": ada.name, "id": ada.id},
            )
            connection.execute(
                text(
                    "INSERT INTO audit_events (id, occurred_at, actor, action, details) "
                    "VALUES ('a1', :t, 'system', 'member_anonymised', '{}')"
                ),
                {"t": T0},
            )
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_events"))

        migrate.downgrade(url, BEFORE)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, status FROM members")).all()
        statuses: dict[str, str] = {row[0]: row[1] for row in rows}
        assert statuses == {ada.id: "suspended", bob.id: "active"}
    finally:
        engine.dispose()
