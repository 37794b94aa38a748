"""Logs: one pipeline for structlog and stdlib loggers, request fields on every line, no secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from argon2 import profiles
from dependency_injector import providers
from flask.testing import FlaskClient

from adapters.security import Argon2PasswordHasher
from domain.access import Scope
from entrypoints.container import Container, build_container, dispose
from entrypoints.http import create_app
from entrypoints.http.middleware import access
from entrypoints.logs import (
    HANDLER_NAME,
    REDACTED,
    bind_request,
    clear_request,
    configure_logging,
    get_logger,
    log_line,
    redact,
    redact_text,
    render_json,
)
from entrypoints.settings import Settings

PASSWORD = "a sturdy passphrase 4 logs"
TOKEN_ROUTE = "/api/v1/auth/token"
JWT = "eyJhbGciOiJFZERTQSIsImtpZCI6IjEifQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_sensitive_keys_are_masked_at_any_depth_in_any_case() -> None:
    event = redact(
        None,
        "info",
        {
            "event": "login",
            "Password": "hunter2hunter2",
            "body": {"email": "a@example.org", "new_password": "x", "nested": [{"TOKEN": "t"}]},
            "headers": {"Authorization": "Bearer abc", "Accept": "application/json"},
            "refresh_token": "r",
            "client_secret": "s",
            "api_key": "k",
            "token_type": "Bearer",
        },
    )

    assert event["Password"] == REDACTED
    assert event["body"]["new_password"] == REDACTED
    assert event["body"]["nested"][0]["TOKEN"] == REDACTED
    assert event["body"]["email"] == "a@example.org"
    assert event["headers"] == {"Authorization": REDACTED, "Accept": "application/json"}
    assert event["refresh_token"] == event["client_secret"] == event["api_key"] == REDACTED
    assert event["token_type"] == "Bearer"


SECRETS_IN_TEXT = [
    (f"verifying {JWT} now", JWT),
    ("key circ_0a1b2c3d4e5f_Zm9vYmFyYmF6cXV4-_0123 used", "Zm9vYmFyYmF6cXV4-_0123"),
    ("Authorization: Bearer opaque-value-123", "opaque-value-123"),
    ("GET /callback?code=1&access_token=abc123def&x=2 HTTP/1.1", "abc123def"),
    ('{"password": "pw-in-json"}', "pw-in-json"),
    ("hash $argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA stored", "$argon2id$"),
    ("hash $argon2id$v=19$m=65536,t=3,p=4$c2FsdGVk$ZGlnZXN0 stored", "c2FsdGVk"),
    ("hash $argon2id$v=19$m=65536,t=3,p=4$c2FsdGVk$ZGlnZXN0 stored", "ZGlnZXN0"),
    ("DETAIL:  Failing row contains (1, ada, 5e884898da28047151d0e56f).", "5e884898da"),
    ("[parameters: {'key_hash': '5e884898da28047151d0e56f'}]", "5e884898da"),
    ("{'key_hash': '5e884898da28047151d0e56f'}", "5e884898da"),
    # Letters that re.IGNORECASE folds onto ASCII: long s, Kelvin sign, dotless i.
    ("pa\u017fsword=hunter2hunter2", "hunter2hunter2"),
    ("api\u212aey=k-value-123", "k-value-123"),
    ("Authorization: ba\u017f\u0131c dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ("cr\u00e9dit card_\u0131d no; TOKEN=t-value-123", "t-value-123"),
]


@pytest.mark.parametrize(("text", "secret"), SECRETS_IN_TEXT)
def test_secrets_inside_text_are_masked(text: str, secret: str) -> None:
    masked = redact_text(text)

    assert secret not in masked
    assert REDACTED in masked


@pytest.mark.parametrize(("text", "secret"), SECRETS_IN_TEXT)
def test_a_secret_in_one_field_of_a_request_line_is_masked_and_the_rest_kept(
    text: str, secret: str
) -> None:
    line = {"event": "request", "route": "/api/v1/books", "status": 200, "duration_ms": 1.5}

    event = redact(None, "info", {**line, "path": text, "bytes": None})

    assert secret not in event["path"]
    assert REDACTED in event["path"]
    assert event == {**line, "path": event["path"], "bytes": None}


@pytest.mark.parametrize(
    "text", ["/api/v1/books", "GET", "circulate.http", "a caf\u00e9 title", "circ", "eyj.a.b"]
)
def test_text_without_secrets_is_left_as_it_is(text: str) -> None:
    assert redact_text(text) == text


def test_sensitive_keys_in_unicode_case_folds_are_masked() -> None:
    event = redact(None, "info", {"event": "x", "PA\u017fSWORD": "p", "to\u212aen": "t"})

    assert event["PA\u017fSWORD"] == event["to\u212aen"] == REDACTED


def test_a_logger_used_before_a_reconfiguration_follows_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = structlog.get_logger("circulate.test.reconfigured")
    configure_logging(Settings(environment="test", log_format="json"))
    logger.info("as json", secret="s3cr3t-value")
    configure_logging(Settings(environment="test", log_format="console", log_level="WARNING"))
    logger.info("below the level")
    logger.warning("as text")

    err = capsys.readouterr().err
    [line] = _lines(err)
    assert (line["event"], line["secret"]) == ("as json", REDACTED)
    assert "below the level" not in err
    assert "as text" in err
    assert "s3cr3t-value" not in err
    assert '"event": "as text"' not in err  # rendered as text now, not JSON


def test_configuring_twice_leaves_one_handler() -> None:
    settings = Settings(environment="test")
    configure_logging(settings)
    configure_logging(Settings(environment="test", log_format="json"))
    configure_logging(Settings(environment="test", log_format="json"))

    ours = [h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME]
    assert len(ours) == 1


def test_the_format_follows_the_environment() -> None:
    assert Settings(environment="production").effective_log_format() == "json"
    assert Settings(environment="development").effective_log_format() == "console"
    assert Settings(environment="development", log_format="json").effective_log_format() == "json"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    yield
    configure_logging(Settings(environment="test"))  # the level and format tests expect


@pytest.fixture
def json_container(tmp_path: Path) -> Iterator[Container]:
    settings = Settings(
        storage="memory",
        environment="test",
        log_format="json",
        log_level="DEBUG",
        signing_keys_file=str(tmp_path / "keys.json"),
    )
    container = build_container(settings)
    container.hasher.override(providers.Object(Argon2PasswordHasher(profiles.CHEAPEST)))
    yield container
    dispose(container)


def _lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_stdlib_and_structlog_lines_share_the_pipeline_and_the_request_fields(
    json_container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(container=json_container)
    capsys.readouterr()

    with app.test_request_context("/api/v1", headers={"X-Request-ID": "trace-me-1"}):
        app.preprocess_request()  # the request hooks, as for a real request
        logging.getLogger("werkzeug").warning("from werkzeug")
        logging.getLogger("sqlalchemy.engine").warning("from sqlalchemy")
        structlog.get_logger("circulate.test").info("from structlog", password=PASSWORD)

    lines = {line["event"]: line for line in _lines(capsys.readouterr().err)}
    for event in ("from werkzeug", "from sqlalchemy", "from structlog"):
        assert lines[event]["request_id"] == "trace-me-1"
        assert lines[event]["route"] == "/api/v1"
        assert lines[event]["method"] == "GET"
        assert "timestamp" in lines[event]
    assert lines["from werkzeug"]["logger"] == "werkzeug"
    assert lines["from structlog"]["password"] == REDACTED


def test_each_request_logs_one_line_with_its_fields(
    json_container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    client = create_app(container=json_container).test_client()
    capsys.readouterr()

    response = client.get("/healthz", headers={"X-Request-ID": "trace-me-2"})

    assert response.status_code == 200
    [line] = [line for line in _lines(capsys.readouterr().err) if line["event"] == "request"]
    assert line["request_id"] == "trace-me-2"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/healthz", 200)
    assert isinstance(line["duration_ms"], float)


def _is_routed(client: FlaskClient, path: str) -> bool:
    return any(rule.rule == path for rule in client.application.url_map.iter_rules())


def test_a_full_run_logs_no_password_hash_or_token(
    json_container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    client: FlaskClient = create_app(container=json_container).test_client()
    secrets = [PASSWORD]
    staff: dict[str, str] = {}
    if any(rule.rule == TOKEN_ROUTE for rule in client.application.url_map.iter_rules()):
        # With authentication: the catalogue is written by an admin integration's API key.
        api_key = json_container.identity.api_keys().create("logs", frozenset(Scope)).plaintext
        staff["Authorization"] = f"ApiKey {api_key}"
        secrets.append(api_key)
    capsys.readouterr()

    book = client.post(
        "/api/v1/books",
        json={"isbn": "9780131103627", "title": "C", "authors": ["K&R"], "barcodes": ["C-1"]},
        headers=staff,
    )
    assert book.status_code == 201, book.get_data(as_text=True)
    member = client.post(
        "/api/v1/members",
        json={"email": "ada@example.org", "name": "Ada", "password": PASSWORD},
        headers=staff,
    )
    assert member.status_code == 201, member.get_data(as_text=True)
    member_id = member.get_json()["id"]
    headers = dict(staff)
    if _is_routed(client, TOKEN_ROUTE):
        login = client.post(TOKEN_ROUTE, json={"email": "ada@example.org", "password": PASSWORD})
        assert login.status_code == 200, login.get_data(as_text=True)
        pair = login.get_json()
        secrets += [pair["access_token"], pair["refresh_token"]]
        headers = {"Authorization": f"Bearer {pair['access_token']}"}  # the member borrows
        refused = client.post(TOKEN_ROUTE, json={"email": "ada@example.org", "password": "wrong!"})
        assert refused.status_code == 401
        secrets.append("wrong!")
    loan = client.post(
        "/api/v1/loans",
        json={"member_id": member_id, "barcode": "C-1"},  # the copy in hand, as a member may
        headers=headers,
    )
    assert loan.status_code == 201, loan.get_data(as_text=True)
    returned = client.post(f"/api/v1/loans/{loan.get_json()['id']}/return", headers=staff)
    assert returned.status_code == 200, returned.get_data(as_text=True)
    with json_container.uow() as uow:
        stored = uow.members.get(member_id)
        assert stored is not None
        assert stored.password_hash is not None
        secrets.append(stored.password_hash)
    # A client that sends a secret where it does not belong (a query string) is masked too.
    client.get(f"/api/v1/books?access_token={JWT}", headers=staff)
    secrets.append(JWT)

    captured = capsys.readouterr().err
    lines = _lines(captured)
    requests = [line for line in lines if line["event"] == "request"]
    assert len(requests) >= 5  # one per request
    for secret in secrets:
        assert secret not in captured
    assert "$argon2" not in captured
    for line in requests:
        assert {"request_id", "method", "route", "status", "duration_ms"} <= set(line)
    if staff:
        assert any("caller_id" in line for line in requests)


WHOAMI = "/test-logging/whoami"


def test_lines_logged_inside_a_view_carry_the_callers_id(
    json_container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not only the request's own line: every line after authentication says who asked."""
    app = create_app(container=json_container)

    def whoami() -> str:
        structlog.get_logger("circulate.test").info("inside the view")
        logging.getLogger("some.library").warning("a library inside the view")
        return "ok"

    # An extra route, open to anyone: credentials are read when given, and checked.
    app.add_url_rule(WHOAMI, endpoint="test_logging_whoami", view_func=whoami)
    access.register("test_logging_whoami", access.open_to_all())
    api_key = json_container.identity.api_keys().create("logs", frozenset(Scope))
    member = json_container.library.membership().register(
        email="grace@example.org", name="Grace", password=PASSWORD
    )
    sessions = json_container.identity().sessions()
    access_token = sessions.login("grace@example.org", PASSWORD).access_token
    client = app.test_client()
    capsys.readouterr()

    callers = {
        "by-key": ({"Authorization": f"ApiKey {api_key.plaintext}"}, api_key.key.id),
        "by-token": ({"Authorization": f"Bearer {access_token}"}, member.id),
        "anonymous": ({}, None),  # same thread, next request: nothing left over
    }
    for request_id, (headers, _) in callers.items():
        response = client.get(WHOAMI, headers={**headers, "X-Request-ID": request_id})
        assert response.status_code == 200, response.get_data(as_text=True)

    lines = _lines(capsys.readouterr().err)
    for request_id, (_, expected) in callers.items():
        inside = [
            line
            for line in lines
            if line.get("request_id") == request_id and line["event"] != "request"
        ]
        assert {line["event"] for line in inside} == {
            "inside the view",
            "a library inside the view",
        }
        for line in inside:
            assert line.get("caller_id") == expected, line
            assert (line["method"], line["route"]) == ("GET", WHOAMI)


