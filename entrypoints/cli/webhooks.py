"""``circulate webhooks``: subscribe other systems' URLs to event types."""

from __future__ import annotations

import click
from dependency_injector.wiring import Provide, inject

from adapters.webhooks import subscription_json
from application.outbox import MessageStatus
from application.queries import PageRequest
from application.webhooks import EVENT_TYPES, Webhooks
from entrypoints.cli.command import ServiceGroup
from entrypoints.cli.output import (
    json_option,
    page_json,
    page_options,
    print_json,
    print_page_footer,
    print_table,
    when,
)
from entrypoints.cli.worker import message_json
from entrypoints.container import Container


@click.group(cls=ServiceGroup)
def webhooks() -> None:
    """Webhooks: signed JSON deliveries of events to other systems."""


@webhooks.command("add")
@click.argument("url")
@click.option(
    "--event",
    "events",
    type=click.Choice(EVENT_TYPES),
    multiple=True,
    required=True,
    help="An event type to deliver (repeat for several).",
)
@inject
def add(url: str, events: tuple[str, ...], service: Webhooks = Provide[Container.webhooks]) -> None:
    """Subscribe URL to event types. Prints the signing secret once, alone on stdout.

    \b
    Example:
      circulate webhooks add https://erp.example.org/hooks --event loan.created --event hold.ready
    """
    subscription = service.subscribe(url, events)
    click.echo(f"subscription {subscription.id}; signing secret (shown once):", err=True)
    click.echo(subscription.secret)


@webhooks.command("list")
@json_option
@inject
def list_webhooks(as_json: bool, service: Webhooks = Provide[Container.webhooks]) -> None:
    """The subscriptions (never their secrets).

    \b
    Example:
      circulate webhooks list
    """
    found = service.list()
    if as_json:
        print_json({"items": [subscription_json(s) for s in found]})
        return
    print_table(
        ["ID", "URL", "EVENTS", "CREATED"],
        [[s.id, s.url, ", ".join(s.events), when(s.created_at)] for s in found],
        empty="No webhooks.",
    )


@webhooks.command("remove")
@click.argument("subscription_id")
@inject
def remove(subscription_id: str, service: Webhooks = Provide[Container.webhooks]) -> None:
    """Stop delivering to a subscription.

    \b
    Example:
      circulate webhooks remove 0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6d
    """
    service.remove(subscription_id)
    click.echo(f"removed webhook {subscription_id}")


@webhooks.command("deliveries")
@click.option(
    "--status",
    type=click.Choice([s.value for s in MessageStatus]),
    default=None,
    help="Only deliveries in this state.",
)
@click.option("--event", type=click.Choice(EVENT_TYPES), default=None, help="Only this type.")
@page_options
@json_option
@inject
def deliveries(
    status: str | None,
    event: str | None,
    page: int,
    per_page: int,
    as_json: bool,
    service: Webhooks = Provide[Container.webhooks],
) -> None:
    """Events sent, waiting or given up on, newest first, with each target's last answer.

    \b
    Example:
      circulate webhooks deliveries --status failed
    """
    found = service.deliveries(
        MessageStatus(status) if status else None, event, PageRequest(page=page, per_page=per_page)
    )
    if as_json:
        print_json(page_json(found, message_json))
        return
    print_table(
        ["ID", "EVENT", "STATUS", "ATTEMPTS", "CREATED", "LAST RESPONSE"],
        [
            [m.id, m.topic, m.status.value, m.attempts, when(m.created_at), m.last_error or ""]
            for m in found.items
        ],
        empty="No deliveries.",
    )
    print_page_footer(found, "deliveries")
