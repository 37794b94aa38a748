"""Pages of the append-mostly tables read on a connection of their own (the audit trail, the
outbox), newest first by id, as the repositories' lists are paged: by number or after a
cursor, with a total counted only so far past the page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Table, func, select

from adapters.sqlalchemy.repositories import count_ahead, counted_beside, counted_with, deep_total
from application.queries import CursorValue, PageRequest


def newest_first(
    connection: Connection,
    table: Table,
    conditions: Sequence[ColumnElement[bool]],
    page: PageRequest,
    after: tuple[CursorValue, ...] | None,
) -> tuple[Sequence[Row[Any]], int, bool]:
    """``(rows, total, exact)`` of the page of ``table`` by id, newest first. After a cursor
    (``after``, the last id of the page before) the primary key is sought to it, and only the
    rows from there on are counted: the total is the cursor's place plus those, a bound."""
    where = list(conditions)
    if after is not None:
        where.append(table.c.id < after[0])
    ahead = count_ahead(page)
    deep = after is None and page.skip >= ahead
    reach = page.skip + page.per_page + ahead
    counting = select(func.count()).select_from(
        select(table.c.id).where(*where).limit(reach + 1).subquery()
    )
    # One row more than the page tells whether another page follows. A deep page by number is
    # not counted ahead (that would walk its offset again); any other is, beside its rows.
    columns = [table] if deep else counted_beside([table], counting)
    rows = connection.execute(
        select(*columns)
        .where(*where)
        .order_by(table.c.id.desc())
        .offset(page.skip)
        .limit(page.per_page + 1)
    ).all()
    more = len(rows) > page.per_page
    rows = rows[: page.per_page]
    if deep and rows:
        total, exact = deep_total(page, len(rows), more=more)
        return rows, total, exact
    counted = None if deep else counted_with(rows, page)
    if counted is None:
        counted = connection.scalar(counting) or 0
    total = page.offset - page.skip + min(counted, reach)
    return rows, total, after is None and counted <= reach
