"""What a commit writes after its reads: the entities it changed and the records it carries
(audit records, outbox messages, the use of an idempotency key), in as few round trips as the
database allows.

A change usually writes an entity or two and one record of each kind. On PostgreSQL a run of
them is one statement: each write a data-modifying CTE (PostgreSQL runs each exactly once,
whether or not the statement reads it) of a SELECT that counts the rows each UPDATE matched, so
the run costs one round trip rather than one each. Each keeps its own rules: an UPDATE still
matches only the version it read (a count other than one is ``ConcurrentUpdate``, as it is for
an UPDATE sent alone), the database's constraints still refuse what they refuse, and an outbox
message still does nothing on a duplicate ``dedupe_key``, and a key's use still matches only the
claim it names (``adapters.sqlalchemy.idempotency.use_key``). The parts of one statement run in no
set order, so a run only holds writes that do not depend on each other's effects: an INSERT or
a versioned UPDATE of one row each, never two of the same row (``adapters...held``); any other write
sends the run held so far first. SQLite has no data-modifying CTEs: one statement each there.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy import audit, idempotency, outbox
from adapters.sqlalchemy.direct import fetch_all
from adapters.sqlalchemy.errors import domain_error_for
from adapters.sqlalchemy.held import HeldWrite
from adapters.sqlalchemy.models import Base
from application.audit import AuditRecord
from application.idempotency import KeyState, KeyUsed
from application.outbox import OutboxMessage
from domain.errors import ConcurrentUpdate

Record = AuditRecord | OutboxMessage | KeyUsed

# Writes per statement: a change makes a few, while a job's commit may make thousands, which in
# one statement would pass PostgreSQL's limit of 65,535 parameters.
RUN_LIMIT = 16


def write_records(
    connection: Connection, records: Sequence[Record], held: Sequence[HeldWrite] = ()
) -> None:
    """Send ``held`` writes, then insert ``records``, in ``connection``'s (the change's)
    transaction, in their order. Held writes come from PostgreSQL's units of work only."""
    if connection.dialect.name != "postgresql":
        for record in records:
            if isinstance(record, AuditRecord):
                audit.write_record(connection, record)
            elif isinstance(record, KeyUsed):
                idempotency.use_key(connection, record)
            else:
                outbox.write_message(connection, record)
        return
    _write(connection, [*held, *_first_of_each_cause(records)])


def _first_of_each_cause(records: Sequence[Record]) -> list[Record]:
    # Of two messages with one cause, the first is kept, as one INSERT each would keep it: the
    # parts of one statement run in no set order, so the database cannot be left to choose.
    causes: set[str] = set()
    kept: list[Record] = []
    for record in records:
        if isinstance(record, OutboxMessage):
            if record.dedupe_key in causes:
                continue
            causes.add(record.dedupe_key)
        kept.append(record)
    return kept


Write = HeldWrite | Record
# The parts whose rows matched are counted: each must match exactly one.
_COUNTED = ("update", "key")


def _write(connection: Connection, writes: Sequence[Write]) -> None:
    for start in range(0, len(writes), RUN_LIMIT):
        _write_run(connection, writes[start : start + RUN_LIMIT])


def _write_run(connection: Connection, run: Sequence[Write]) -> None:
    parameters: dict[str, Any] = {}
    shape: list[tuple[str, ...]] = []
    for n, write in enumerate(run):
        values = _values(write)
        if isinstance(write, HeldWrite) and write.expected is not None:
            values = {**values, "_id": write.entity.id, "_expected": write.expected}
        parameters.update({f"w{n}_{name}": value for name, value in values.items()})
        shape.append(_kind(write))
    held = [write for write in run if isinstance(write, HeldWrite)]
    try:
        (matched,) = fetch_all(connection, _statement(tuple(shape)), parameters)
    except DBAPIError as error:
        _restore(held)
        # A record's INSERT failing is a fault, as it was when records were sent alone: only
        # the entities' refusals have domain names.
        refusal = None if _by_a_record(error) else domain_error_for(error, _culprit(error, held))
        if refusal is None:
            raise
        raise refusal from error
    counted = [write for write, kind in zip(run, shape, strict=True) if kind[0] in _COUNTED]
    # Without an UPDATE the statement selects a constant: nothing to count.
    lost = [write for write, count in zip(counted, matched if counted else (), strict=True)
            if count != 1]  # fmt: skip
    if lost:
        _restore(held)
        # An entity's lost race first, as when the key's use was sent after the entities: the
        # use case retries, and the retry finds the key taken.
        write = min(lost, key=lambda write: isinstance(write, KeyUsed))
        if isinstance(write, HeldWrite):
            raise ConcurrentUpdate(
                f"{write.entity.id} was changed or removed by another transaction",
                id=write.entity.id,
            )
        raise idempotency.taken()


