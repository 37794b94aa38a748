"""The records a commit writes besides its entities: audit records and outbox messages.

A change usually writes one of each. On PostgreSQL a run of them is one statement: the last
record's INSERT, with the others' INSERTs as data-modifying CTEs of it (PostgreSQL runs each
exactly once, whether or not the statement reads them), so the run costs one round trip rather
than one each. Each keeps its own rules: an outbox message still does nothing on a duplicate
``dedupe_key``. SQLite has no data-modifying CTEs: one INSERT each there.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, insert
from sqlalchemy.dialects import postgresql

from adapters.sqlalchemy import audit, outbox
from application.audit import AuditRecord
from application.outbox import OutboxMessage

Record = AuditRecord | OutboxMessage

# Records per statement: a change writes two or three, while a job's commit may write thousands,
# which in one statement would pass PostgreSQL's limit of 65,535 parameters.
RUN_LIMIT = 16


def write_records(connection: Connection, records: Sequence[Record]) -> None:
    """Insert ``records`` in ``connection``'s (the change's) transaction, in their order."""
    if connection.dialect.name != "postgresql" or len(records) < 2:
        for record in records:
            if isinstance(record, AuditRecord):
                audit.write_record(connection, record)
            else:
                outbox.write_message(connection, record)
        return
    # Of two messages with one cause, the first is kept, as one INSERT each would keep it: the
    # parts of one statement run in no set order, so the database cannot be left to choose.
    records = _first_of_each_cause(records)
    for start in range(0, len(records), RUN_LIMIT):
        _write_run(connection, records[start : start + RUN_LIMIT])


def _write_run(connection: Connection, records: Sequence[Record]) -> None:
    parameters: dict[str, Any] = {}
    for n, record in enumerate(records):
        values = record.as_dict() if isinstance(record, AuditRecord) else outbox.values_of(record)
        parameters.update({f"r{n}_{name}": value for name, value in values.items()})
    kinds = tuple(isinstance(record, AuditRecord) for record in records)
    connection.execute(_statement(kinds), parameters)


def _first_of_each_cause(records: Sequence[Record]) -> list[Record]:
    causes: set[str] = set()
    kept: list[Record] = []
    for record in records:
        if isinstance(record, OutboxMessage):
            if record.dedupe_key in causes:
                continue
            causes.add(record.dedupe_key)
        kept.append(record)
    return kept


@lru_cache(maxsize=64)
def _statement(audits: tuple[bool, ...]) -> Insert:
    """The INSERTs of a run of records (``True`` for an audit record, ``False`` for an outbox
    message), as one statement, built once per sequence of kinds."""
    inserts = [_insert(n, is_audit) for n, is_audit in enumerate(audits)]
    *earlier, last = inserts
    return last.add_cte(*(each.cte(f"record_{n}") for n, each in enumerate(earlier)))


def _insert(n: int, is_audit: bool) -> Insert:
    """One record's INSERT, its parameters named ``r<n>_<column>``."""
    table = audit.TABLE if is_audit else outbox.TABLE
    names = table.columns.keys() if is_audit else outbox.WRITTEN_COLUMNS
    values = {name: bindparam(f"r{n}_{name}", type_=table.c[name].type) for name in names}
    if is_audit:
        return insert(table).values(values)
    return (
        postgresql.insert(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
    )
