"""PostgreSQL engines read ``json`` and ``jsonb`` in one step
(``adapters.sqlalchemy.psycopg_json``): every value must come back as ``json.loads`` gives it,
whatever spaces a ``json`` value was written with."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from psycopg.pq import Format
from sqlalchemy import Engine, text

from adapters.sqlalchemy.engine import create_engine_for
from adapters.sqlalchemy.psycopg_json import JsonTextLoader

pytestmark = pytest.mark.postgres

VALUES = [
    '["Ursula K. Le Guin", "Ÿ́ and \\" and \\\\"]',
    "[]",
    '{"k": [1.5, null, true, -2e3], "ünï": {"": "x"}}',
    '"a string"',
    "42",
    "null",
]


@pytest.fixture
def engine(migrated_postgres_url: str) -> Iterator[Engine]:
    engine = create_engine_for(migrated_postgres_url)
    yield engine
    engine.dispose()


def test_every_connection_reads_json_with_the_one_step_loader(engine: Engine) -> None:
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        for name in ("json", "jsonb"):
            oid = raw.adapters.types[name].oid
            assert raw.adapters.get_loader(oid, Format.TEXT) is JsonTextLoader


@pytest.mark.parametrize("value", VALUES)
def test_jsonb_reads_as_json_loads_does(engine: Engine, value: str) -> None:
    with engine.connect() as connection:
        read = connection.execute(text("SELECT CAST(:v AS jsonb)"), {"v": value}).scalar_one()
    assert read == json.loads(value)


@pytest.mark.parametrize("value", VALUES)
def test_json_keeps_its_spaces_and_still_reads_as_json_loads_does(
    engine: Engine, value: str
) -> None:
    spaced = f" \n{value}\t "
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT CAST(:v AS json)::text"), {"v": spaced})
        assert stored.scalar_one() == spaced  # the server hands it back as written
        read = connection.execute(text("SELECT CAST(:v AS json)"), {"v": spaced}).scalar_one()
    assert read == json.loads(value)


def test_a_null_is_none(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.execute(text("SELECT CAST(NULL AS jsonb)")).scalar_one() is None