def _values(write: Write) -> dict[str, Any]:
    if isinstance(write, HeldWrite):
        return write.values
    if isinstance(write, KeyUsed):
        return {"scope": write.scope, "key": write.key, "token": write.token}
    return write.as_dict() if isinstance(write, AuditRecord) else outbox.values_of(write)


def _kind(write: Write) -> tuple[str, ...]:
    """What a write's part of the statement depends on: its kind, table and columns."""
    if isinstance(write, AuditRecord):
        return ("audit",)
    if isinstance(write, OutboxMessage):
        return ("outbox",)
    if isinstance(write, KeyUsed):
        return ("key",)
    verb = "insert" if write.expected is None else "update"
    return (verb, write.table.name, *write.values)


def _restore(held: Sequence[HeldWrite]) -> None:
    """Give the entities of a run that failed back the versions they were read at, as a write
    sent alone leaves them when it fails."""
    for write in held:
        if write.expected is not None:
            write.entity.version = write.expected


def _table_of(error: DBAPIError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "table_name", None)


def _culprit(error: DBAPIError, held: Sequence[HeldWrite]) -> Any:
    """The entity whose write the database refused, when the run held one of its table (its
    details then name it, as a write sent alone would)."""
    of_table = [write.entity for write in held if write.table.name == _table_of(error)]
    return of_table[0] if len(of_table) == 1 else None


def _by_a_record(error: DBAPIError) -> bool:
    return _table_of(error) in (audit.TABLE.name, outbox.TABLE.name)


@lru_cache(maxsize=256)
def _statement(shape: tuple[tuple[str, ...], ...]) -> Select[Any]:
    """The writes of a run (by ``_kind``) as one statement, built once per shape: their
    data-modifying CTEs, and a SELECT of the rows each UPDATE matched."""
    parts = [_part(n, kind) for n, kind in enumerate(shape)]
    ctes = [part.cte(f"write_{n}") for n, part in enumerate(parts)]
    counts = [
        select(func.count()).select_from(cte).scalar_subquery().label(f"matched_{n}")
        for n, (cte, kind) in enumerate(zip(ctes, shape, strict=True))
        if kind[0] in _COUNTED
    ]
    return select(*(counts or [literal(1).label("written")])).add_cte(*ctes)


def _part(n: int, kind: tuple[str, ...]) -> Any:
    """One write's statement, its parameters named ``w<n>_<column>``."""
    verb, *rest = kind
    if verb == "audit":
        table = audit.TABLE
        return insert(table).values(_parameters(n, table, table.columns.keys()))
    if verb == "key":
        table = idempotency.TABLE
        return (
            update(table)
            .where(
                *(table.c[name] == bindparam(f"w{n}_{name}", type_=table.c[name].type)
                  for name in ("scope", "key", "token")),
                table.c.state == KeyState.IN_FLIGHT.value,
            )
            .values(state=KeyState.COMPLETED.value)
            .returning(table.c.token)
        )  # fmt: skip
    if verb == "outbox":
        table = outbox.TABLE
        return (
            postgresql.insert(table)
            .values(_parameters(n, table, outbox.WRITTEN_COLUMNS))
            .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
        )
    name, *columns = rest
    table = Base.metadata.tables[name]
    if verb == "insert":
        return insert(table).values(_parameters(n, table, columns))
    return (
        update(table)
        .where(
            table.c.id == bindparam(f"w{n}__id", type_=table.c.id.type),
            table.c.version == bindparam(f"w{n}__expected", type_=table.c.version.type),
        )
        .values(_parameters(n, table, columns))
        .returning(table.c.id)
    )


def _parameters(n: int, table: Table, columns: Sequence[str]) -> dict[str, Any]:
    return {name: bindparam(f"w{n}_{name}", type_=table.c[name].type) for name in columns}
