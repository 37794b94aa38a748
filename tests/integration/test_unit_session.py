"""The unit of work's session (``adapters.sqlalchemy.unit_session``): Core and ORM statements
share one connection and one transaction, committed or rolled back whole, on every database."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from adapters.sqlalchemy.engine import READ_ONLY, read_only_transaction, session_factory
from adapters.sqlalchemy.models import ClosureRow


def _count(engine: Engine) -> int:
    # Read-only, so that SQLite takes no write lock while a session holds one.
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        return int(connection.execute(select(func.count()).select_from(ClosureRow)).scalar_one())


def _insert_one(through: Connection | Session, day: date) -> None:
    row = {"id": f"closure-{day}", "day": day, "weekday": None, "note": "", "version": 1}
    through.execute(insert(ClosureRow), row)


def test_core_and_orm_statements_run_in_one_transaction_committed_whole(engine: Engine) -> None:
    before = _count(engine)
    session = session_factory(engine)()
    connection = session.connection()
    _insert_one(connection, date(2030, 1, 1))
    _insert_one(session, date(2030, 1, 2))
    assert session.connection() is connection
    assert session.in_transaction()
    assert _count(engine) == before  # nothing seen outside before the commit
    session.commit()
    session.close()
    assert _count(engine) == before + 2


def test_a_rollback_undoes_core_and_orm_statements_alike(engine: Engine) -> None:
    before = _count(engine)
    session = session_factory(engine)()
    _insert_one(session.connection(), date(2031, 1, 1))
    _insert_one(session, date(2031, 1, 2))
    session.rollback()
    session.close()
    assert _count(engine) == before


def test_closing_without_a_commit_rolls_back(engine: Engine) -> None:
    before = _count(engine)
    session = session_factory(engine)()
    _insert_one(session.connection(), date(2032, 1, 1))
    session.close()
    assert not session.in_transaction()
    assert _count(engine) == before


def test_options_given_with_the_first_connection_apply_to_its_transaction(engine: Engine) -> None:
    session = session_factory(engine)()
    read_only_transaction(session)
    assert session.connection().get_execution_options().get(READ_ONLY) is True
    session.close()


def test_a_transaction_ended_through_the_connection_takes_no_more_statements(
    engine: Engine,
) -> None:
    session = session_factory(engine)()
    session.connection().rollback()
    with pytest.raises(InvalidRequestError, match="ended"):
        session.connection()
    session.close()
