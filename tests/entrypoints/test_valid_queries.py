"""A list's query string is validated once while it is kept (``openapi.ValidQueries``): each
request still gets a model of its own, and an invalid query is refused every time."""

from __future__ import annotations

from typing import ClassVar

import pytest
from flask import Flask
from pydantic import ValidationError

from entrypoints.http.openapi import ValidQueries
from entrypoints.schemas.books import BookQuery


class _Counting(BookQuery):
    validated: ClassVar[int] = 0

    def model_post_init(self, context: object) -> None:
        type(self).validated += 1


def _query(queries: ValidQueries, url: str) -> BookQuery:
    with Flask(__name__).test_request_context(url) as context:
        found = queries.of(context.request)
        assert isinstance(found, BookQuery)
        return found


def test_a_query_string_asked_again_is_not_validated_again_but_answers_a_model_of_its_own() -> None:
    _Counting.validated = 0
    queries = ValidQueries(_Counting, 4)

    first = _query(queries, "/api/v1/books?q=tide&per_page=5")
    second = _query(queries, "/api/v1/books?q=tide&per_page=5")
    first.per_page = 50  # a view that changed its query changes no one else's

    assert _Counting.validated == 1
    assert second is not first
    assert (second.q, second.per_page) == ("tide", 5)
    assert _query(queries, "/api/v1/books?q=tide&per_page=5").per_page == 5


def test_each_query_string_is_validated_on_its_own() -> None:
    queries = ValidQueries(BookQuery, 4)

    assert _query(queries, "/api/v1/books?per_page=5").per_page == 5
    assert _query(queries, "/api/v1/books?per_page=6").per_page == 6
    assert _query(queries, "/api/v1/books?per_page=5&per_page=7").per_page == 5  # as args reads


def test_an_invalid_query_is_refused_every_time() -> None:
    queries = ValidQueries(BookQuery, 4)

    for _ in range(2):
        with pytest.raises(ValidationError):
            _query(queries, "/api/v1/books?per_page=0")


def test_only_the_latest_query_strings_are_kept() -> None:
    _Counting.validated = 0
    queries = ValidQueries(_Counting, 2)
    for size in (1, 2, 3, 1):
        _query(queries, f"/api/v1/books?per_page={size}")

    assert _Counting.validated == 4
