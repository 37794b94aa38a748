"""The rules matrix, the member categories and the closures, read in one round trip.

Every circulation decision needs all three (``application.common.rule_book``): three SELECTs
would cost three round trips, and three statements' worth of driver and SQLAlchemy work, for a
handful of rows each. Here one UNION ALL brings them back together: each part selects its own
table's columns and typed NULLs in the places of the other two tables' columns, so every value
comes back converted by its own column's type. Rows are ordered as each repository's ``all``
orders them, by the database, so collations agree with those reads.
"""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Boolean, CompoundSelect, String, Table, literal, null, select, union_all
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.models import CirculationRuleRow, ClosureRow, MemberCategoryRow
from adapters.sqlalchemy.repositories import (
    SqlCirculationRuleRepository,
    SqlClosureRepository,
    SqlMemberCategoryRepository,
)
from application.unit_of_work import RulesInForce

# Each table's part of the union, and the prefix of its columns' labels.
_RULES, _CATEGORIES, _CLOSURES = "r", "c", "x"
_DATED = "dated"  # not a column of any table: the ordering of closures
_PARTS = ((CirculationRuleRow, _RULES), (MemberCategoryRow, _CATEGORIES), (ClosureRow, _CLOSURES))


def _table(row: Any) -> Table:
    return cast(Table, row.__table__)


@cache
def _statement() -> CompoundSelect[Any]:
    wide = [(prefix, column) for row, prefix in _PARTS for column in _table(row).columns]
    parts = []
    for row, part in _PARTS:
        columns: list[Any] = [literal(part, String).label("part")]
        for prefix, column in wide:
            value = column if prefix == part else sql_cast(null(), column.type)
            columns.append(value.label(f"{prefix}_{column.name}"))
        # A compound SELECT is ordered by its columns only: what closures sort by first is one.
        dated = ClosureRow.weekday.is_(None) if part == _CLOSURES else sql_cast(null(), Boolean)
        columns.append(dated.label(_DATED))
        parts.append(select(*columns).select_from(_table(row)))
    statement = union_all(*parts)
    by = dict(statement.selected_columns.items())
    return statement.order_by(
        by["part"],
        by["r_id"],  # rules by id
        by["c_code"],  # categories by code
        by[_DATED],  # weekly closures first, by weekday; then dates by date
        by["x_weekday"],
        by["x_day"],
    )


def read_rules_in_force(
    session: Session,
    rules: SqlCirculationRuleRepository,
    categories: SqlMemberCategoryRepository,
    closures: SqlClosureRepository,
) -> RulesInForce:
    with translated_errors():
        found = session.execute(_statement()).all()
    rows: dict[str, list[SimpleNamespace]] = {_RULES: [], _CATEGORIES: [], _CLOSURES: []}
    for row in found:
        values = row._mapping
        part = values["part"]
        start = len(part) + 1
        rows[part].append(
            SimpleNamespace(
                **{label[start:]: values[label] for label in values if label[:start] == f"{part}_"}
            )
        )
    return RulesInForce(
        rules=rules.entities_of(rows[_RULES]),
        categories=categories.entities_of(rows[_CATEGORIES]),
        closures=closures.entities_of(rows[_CLOSURES]),
    )
