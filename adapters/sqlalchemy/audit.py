"""The audit trail in the database: written by the unit of work of each change, read here.

``write_record`` inserts in the change's own transaction (``connection``). Nothing here updates
or deletes: the table is append-only, and its triggers refuse UPDATE and DELETE from anyone.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, Engine, Table, insert

from adapters.sqlalchemy.models import AuditEventRow
from adapters.sqlalchemy.paging import newest_first
from application.audit import AUDIT_ORDER, AuditFilter, AuditLog, AuditRecord
from application.queries import Page, PageRequest

TABLE = cast(Table, AuditEventRow.__table__)


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        request_id=row.request_id,
        details=dict(row.details),
    )


# Built once: a statement made per record costs more to build and key than to run.
_INSERT = insert(TABLE)


def write_record(connection: Connection, record: AuditRecord) -> None:
    connection.execute(_INSERT, record.as_dict())


class SqlAuditLog(AuditLog):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def list(self, query: AuditFilter, page: PageRequest) -> Page[AuditRecord]:
        conditions: list[ColumnElement[bool]] = []
        if query.entity_type is not None:
            conditions.append(TABLE.c.entity_type == query.entity_type)
        if query.entity_id is not None:
            conditions.append(TABLE.c.entity_id == query.entity_id)
        if query.actor is not None:
            conditions.append(TABLE.c.actor == query.actor)
        if query.action is not None:
            conditions.append(TABLE.c.action == query.action)
        if query.since is not None:
            conditions.append(TABLE.c.occurred_at >= query.since)
        if query.until is not None:
            conditions.append(TABLE.c.occurred_at < query.until)
        # The trail only grows: its total is counted a little past the page, no further (as
        # every list's is), so reading the newest records never costs a count of them all.
        with self._engine.connect() as connection:
            rows, total, exact = newest_first(
                connection, TABLE, conditions, page, AUDIT_ORDER.after(page)
            )
        found = Page(
            items=[_record(row) for row in rows],
            total=total,
            page=page.page,
            per_page=page.per_page,
            total_exact=exact,
        )
        return AUDIT_ORDER.paged(found)
