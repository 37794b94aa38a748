"""A 500 whose exception carries a member's row logs no part of the member's password hash."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import profiles
from dependency_injector import providers
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from adapters.security import Argon2PasswordHasher
from adapters.sqlalchemy.migrate import upgrade
from domain.access import Scope
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings
from tests.databases import temporary_postgres_database

PASSWORD = "a sturdy passphrase 4 logs"


@pytest.fixture
def postgres_container(tmp_path: Path) -> Iterator[Container]:
    with temporary_postgres_database() as url:
        upgrade(url)
        # A rule the application does not know about: renaming anyone "Refused" fails in the
        # database, whose error then describes the whole failing row, password hash included.
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "ALTER TABLE members ADD CONSTRAINT test_no_refused CHECK (name <> 'Refused')"
            )
        engine.dispose()
        settings = Settings(
            database_url=url,
            environment="test",
            log_format="json",
            log_level="DEBUG",
            signing_keys_file=str(tmp_path / "keys.json"),
        )
        container = build_container(settings)
        container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
        try:
            yield container
        finally:
            dispose(container)
            configure_logging(Settings(environment="test"))


def test_a_500_carrying_a_member_row_logs_no_part_of_the_hash(
    postgres_container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    client = create_app(container=postgres_container).test_client()
    key = postgres_container.identity.api_keys().create("logs", frozenset(Scope)).plaintext
    staff = {"Authorization": f"ApiKey {key}"}
    created = client.post(
        "/api/v1/members",
        json={"email": "ada@example.org", "name": "Ada", "password": PASSWORD},
        headers=staff,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    member_id = created.get_json()["id"]
    with postgres_container.uow() as uow:
        member = uow.members.get(member_id)
        assert member is not None
        assert member.password_hash is not None
        password_hash = member.password_hash
    capsys.readouterr()

    failed = client.patch(
        f"/api/v1/members/{member_id}",
        json={"name": "Refused"},
        headers={**staff, "If-Match": created.headers["ETag"]},
    )

    assert failed.status_code == 500
    captured = capsys.readouterr().err
    errors = [
        line
        for line in (json.loads(text) for text in captured.splitlines() if text.startswith("{"))
        if line.get("level") == "error"
    ]
    assert errors, captured  # the failure itself was logged, with its exception
    assert "test_no_refused" in captured  # ... saying which rule refused the row
    # Every part of the hash: the algorithm's parameters, the salt and the digest.
    parts = [part for part in re.split(r"[$,]", password_hash) if len(part) >= 6]
    assert len(parts) >= 2
    for part in parts:
        assert part not in captured
    assert "$argon2" not in captured
    assert key.split("_", 2)[2] not in captured  # the secret: it may itself hold an underscore
