"""Rows of several tables in one round trip.

Some reads always go together: a book with its copies and its hold queue, the rules matrix with
the member categories and the closures. Asked one SELECT each, they cost a round trip, and a
statement's worth of SQLAlchemy and driver work, per table. Here they are one UNION ALL: each
part selects its own table's columns, and NULLs in the places of the other parts' columns; in
the first part they are typed and named, which types and names the whole statement's columns,
so every value comes back converted by its own column's type. The whole is ordered by
part, then by each part's own order (computed as extra columns of that part, since a compound
SELECT can be ordered by its columns only), so the database's collation decides the order, as
it does for the single-table reads these replace.

Every row carries every part's columns, most of them NULL. SQLAlchemy would run each column's
result processor (a ``TypeDecorator``'s ``process_result_value``, say) on every value of every
row, NULLs included: the statement's columns are therefore typed as raw, and ``read_together``
runs each part's processors on that part's own values, and only on values that are present
(a processor gives back None for None).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    String,
    Table,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.types import NullType, TypeEngine

from adapters.sqlalchemy.direct import fetch_all
from adapters.sqlalchemy.errors import translated_errors

_PART = "part"
# Rendered as it is: a ``null()`` would be given a label of its own in each part.
_UNTYPED_NULL: ColumnElement[Any] = literal_column("NULL")
# The type SQLAlchemy is told the statement's columns have: one without a result processor.
_RAW = NullType()


@dataclass(frozen=True, slots=True)
class Part:
    """One table's share of the statement: its rows ``where`` (bound parameters by name), in
    the order of ``order_by``. ``name`` prefixes its columns' labels; it must hold no ``_``."""

    name: str
    model: Any  # a mapped class of ``adapters.sqlalchemy.models``; None: ``values`` from no table
    where: Sequence[ColumnElement[bool]] = ()
    order_by: Sequence[ColumnElement[Any] | QueryableAttribute[Any]] = ()
    # In place of the table's columns: named expressions, such as one aggregate of the rows.
    values: Mapping[str, ColumnElement[Any]] | None = None

    @property
    def table(self) -> Table | None:
        return None if self.model is None else cast(Table, self.model.__table__)

    @property
    def columns(self) -> list[tuple[str, ColumnElement[Any]]]:
        if self.values is not None:
            return list(self.values.items())
        table = self.table
        if table is None:
            raise ValueError(f"part {self.name!r} reads no table: it must name its values")
        return [(column.name, column) for column in table.columns]


def together(parts: Sequence[Part]) -> CompoundSelect[Any]:
    """The UNION ALL of ``parts``: build it once and run it with ``read_together``
    (``adapters.sqlalchemy.direct`` sends a statement built once as it was compiled)."""
    wide = [
        (part.name, f"{part.name}_{name}", column)
        for part in parts
        for name, column in part.columns
    ]
    order = [
        (part.name, f"{part.name}__{n}", _expression(term))
        for part in parts
        for n, term in enumerate(part.order_by)
    ]
    selects = []
    for n, part in enumerate(parts):
        # Written into the SQL rather than bound: a part's name is a constant of the code.
        columns: list[Any] = [literal_column(f"'{part.name}'", String).label(_PART)]
        for owner, label, term in [*wide, *order]:
            if owner == part.name:
                columns.append(
                    type_coerce(term, _RAW).label(label) if n == 0 else term.label(label)
                )
            elif n == 0:
                # Cast for the database (a UNION's column types), raw for SQLAlchemy.
                columns.append(type_coerce(sql_cast(null(), term.type), _RAW).label(label))
            else:
                # A bare NULL: PostgreSQL resolves a UNION's column types from left to right,
                # so it takes the type of the first part's typed NULL or column. Typed and named
                # in every part, the NULLs made the member's and book's read some 12,000
                # characters, and psycopg parses a statement that long afresh on every run.
                columns.append(_UNTYPED_NULL)
        chosen = select(*columns)
        if part.table is not None:
            chosen = chosen.select_from(part.table)
        selects.append(chosen.where(*part.where))
    statement = union_all(*selects)
    by = dict(statement.selected_columns.items())
    statement = statement.order_by(by[_PART], *(by[label] for _, label, _ in order))
    _LAYOUTS[statement] = _layout(wide)
    return statement


# Which positions of a row hold each part's columns, and their types, by statement: worked out
# once, when the statement is built, rather than on every run (every row carries every part's
# columns). The types' result processors depend on the dialect: see ``_readers``.
_LAYOUTS: dict[CompoundSelect[Any], dict[str, tuple[tuple[str, int, TypeEngine[Any]], ...]]] = {}

Processor = Callable[[Any], Any]
# Per part: its columns' names, positions and result processors (None: the value as it comes).
Readers = dict[str, tuple[tuple[str, int, Processor | None], ...]]
_READERS: dict[tuple[CompoundSelect[Any], type[Dialect]], Readers] = {}


def _layout(
    wide: list[tuple[str, str, ColumnElement[Any]]],
) -> dict[str, tuple[tuple[str, int, TypeEngine[Any]], ...]]:
    layout: dict[str, list[tuple[str, int, TypeEngine[Any]]]] = {}
    # Position 0 is the part's name; the columns of ``wide`` follow it in order.
    for index, (owner, label, term) in enumerate(wide, start=1):
        name = label.removeprefix(f"{owner}_")
        layout.setdefault(owner, []).append((name, index, term.type))
    return {owner: tuple(columns) for owner, columns in layout.items()}


def _readers(statement: CompoundSelect[Any], dialect: Dialect) -> Readers:
    """``statement``'s layout with each column's result processor for ``dialect``, as
    SQLAlchemy would have run it (worked out once per statement and dialect)."""
    key = (statement, type(dialect))
    readers = _READERS.get(key)
    if readers is None:
        readers = _READERS[key] = {
            part: tuple(
                (name, index, type_._cached_result_processor(dialect, None))
                for name, index, type_ in columns
            )
            for part, columns in _LAYOUTS[statement].items()
        }
    return readers


def _expression(term: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[Any]:
    return term.expression if isinstance(term, QueryableAttribute) else term


def read_together(
    session: Session, statement: CompoundSelect[Any], parameters: Mapping[str, Any] | None = None
) -> dict[str, list[SimpleNamespace]]:
    """Each part's rows, by part name: objects with an attribute per column of its table, as
    the mappers read rows."""
    # On the session's connection, as Core: the statement selects columns, not entities, so
    # the ORM's execution layer would only add work.
    with translated_errors():
        connection = session.connection()
        rows = fetch_all(connection, statement, parameters or {})
    readers = _readers(statement, connection.dialect)
    rows_by_part: dict[str, list[SimpleNamespace]] = {}
    for row in rows:
        part = row[0]  # ``together`` puts the part's name first
        values = {}
        for name, index, process in readers[part]:
            value = row[index]
            values[name] = value if process is None or value is None else process(value)
        rows_by_part.setdefault(part, []).append(SimpleNamespace(**values))
    return rows_by_part
