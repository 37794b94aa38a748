"""``circulate keys|api-keys|clients ...`` on the in-memory container."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import profiles
from click.testing import CliRunner
from dependency_injector import providers
from pydantic import SecretStr

from adapters.clock import ManualClock
from adapters.security import Argon2PasswordHasher
from adapters.security.keys import Ed25519KeyGenerator, dump_keyset
from application.identity.keyset import KeySet
from domain.access import Scope
from domain.errors import ApiKeyRevoked, InvalidClient
from entrypoints.cli import main
from entrypoints.container import Container, build_container, dispose
from entrypoints.settings import Settings
from tests.cli.conftest import Cli


@pytest.fixture
def container(clock: ManualClock, tmp_path: Path) -> Iterator[Container]:
    settings = Settings(
        storage="memory", environment="test", signing_keys_file=str(tmp_path / "keys.json")
    )
    container = build_container(settings)
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    container.clock.override(providers.Object(clock))
    yield container
    dispose(container)


def one_line_error(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: ")
    return lines[0]


# --- keys ----------------------------------------------------------------------------------


def test_keys_rotate_and_list(cli: Cli, clock: ManualClock, tmp_path: Path) -> None:
    first = cli("keys", "list", "--json")
    assert first.exit_code == 0, first.output
    [original] = json.loads(first.stdout)  # made on first use outside production
    assert original["current"] is True

    clock.advance(timedelta(minutes=1))
    rotated = cli("keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    new_kid = rotated.stdout.strip().removeprefix("new current signing key ")
    assert new_kid != original["kid"]

    listed = json.loads(cli("keys", "list", "--json").stdout)
    assert [(key["kid"], key["current"]) for key in listed] == [
        (new_kid, True),
        (original["kid"], False),
    ]
    until = clock.now() + timedelta(minutes=15, seconds=30)
    assert listed[1]["verifies_until"] == until.isoformat().replace("+00:00", "Z")
    table = cli("keys", "list").stdout
    assert "current" in table
    assert "retired" in table
    assert "PRIVATE" not in table
    assert "PRIVATE" not in rotated.output
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0


def test_inline_keys_cannot_be_rotated(tmp_path: Path) -> None:
    inline = dump_keyset(KeySet.first(Ed25519KeyGenerator().generate(ManualClock().now())))
    container = build_container(
        Settings(storage="memory", environment="test", signing_keys=SecretStr(inline))
    )
    try:
        result = CliRunner().invoke(main, ["keys", "rotate"], obj=container)
    finally:
        dispose(container)

    assert result.exit_code == 1
    assert "CIRCULATE_SIGNING_KEYS" in one_line_error(result.output)
    assert "PRIVATE KEY" not in result.output


# --- API keys ------------------------------------------------------------------------------


def test_api_keys_create_prints_the_key_once(cli: Cli, container: Container) -> None:
    result = cli(
        "api-keys",
        "create",
        "--name",
        "catalogue sync",
        "--scope",
        "books:read",
        "--scope",
        "books:write",
        "--expires-in-days",
        "30",
    )

    assert result.exit_code == 0, result.output
    key = result.stdout.strip()  # the key alone on standard output, for scripts
    assert key.startswith("circ_")
    assert "cannot be shown again" in result.stderr
    assert "books:read books:write" in result.stderr
    principal = container.api_keys().authenticate(key)
    assert principal.scopes == {Scope.BOOKS_READ, Scope.BOOKS_WRITE}
    [stored] = container.api_keys().list()
    assert stored.expires_at == container.clock().now() + timedelta(days=30)

    listing = cli("api-keys", "list")
    assert listing.exit_code == 0
    assert stored.prefix in listing.stdout
    assert key not in listing.stdout
    assert "active" in listing.stdout


def test_api_keys_json_shows_the_key_at_creation_only(cli: Cli, container: Container) -> None:
    created = cli("api-keys", "create", "--name", "sync", "--scope", "loans:read", "--json")
    assert created.exit_code == 0, created.output
    document = json.loads(created.stdout)
    assert document["key"].startswith(f"circ_{document['prefix']}_")
    assert document["scopes"] == ["loans:read"]
    assert document["expires_at"] is None

    listed = json.loads(cli("api-keys", "list", "--json").stdout)
    assert [key["id"] for key in listed] == [document["id"]]
    assert set(listed[0]) == {
        "id",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
    }
    assert document["key"] not in json.dumps(listed)


def test_api_keys_revoke(cli: Cli, container: Container) -> None:
    created = json.loads(
        cli("api-keys", "create", "--name", "sync", "--scope", "loans:read", "--json").stdout
    )

    result = cli("api-keys", "revoke", created["id"])

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"revoked API key {created['id']} (sync)"
    with pytest.raises(ApiKeyRevoked):
        container.api_keys().authenticate(created["key"])
    assert "revoked" in cli("api-keys", "list").stdout


def test_api_keys_revoke_an_unknown_key_fails_in_one_line(cli: Cli) -> None:
    result = cli("api-keys", "revoke", "no-such-key")
    assert result.exit_code == 1
    assert one_line_error(result.output).startswith("Error: API_KEY_NOT_FOUND: ")


@pytest.mark.parametrize(
    "arguments",
    [
        ["--name", "sync"],  # no scope
        ["--name", "sync", "--scope", "everything"],
        ["--scope", "books:read"],  # no name
        ["--name", "sync", "--scope", "books:read", "--expires-in-days", "0"],
    ],
)
def test_api_keys_create_usage_errors_exit_2(cli: Cli, arguments: list[str]) -> None:
    result = cli("api-keys", "create", *arguments)
    assert result.exit_code == 2
    assert "circ_" not in result.output


def test_api_keys_create_with_a_blank_name_is_refused(cli: Cli) -> None:
    result = cli("api-keys", "create", "--name", "  ", "--scope", "books:read")
    assert result.exit_code == 1
    assert one_line_error(result.output).startswith("Error: INVALID_VALUE: name")


def test_api_keys_list_when_there_are_none(cli: Cli) -> None:
    assert cli("api-keys", "list").stdout.strip() == "No API keys."
    assert json.loads(cli("api-keys", "list", "--json").stdout) == []


# --- service clients -----------------------------------------------------------------------


def test_clients_create_prints_the_secret_once(cli: Cli, container: Container) -> None:
    result = cli("clients", "create", "--name", "reports", "--scope", "loans:read")

    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.stdout.strip().splitlines())
    client_id, secret = lines["client_id"].strip(), lines["client_secret"].strip()
    assert "cannot be shown again" in result.stderr
    token = container.service_clients().issue_token(client_id, secret)
    assert token.scopes == {Scope.LOANS_READ}

    listing = cli("clients", "list")
    assert client_id in listing.stdout
    assert secret not in listing.stdout


def test_clients_json_list_and_revoke(cli: Cli, container: Container) -> None:
    created = json.loads(
        cli("clients", "create", "--name", "sync", "--scope", "books:write", "--json").stdout
    )
    assert set(created) == {
        "client_id",
        "name",
        "scopes",
        "created_at",
        "revoked_at",
        "client_secret",
    }

    revoked = cli("clients", "revoke", created["client_id"])

    assert revoked.exit_code == 0, revoked.output
    [listed] = json.loads(cli("clients", "list", "--json").stdout)
    assert listed["revoked_at"] is not None
    assert "client_secret" not in listed
    assert "revoked" in cli("clients", "list").stdout
    with pytest.raises(InvalidClient):
        container.service_clients().issue_token(created["client_id"], created["client_secret"])


def test_clients_revoke_an_unknown_client_fails_in_one_line(cli: Cli) -> None:
    result = cli("clients", "revoke", "nobody")
    assert result.exit_code == 1
    assert one_line_error(result.output).startswith("Error: SERVICE_CLIENT_NOT_FOUND: ")


def test_the_commands_are_listed_in_the_help(cli: Cli) -> None:
    help_text = cli("--help").stdout
    for command in ("keys", "api-keys", "clients"):
        assert command in help_text


# --- sessions ------------------------------------------------------------------------------


def test_sessions_purge_forgets_only_expired_refresh_tokens(
    cli: Cli, container: Container, clock: ManualClock
) -> None:
    container.membership().register(
        email="ada@example.org", name="Ada", password="correct horse battery staple"
    )
    sessions = container.sessions()
    sessions.login("ada@example.org", "correct horse battery staple")
    clock.advance(container.settings().refresh_token_lifetime() + timedelta(seconds=1))
    fresh = sessions.login("ada@example.org", "correct horse battery staple")

    result = cli("sessions", "purge")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "purged 1 expired refresh token"
    assert cli("sessions", "purge").stdout.strip() == "purged 0 expired refresh tokens"
    assert json.loads(cli("sessions", "purge", "--json").stdout) == {"purged": 0}
    assert sessions.refresh(fresh.refresh_token).access_token  # the live session is kept
