"""PostgreSQL engines' cursors build ``description`` when it is read
(``adapters.sqlalchemy.psycopg_cursor``): what is read must be what psycopg would have said, for
the result it was asked about, and SQLAlchemy's results must not change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from psycopg import Column, Cursor
from sqlalchemy import Engine, text

from adapters.sqlalchemy.engine import create_engine_for
from adapters.sqlalchemy.psycopg_cursor import LazyDescription, LazyDescriptionCursor

pytestmark = pytest.mark.postgres

WIDE = "SELECT 1::int AS n, 'a'::text AS word, now() AS at, NULL::numeric(5, 2) AS money"


@pytest.fixture
def engine(migrated_postgres_url: str) -> Iterator[Engine]:
    engine = create_engine_for(migrated_postgres_url)
    yield engine
    engine.dispose()


def _described(column: Column) -> tuple[object, ...]:
    return (column.name, column.type_code, column.display_size, column.internal_size,
            column.precision, column.scale, column.type_display)  # fmt: skip


def test_the_description_read_is_psycopgs(engine: Engine) -> None:
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as lazy, Cursor(raw) as eager:
            assert isinstance(lazy, LazyDescriptionCursor)
            lazy.execute(WIDE)
            eager.execute(WIDE)
            described, expected = lazy.description, eager.description
            assert isinstance(described, LazyDescription)
            assert expected is not None
            assert len(described) == 4
            assert [_described(c) for c in described] == [_described(c) for c in expected]
            assert _described(described[-1]) == _described(expected[3])
            assert described[1:3][0].name == "word"


def test_a_description_read_late_is_of_the_result_it_was_asked_about(engine: Engine) -> None:
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute(WIDE)
            first = cursor.description
            cursor.execute("SELECT 'x'::text AS other")
            assert first is not None
            assert [column.name for column in first] == ["n", "word", "at", "money"]
            assert first[0].type_code == 23  # int4's oid


def test_no_rows_and_no_columns_are_described_as_psycopg_does(engine: Engine) -> None:
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 0")
            assert cursor.description is None
            cursor.execute("SELECT")
            assert cursor.description == []


def test_results_through_sqlalchemy_are_unchanged(engine: Engine) -> None:
    with engine.connect() as connection:
        for _ in range(2):  # the second run reads the kept result metadata
            row = connection.execute(text(WIDE)).one()
            assert (row.n, row.word, row.money) == (1, "a", None)
            assert list(connection.execute(text(WIDE)).keys()) == ["n", "word", "at", "money"]
