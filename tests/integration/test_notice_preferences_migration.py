"""Migration 0010d: members from before it keep what they had, no receipts, overdue notices."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, insert

from adapters.sqlalchemy import mappers, migrate
from adapters.sqlalchemy.engine import create_engine_for, session_factory
from adapters.sqlalchemy.models import MemberRow
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from domain.members import NoticePreferences
from tests.contract.builders import member

NEW_COLUMNS = {"notice_receipts", "notice_overdue"}


def test_members_from_before_get_no_receipts_and_overdue_notices(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.upgrade(url, "0010c_audit_privacy")  # the revision before 0010d
    ada = member()
    values = {k: v for k, v in mappers.member_values(ada).items() if k not in NEW_COLUMNS}
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            connection.execute(insert(cast(Table, MemberRow.__table__)), [values])

        migrate.upgrade(url)

        with SqlUnitOfWork(session_factory(engine)) as uow:
            migrated = uow.members.get(ada.id)
        assert migrated is not None
        assert migrated.notices == NoticePreferences(receipts=False, overdue=True)
    finally:
        engine.dispose()