def _only_our_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    """The root logger as in a server: our handler alone (no test capture in the way)."""
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if handler.get_name() == HANDLER_NAME]
    monkeypatch.setattr(root, "handlers", ours)


def test_a_line_logged_directly_is_the_line_the_logger_writes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(Settings(environment="test", log_format="json"))
    _only_our_handler(monkeypatch)
    fields = {"method": "GET", "path": f"/api/v1/books/{JWT}", "status": 200, "bytes": None}
    bind_request(request_id="trace-me-3", route="/api/v1/books/<book_id>", duration_ms=1.5)
    try:
        log_line("gunicorn.access", "info", "request", **fields)
        get_logger("gunicorn.access").info("request", **fields)
    finally:
        clear_request()

    direct, ordinary = _lines(capsys.readouterr().err)
    assert direct.pop("timestamp")
    assert ordinary.pop("timestamp")
    assert list(direct.items()) == list(ordinary.items())  # same fields, order and redaction
    assert direct["path"] == f"/api/v1/books/{REDACTED}"
    assert (direct["logger"], direct["level"], direct["request_id"]) == (
        "gunicorn.access",
        "info",
        "trace-me-3",
    )


def test_a_line_below_the_level_is_not_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(Settings(environment="test", log_format="json", log_level="ERROR"))
    _only_our_handler(monkeypatch)

    log_line("gunicorn.access", "info", "request", status=200)
    log_line("circulate.http", "error", "request", status=500)

    assert [line["status"] for line in _lines(capsys.readouterr().err)] == [500]


