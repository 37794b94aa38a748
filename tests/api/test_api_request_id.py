"""``X-Request-ID`` is on every response: the client's when sane, a fresh one otherwise."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

HEADER = "X-Request-ID"


@pytest.mark.parametrize(
    "offered", ["abc", "req-42_retry.1", "A" * 128, "0190f1e2-7c4d-7a8b-9c0d-1e2f3a4b5c6d"]
)
def test_a_sane_client_id_is_echoed(client: FlaskClient, offered: str) -> None:
    response = client.get("/healthz", headers={HEADER: offered})

    assert response.headers[HEADER] == offered


@pytest.mark.parametrize(
    "offered", ["", "A" * 129, "has space", "semi;colon", "new\\nline", "ünïcode", "a/b"]
)
def test_an_insane_client_id_is_replaced(client: FlaskClient, offered: str) -> None:
    response = client.get("/healthz", headers={HEADER: offered})

    replaced = response.headers[HEADER]
    assert replaced != offered
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_an_id_is_made_when_none_is_given_and_differs_per_request(client: FlaskClient) -> None:
    first = client.get("/healthz").headers[HEADER]
    second = client.get("/healthz").headers[HEADER]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_error_responses_carry_the_id_in_header_and_body(client: FlaskClient) -> None:
    response = client.get("/missing", headers={HEADER: "client-7"})

    assert response.headers[HEADER] == "client-7"
    assert response.get_json()["request_id"] == "client-7"
