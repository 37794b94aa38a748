"""``circulate keys|api-keys|clients|sessions ...``: signing keys, integrations' API keys,
service clients, and the housekeeping of member sessions.

Secrets (API keys, client secrets) are printed once, when they are made, and never again: only
their digests are stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import click
from dependency_injector.wiring import Provide, inject

from application.identity.api_keys import ApiKeys, CreatedApiKey
from application.identity.clients import CreatedServiceClient, ServiceClients
from application.identity.sessions import Sessions
from application.identity.signing_keys import KeyInfo, SigningKeys
from application.ports import Clock
from domain.access import Scope, format_scopes
from domain.credentials import ApiKey, ServiceClient
from entrypoints.cli.command import ServiceGroup
from entrypoints.cli.output import json_option, print_json, print_table, when
from entrypoints.container import Container

SCOPES = click.Choice([scope.value for scope in Scope])
F = TypeVar("F", bound=Callable[..., Any])


def scope_option(noun: str) -> Callable[[F], F]:
    return click.option(
        "--scope",
        "scopes",
        type=SCOPES,
        multiple=True,
        required=True,
        help=f"A scope the {noun} is granted; repeat for several.",
    )


def shown_once(what: str) -> None:
    click.echo(f"Store the {what} now: it is not stored and cannot be shown again.", err=True)


# --- signing keys --------------------------------------------------------------------------


def key_json(key: KeyInfo) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "current": key.is_current,
        "created_at": key.created_at,
        "retired_at": key.retired_at,
        "verifies_until": key.verifies_until,
    }


@click.group(cls=ServiceGroup)
def sessions() -> None:
    """Housekeeping of member sessions."""


@sessions.command()
@json_option
@inject
def purge(as_json: bool, service: Sessions = Provide[Container.identity.sessions]) -> None:
    """Forget refresh tokens past their expiry (a daily job; they can only be refused by then).

    \b
    Example:
      circulate sessions purge
      # crontab: 10 0 * * *  circulate sessions purge
    """
    removed = service.purge_expired()
    if as_json:
        print_json({"purged": removed})
        return
    click.echo(f"purged {removed} expired refresh token{'' if removed == 1 else 's'}")


@click.group(cls=ServiceGroup)
def keys() -> None:
    """Rotate and list the keys that sign access tokens."""


@keys.command()
@inject
def rotate(signing_keys: SigningKeys = Provide[Container.identity.signing_keys]) -> None:
    """Make a new current signing key.

    Tokens signed by the previous key keep verifying until they expire; keys retired longer ago
    than that are removed. Every running worker picks the new key up at its next request.

    \b
    Example:
      circulate keys rotate
    """
    key = signing_keys.rotate()
    click.echo(f"new current signing key {key.kid}")


@keys.command("list")
@json_option
@inject
def list_keys(
    as_json: bool, signing_keys: SigningKeys = Provide[Container.identity.signing_keys]
) -> None:
    """List the signing keys, newest first (the public halves are at /.well-known/jwks.json)."""
    found = signing_keys.list()
    if as_json:
        print_json([key_json(key) for key in found])
        return
    print_table(
        ["KID", "STATUS", "CREATED", "VERIFIES UNTIL"],
        [
            (
                key.kid,
                "current" if key.is_current else "retired",
                key.created_at,
                key.verifies_until,
            )
            for key in found
        ],
        empty="No signing keys.",
    )


# --- API keys ------------------------------------------------------------------------------


def api_key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": [scope.value for scope in key.scopes],
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
    }


def api_key_status(key: ApiKey, clock: Clock) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "expired" if key.is_expired(clock.now()) else "active"


@click.group("api-keys", cls=ServiceGroup)
def api_keys() -> None:
    """Create, list and revoke the API keys of integrations."""


@api_keys.command("create")
@click.option("--name", required=True, help="What the key is for (shown in lists).")
@scope_option("key")
@click.option(
    "--expires-in-days",
    type=click.IntRange(1, 3650),
    help="Days until the key stops working [default: never].",
)
@json_option
@inject
def create_api_key(
    name: str,
    scopes: tuple[str, ...],
    expires_in_days: int | None,
    as_json: bool,
    service: ApiKeys = Provide[Container.identity.api_keys],
    clock: Clock = Provide[Container.clock],
) -> None:
    """Create an API key; the key is printed once.

    \b
    Example:
      circulate api-keys create --name "catalogue sync" --scope books:read --scope books:write
    """
    expires_at = None if expires_in_days is None else clock.now() + timedelta(days=expires_in_days)
    created: CreatedApiKey = service.create(
        name, [Scope(scope) for scope in scopes], expires_at=expires_at
    )
    if as_json:
        print_json({**api_key_json(created.key), "key": created.plaintext})
        return
    key = created.key
    expiry = f", expires {when(key.expires_at)}" if key.expires_at else ""
    click.echo(f"created API key {key.id} ({format_scopes(key.scopes)}{expiry}):", err=True)
    click.echo(created.plaintext)
    shown_once("key")


@api_keys.command("list")
@json_option
@inject
def list_api_keys(
    as_json: bool,
    service: ApiKeys = Provide[Container.identity.api_keys],
    clock: Clock = Provide[Container.clock],
) -> None:
    """List API keys, oldest first (their prefixes, never the keys)."""
    found = service.list()
    if as_json:
        print_json([api_key_json(key) for key in found])
        return
    print_table(
        ["ID", "NAME", "PREFIX", "SCOPES", "STATUS", "CREATED", "EXPIRES"],
        [
            (
                key.id,
                key.name,
                f"circ_{key.prefix}_...",
                format_scopes(key.scopes),
                api_key_status(key, clock),
                key.created_at,
                key.expires_at,
            )
            for key in found
        ],
        empty="No API keys.",
    )


@api_keys.command("revoke")
@click.argument("key_id")
@inject
def revoke_api_key(key_id: str, service: ApiKeys = Provide[Container.identity.api_keys]) -> None:
    """Revoke an API key for good (by its id, from `circulate api-keys list`)."""
    key = service.revoke(key_id)
    click.echo(f"revoked API key {key.id} ({key.name})")


# --- service clients -----------------------------------------------------------------------


def client_json(client: ServiceClient) -> dict[str, Any]:
    return {
        "client_id": client.id,
        "name": client.name,
        "scopes": [scope.value for scope in client.scopes],
        "created_at": client.created_at,
        "revoked_at": client.revoked_at,
    }


@click.group(cls=ServiceGroup)
def clients() -> None:
    """Create, list and revoke OAuth 2.0 service clients (client credentials)."""


@clients.command("create")
@click.option("--name", required=True, help="What the client is (shown in lists).")
@scope_option("client")
@json_option
@inject
def create_client(
    name: str,
    scopes: tuple[str, ...],
    as_json: bool,
    service: ServiceClients = Provide[Container.identity.service_clients],
) -> None:
    """Register a service client; its secret is printed once.

    \b
    Example:
      circulate clients create --name "reports" --scope loans:read --scope members:read
    """
    created: CreatedServiceClient = service.create(name, [Scope(scope) for scope in scopes])
    if as_json:
        print_json({**client_json(created.client), "client_secret": created.secret})
        return
    client = created.client
    click.echo(f"created service client {client.name} ({format_scopes(client.scopes)})", err=True)
    click.echo(f"client_id:     {client.id}")
    click.echo(f"client_secret: {created.secret}")
    shown_once("client secret")


@clients.command("list")
@json_option
@inject
def list_clients(
    as_json: bool, service: ServiceClients = Provide[Container.identity.service_clients]
) -> None:
    """List service clients, oldest first."""
    found = service.list()
    if as_json:
        print_json([client_json(client) for client in found])
        return
    print_table(
        ["CLIENT ID", "NAME", "SCOPES", "STATUS", "CREATED"],
        [
            (
                client.id,
                client.name,
                format_scopes(client.scopes),
                "active" if client.is_active else "revoked",
                client.created_at,
            )
            for client in found
        ],
        empty="No service clients.",
    )


@clients.command("revoke")
@click.argument("client_id")
@inject
def revoke_client(
    client_id: str, service: ServiceClients = Provide[Container.identity.service_clients]
) -> None:
    """Revoke a service client: it gets no more tokens (those it holds expire within minutes)."""
    client = service.revoke(client_id)
    click.echo(f"revoked service client {client.id} ({client.name})")
