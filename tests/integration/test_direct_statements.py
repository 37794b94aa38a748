"""Built-once statements sent straight to psycopg's cursor (``adapters.sqlalchemy.direct``) keep
what running them through ``Connection.execute`` gives: the same rows, the same parameters (bind
processors and values bound in the statement included), listeners that see every statement, and
driver errors wrapped as SQLAlchemy wraps them, an outage included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    Engine,
    Integer,
    bindparam,
    event,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy.direct import fetch_all
from adapters.sqlalchemy.engine import create_engine_for
from adapters.sqlalchemy.models import HoldRow
from adapters.sqlalchemy.types import UtcDateTime
from application.ports import DependencyUnavailable
from domain.holds import ACTIVE_HOLD_STATUSES

pytestmark = pytest.mark.postgres

AT = bindparam("at", type_=UtcDateTime())


def _statement(*statuses: Any) -> Any:
    """A bind processor (an instant to UTC), a value bound in the statement, an IN list."""
    return select(
        func.to_char(AT, "YYYY-MM-DD HH24:MI:SS TZ").label("at"),
        (bindparam("n", type_=Integer) + literal(40)).label("sum"),
        select(func.count())
        .select_from(HoldRow)
        .where(HoldRow.status.in_(statuses))
        .scalar_subquery()
        .label("active"),
    )


# Its IN list of constants written into the SQL, as the repositories write them.
STATEMENT = _statement(*(literal_column(f"'{status}'") for status in sorted(ACTIVE_HOLD_STATUSES)))
# Its IN list bound: expanded into the SQL on every run, which SQLAlchemy does.
EXPANDING = _statement(*ACTIVE_HOLD_STATUSES)
PARAMETERS = {"at": datetime(2026, 3, 2, 12, tzinfo=timezone(timedelta(hours=2))), "n": 2}


@pytest.fixture
def engine(migrated_postgres_url: str) -> Iterator[Engine]:
    engine = create_engine_for(migrated_postgres_url)
    yield engine
    engine.dispose()


def test_rows_and_parameters_are_those_of_an_execution_through_sqlalchemy(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SET TIME ZONE 'UTC'"))
        direct = fetch_all(connection, STATEMENT, PARAMETERS)
        through = connection.execute(STATEMENT, PARAMETERS).all()
    assert [tuple(row) for row in direct] == [tuple(row) for row in through]
    assert [tuple(row) for row in direct] == [("2026-03-02 10:00:00 UTC", 42, 0)]


def test_a_statement_sqlalchemy_must_expand_at_each_run_is_run_by_sqlalchemy(
    engine: Engine,
) -> None:
    with engine.connect() as connection:
        connection.execute(text("SET TIME ZONE 'UTC'"))
        rows = fetch_all(connection, EXPANDING, PARAMETERS)
    assert [tuple(row) for row in rows] == [("2026-03-02 10:00:00 UTC", 42, 0)]


def test_a_naive_instant_is_refused_before_anything_is_sent(engine: Engine) -> None:
    naive = datetime(2026, 3, 2, 12)  # noqa: DTZ001 (the mistake refused)
    with engine.connect() as connection, pytest.raises(ValueError, match="naive"):
        fetch_all(connection, STATEMENT, {**PARAMETERS, "at": naive})


def test_listeners_see_each_statement_with_its_parameters(engine: Engine) -> None:
    seen: list[tuple[str, str, Any]] = []
    contexts: list[object] = []

    def before(*args: Any) -> None:
        seen.append(("before", args[2], args[3]))
        contexts.append(args[4])

    def after(*args: Any) -> None:
        seen.append(("after", args[2], args[3]))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        with engine.connect() as connection:
            fetch_all(connection, STATEMENT, PARAMETERS)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    assert [when for when, _, _ in seen] == ["before", "after"]
    # Sent straight to the cursor: SQLAlchemy made no execution context for it.
    assert contexts == [None]
    _, sql, parameters = seen[0]
    assert "to_char" in sql
    assert "'ready'" in sql  # the IN list of constants, written into the statement
    # Numbered, in the order of their numbers; the instant as it was bound: in UTC.
    assert "$1" in sql
    assert datetime(2026, 3, 2, 10, tzinfo=UTC) in parameters
    assert 2 in parameters


def test_a_driver_error_is_wrapped_as_sqlalchemy_wraps_it(engine: Engine) -> None:
    with engine.connect() as connection, pytest.raises(DBAPIError) as raised:
        fetch_all(connection, STATEMENT, {**PARAMETERS, "n": "not a number"})
    assert getattr(raised.value.orig, "sqlstate", None) == "22P02"  # invalid_text_representation


def test_a_connection_cut_under_a_statement_is_an_outage_and_is_replaced(engine: Engine) -> None:
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DependencyUnavailable):
            fetch_all(connection, STATEMENT, PARAMETERS)
        assert connection.invalidated
    with engine.connect() as connection:
        assert len(fetch_all(connection, STATEMENT, PARAMETERS)) == 1


def test_statements_on_one_connection_share_a_cursor_that_a_failure_does_not_spoil(
    engine: Engine,
) -> None:
    cursors: list[object] = []

    def before(*args: Any) -> None:
        cursors.append(args[1])

    event.listen(engine, "before_cursor_execute", before)
    try:
        with engine.connect() as connection:
            connection.execute(text("SET TIME ZONE 'UTC'"))
            cursors.clear()
            first = fetch_all(connection, STATEMENT, PARAMETERS)
            second = fetch_all(connection, STATEMENT, {**PARAMETERS, "n": 5})
            with pytest.raises(DBAPIError):
                fetch_all(connection, STATEMENT, {**PARAMETERS, "n": "not a number"})
            connection.rollback()
            third = fetch_all(connection, STATEMENT, PARAMETERS)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert [tuple(row) for row in first] == [("2026-03-02 10:00:00 UTC", 42, 0)]
    assert [tuple(row)[1] for row in second] == [45]
    assert [tuple(row) for row in third] == [tuple(row) for row in first]
    assert cursors[0] is cursors[1] is cursors[2]
    assert cursors[3] is not cursors[2]  # the failed statement's cursor was closed, not reused
