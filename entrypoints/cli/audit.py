"""`circulate audit`: read the audit trail (it is append-only: no command changes it)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from dependency_injector.wiring import Provide, inject

from application.audit import AuditEvents, AuditFilter, AuditRecord
from application.queries import PageRequest
from entrypoints.cli.command import ServiceCommand
from entrypoints.cli.output import (
    json_option,
    page_json,
    page_options,
    print_json,
    print_page_footer,
    print_table,
    when,
)
from entrypoints.container import Container

# Dates are UTC days, or instants to the second (a zone-less one is read as UTC).
INSTANT = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"])


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@click.command(cls=ServiceCommand)
@click.option("--entity-type", default=None, help="Only events about this kind of entity.")
@click.option("--entity", "entity_id", default=None, help="Only events about this entity (id).")
@click.option("--actor", default=None, help="Only this actor's: member:<id>, cli:<user>, ...")
@click.option("--action", default=None, help="Only this action: book_lent, member_anonymised...")
@click.option("--since", type=INSTANT, default=None, help="From this UTC date or instant.")
@click.option("--until", type=INSTANT, default=None, help="Before this UTC date or instant.")
@page_options
@json_option
@inject
def audit(
    entity_type: str | None,
    entity_id: str | None,
    actor: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    page: int,
    per_page: int,
    as_json: bool,
    events: AuditEvents = Provide[Container.audit],
) -> None:
    """The audit trail, newest first: who changed what, when, from which request.

    \b
    Examples:
      circulate audit --entity-type member --entity 0190f1e2-...
      circulate audit --actor cli:alice --since 2030-01-01 --json
    """
    query = AuditFilter(
        entity_type=entity_type,
        entity_id=entity_id,
        actor=actor,
        action=action,
        since=_utc(since),
        until=_utc(until),
    )
    found = events.list(query, PageRequest(page=page, per_page=per_page))
    if as_json:
        print_json(page_json(found, AuditRecord.as_dict))
        return
    print_table(
        ["WHEN", "ACTOR", "ACTION", "ENTITY", "REQUEST"],
        [
            [
                when(r.occurred_at),
                r.actor,
                r.action,
                f"{r.entity_type or ''}:{r.entity_id or ''}".strip(":"),
                r.request_id or "",
            ]
            for r in found.items
        ],
        empty="No audit events.",
    )
    print_page_footer(found, "audit events")