class _Described:
    def __structlog__(self) -> str:
        return "described"


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


def test_lines_are_written_as_structlogs_json_renderer_writes_them() -> None:
    line = {
        "event": "request",
        "status": 200,
        "duration_ms": 1.25,
        "ok": True,
        "nothing": None,
        "text": 'caf\u00e9 \u2603 "quoted"',
        "nested": {"list": [1, "two", {"three": 3.0}], "tuple": (4, 5)},
        "described": _Described(),
        "opaque": _Opaque(),
        "not_a_number": float("nan"),
    }
    reference = structlog.processors.JSONRenderer(sort_keys=False)

    assert render_json(None, "info", dict(line)) == reference(None, "info", dict(line))
    assert json.loads(render_json(None, "info", dict(line)))["opaque"] == "<opaque>"


def test_a_lines_own_field_wins_over_the_requests_and_the_request_fields_follow(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(Settings(environment="test", log_format="json"))
    _only_our_handler(monkeypatch)
    bind_request(request_id="trace-me-4", status=0)
    bind_request(caller_id="member:7")
    try:
        log_line("gunicorn.access", "info", "request", status=201, path="/api/v1/loans")
        get_logger("gunicorn.access").info("request", status=201, path="/api/v1/loans")
    finally:
        clear_request()
    log_line("gunicorn.access", "info", "after", status=200)

    direct, ordinary, after = _lines(capsys.readouterr().err)
    assert direct.pop("timestamp")
    assert ordinary.pop("timestamp")
    assert list(direct.items()) == list(ordinary.items())
    assert list(direct)[:5] == ["status", "path", "event", "request_id", "caller_id"]
    assert direct["status"] == 201
    assert "request_id" not in after
    assert "caller_id" not in after


def test_a_line_with_an_exception_takes_the_whole_pipeline(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(Settings(environment="test", log_format="json"))
    _only_our_handler(monkeypatch)
    try:
        raise RuntimeError(f"failed with {JWT}")
    except RuntimeError as error:
        log_line("circulate.http", "error", "request", exc_info=error, stack_info=True)

    [line] = _lines(capsys.readouterr().err)
    assert line["exception"][0]["exc_type"] == "RuntimeError"
    assert JWT not in json.dumps(line)
    assert "stack" in line
    assert "exc_info" not in line
    assert "stack_info" not in line
