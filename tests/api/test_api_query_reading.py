"""A view that validates its own query (``openapi._validating_query``), and its body with it,
reads them exactly as flask-openapi3 does: the same model, the same values, the same 422."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_openapi3.request import _validate_body, _validate_query
from pydantic import BaseModel, ValidationError

from entrypoints.http.responses.errors import validation_problem
from entrypoints.schemas.books import BookQuery
from entrypoints.schemas.common import NoQuery
from entrypoints.schemas.loans import LoanCreate

QUERIES = [
    "",
    "per_page=5&page=2&sort=-title",
    "q=&author=",  # empty values are values
    "q=first&q=second",  # the first of a repeated parameter
    "available=true&isbn=0306406152",
    "per_page=0&page=x&available=maybe",
    "sort=nope&per_page=101&bogus=1&other=2",
]


def _as_flask_openapi3_reads(app: Flask, url: str, model: type[BaseModel]) -> Any:
    with app.test_request_context(url):
        read: dict[str, Any] = {}
        try:
            _validate_query(model, read)
        except ValidationError as error:
            return validation_problem(error).get_json()["details"]
        return read["query"]


def _body_as_flask_openapi3_reads(app: Flask, body: Any, model: type[BaseModel]) -> Any:
    with app.test_request_context("/", method="POST", json=body):
        read: dict[str, Any] = {}
        try:
            _validate_body(model, read)
        except ValidationError as error:
            return validation_problem(error).get_json()["details"]
        return read["body"]


@pytest.mark.parametrize("query", QUERIES)
def test_a_list_reads_its_query_as_flask_openapi3_does(
    app: Flask, client: FlaskClient, query: str
) -> None:
    url = f"/api/v1/books?{query}"
    expected = _as_flask_openapi3_reads(app, url, BookQuery)

    response = client.get(url)

    if isinstance(expected, BookQuery):
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["per_page"] == expected.per_page
    else:
        assert response.status_code == 422
        assert response.get_json()["details"] == expected


@pytest.mark.parametrize("query", ["bogus=1", "a=1&b=2"])
def test_a_view_without_a_query_model_refuses_any_parameter_alike(
    app: Flask, client: FlaskClient, query: str
) -> None:
    url = f"/api/v1?{query}"
    expected = _as_flask_openapi3_reads(app, url, NoQuery)

    response = client.get(url)

    assert response.status_code == 422
    assert response.get_json()["details"] == expected


def test_the_api_answers_a_repeated_list_query_and_refuses_a_bad_one_each_time(
    client: FlaskClient,
) -> None:
    for _ in range(2):
        assert client.get("/api/v1/books?per_page=3").get_json()["per_page"] == 3
        assert client.get("/api/v1/books?per_page=0").status_code == 422
        assert client.get("/api/v1/books?per_page=3&color=red").status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"member_id": "m", "book_id": "b", "copy_id": "c"},
        {"member_id": 5, "barcode": ["x"]},
        {"member_id": "m", "book_id": "b", "colour": "red"},
    ],
)
def test_a_view_with_a_body_refuses_a_bad_one_as_flask_openapi3_does(
    app: Flask, client: FlaskClient, body: dict[str, Any]
) -> None:
    expected = _body_as_flask_openapi3_reads(app, body, LoanCreate)

    response = client.post("/api/v1/loans", json=body)

    assert not isinstance(expected, BaseModel)
    assert response.status_code == 422
    assert response.get_json()["details"] == expected


def test_a_view_with_a_body_refuses_a_query_parameter_before_reading_the_body(
    app: Flask, client: FlaskClient
) -> None:
    expected = _as_flask_openapi3_reads(app, "/api/v1/loans?bogus=1", NoQuery)

    response = client.post("/api/v1/loans?bogus=1", json={})

    assert response.status_code == 422
    assert response.get_json()["details"] == expected
