"""Fuzzing every operation on PostgreSQL: whatever a caller sends, the answer is never a 5xx.

Two runs, each as an admin integration and as a signed-in member:

- schemathesis over the whole OpenAPI document (examples, random valid and invalid requests,
  then chains of calls), with NUL and every other character in the strings it makes;
- hostile requests made here, for every operation: path segments, query parameters and JSON
  bodies (keys included) drawn from NUL, control characters, lone surrogates and ordinary text,
  and bodies nested far past the parser's depth limit.

PostgreSQL is where these matter: it refuses NUL in text, surrogates in UTF-8 and mixed-up
types that SQLite lets through. The contract checks (documented statuses, schemas, headers)
run on SQLite in test_api_schemathesis.py; this file asserts the one rule, no server error.
Sized for the test command (derandomized in CI); HYPOTHESIS_PROFILE=thorough searches harder.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from argon2 import profiles
from dependency_injector import providers
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from adapters.security import Argon2PasswordHasher
from adapters.sqlalchemy import migrate
from domain.access import Scope
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.settings import Settings
from tests.api.support import PASSWORD, REVOKED_NOT_REMOVED
from tests.databases import temporary_postgres_database

pytestmark = pytest.mark.postgres

HIGH_LIMIT = "1000000 per minute"
# Per operation and role. The test command runs few; a thorough run by hand sets more, and with
# CIRCULATE_FUZZ_CHECKS=all every schemathesis check (the contract too, as the roles see it).
EXAMPLES = int(os.environ.get("CIRCULATE_FUZZ_EXAMPLES") or 10)
ALL_CHECKS = os.environ.get("CIRCULATE_FUZZ_CHECKS") == "all"
# Valid by the schema and still refused: a rule the schema cannot state (422), a made-up
# If-Match (412), a record of someone else (403/404 for a member), a conflict of state (409).
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 16016,
        "generation": {"max-examples": EXAMPLES, "allow-x00": True, "codec": "utf-8"},
        "checks": (
            {"positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES}}
            if ALL_CHECKS
            else {"enabled": False, "not_a_server_error": {"enabled": True}}
        ),
        "operations": [REVOKED_NOT_REMOVED],
    }
)

# The database made at import is dropped when the module's tests end, or at exit when they
# never ran (a collection only).
_STACK = ExitStack()
atexit.register(_STACK.close)


def _app() -> tuple[Flask, Container, str]:
    # Built at import: schemathesis makes one test per operation from the loaded document.
    url = _STACK.enter_context(temporary_postgres_database())
    migrate.upgrade(url)
    directory = Path(_STACK.enter_context(tempfile.TemporaryDirectory(prefix="circulate-fuzz-")))
    settings = Settings(
        database_url=url,
        environment="test",
        signing_keys_file=str(directory / "keys.json"),
        rate_limit_default=HIGH_LIMIT,
        rate_limit_auth_per_ip=HIGH_LIMIT,
        rate_limit_auth_per_account=HIGH_LIMIT,
        rate_limit_auth_account_ceiling=HIGH_LIMIT,
    )
    container = build_container(settings, wire=False)
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    app = create_app(container=container)
    key = container.identity.api_keys().create("fuzz", frozenset(Scope)).plaintext
    container.library.membership().register(
        email="fuzz@example.org", name="Fuzz", password=PASSWORD
    )
    return app, container, f"ApiKey {key}"


APP, CONTAINER, ADMIN_KEY = _app()
# The member signs in again when the access token is half its life old: the module is loaded
# at collection, and its tests may run long after.
_member: dict[str, Any] = {"token": "", "at": 0.0}


def credentials(role: str) -> str:
    if role == "admin":
        return ADMIN_KEY
    if time.monotonic() - _member["at"] > CONTAINER.settings().access_token_ttl_seconds / 2:
        pair = CONTAINER.identity.sessions().login("fuzz@example.org", PASSWORD)
        _member.update(token=f"Bearer {pair.access_token}", at=time.monotonic())
    return str(_member["token"])


ROLES = ("admin", "member")


@pytest.fixture(scope="module", autouse=True)
def _release() -> Iterator[None]:
    yield
    dispose(CONTAINER)
    _STACK.close()


@pytest.fixture(autouse=True)
def _wired() -> None:
    CONTAINER.wire()  # ``@inject`` views use the container wired last


def _schema(role: str) -> Any:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", APP, config=CONFIG)

    class Credentials:
        def get(self, case: schemathesis.Case[Any], ctx: Any) -> str:
            return credentials(role)

        def set(self, case: schemathesis.Case[Any], data: str, ctx: Any) -> None:
            case.headers["Authorization"] = data

    schema.auth(refresh_interval=None)(Credentials)
    return schema


admin_schema = _schema("admin")
member_schema = _schema("member")
FUZZ_SETTINGS = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


@admin_schema.parametrize()
@FUZZ_SETTINGS
def test_no_operation_fails_for_an_admin(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()


@member_schema.parametrize()
@FUZZ_SETTINGS
def test_no_operation_fails_for_a_member(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()


STATEFUL = settings(
    max_examples=max(15, EXAMPLES // 2),
    stateful_step_count=8,
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
AdminChains = _schema("admin").as_state_machine()
MemberChains = _schema("member").as_state_machine()
TestAdminChains = AdminChains.TestCase
TestAdminChains.settings = STATEFUL
TestMemberChains = MemberChains.TestCase
TestMemberChains.settings = STATEFUL


# --- hostile requests to every operation -----------------------------------------------------

HOSTILE = st.sampled_from(["\x00", "\x01", "\x1b[2J", "\x7f", "\x85", "\n", "\ud800", "\udfff"])
TEXT = st.one_of(
    st.text(max_size=12),
    st.builds(lambda a, b, c: a + b + c, st.text(max_size=6), HOSTILE, st.text(max_size=6)),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=12,
)


def _nested(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = [leaf] if depth % 2 else {"a": leaf}
    return leaf


BODIES = st.one_of(
    st.dictionaries(TEXT, JSON_VALUES, max_size=6),
    st.builds(_nested, st.integers(min_value=30, max_value=900), SCALARS),
)


def _operations() -> list[tuple[str, str, list[str], list[str]]]:
    document = APP.test_client().get("/openapi.json").get_json()
    found = []
    for path, item in sorted(document["paths"].items()):
        for method, operation in sorted(item.items()):
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            parameters = operation.get("parameters", [])
            query = [p["name"] for p in parameters if p["in"] == "query"]
            named = re.findall(r"{(\w+)}", path)
            found.append((method.upper(), path, named, query))
    return found


OPERATIONS = _operations()


def _encode(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "named", "query"), OPERATIONS, ids=[f"{m} {p}" for m, p, _, _ in OPERATIONS]
)
@settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_hostile_requests_never_fail_on_the_server(
    role: str, method: str, path: str, named: list[str], query: list[str], data: st.DataObject
) -> None:
    url = path
    for name in named:
        url = url.replace("{" + name + "}", _encode(data.draw(TEXT, label=name)) or "x")
    chosen = data.draw(st.lists(st.sampled_from(query), unique=True) if query else st.just([]))
    if chosen:
        url += "?" + "&".join(f"{name}={_encode(data.draw(TEXT, label=name))}" for name in chosen)
    headers = {"Authorization": credentials(role), "Content-Type": "application/json"}
    body = None
    if method in {"POST", "PUT", "PATCH"}:
        value = data.draw(BODIES, label="body")
        body = json.dumps(value, ensure_ascii=True)  # lone surrogates travel as \\ud800 escapes

    response = APP.test_client().open(url, method=method, data=body, headers=headers)

    assert response.status_code < 500, (url, body and body[:200], response.get_data(as_text=True))
