"""Lists: paging, the Link header, filters, sorting, and strict query parameters."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.support import add_book, assert_problem, borrow, field_errors, register


def _links(header: str) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}


def test_a_page_has_items_page_per_page_total_and_links(client: FlaskClient) -> None:
    for number in range(5):
        add_book(client, number)

    response = client.get("/api/v1/books?per_page=2&page=2&sort=-title")

    body = response.get_json()
    assert [b["title"] for b in body["items"]] == ["Book 2", "Book 1"]
    assert (body["page"], body["per_page"], body["total"]) == (2, 2, 5)
    links = _links(response.headers["Link"])
    assert set(links) == {"first", "prev", "next", "last"}
    assert links["next"] == "/api/v1/books?per_page=2&sort=-title&page=3"
    assert links["prev"].endswith("page=1")
    assert links["first"].endswith("page=1")
    assert links["last"].endswith("page=3")


def test_the_first_and_last_pages_link_only_one_way(client: FlaskClient) -> None:
    add_book(client, 0)

    only = _links(client.get("/api/v1/books").headers["Link"])
    beyond = client.get("/api/v1/books?page=9")

    assert set(only) == {"first", "last"}
    assert beyond.get_json()["items"] == []
    assert _links(beyond.headers["Link"])["prev"].endswith("page=1")


def test_books_page_by_cursor_with_next_links_to_the_end(client: FlaskClient) -> None:
    for number in range(5):
        add_book(client, number)

    first = client.get("/api/v1/books?per_page=2&sort=-title")
    seen = [b["title"] for b in first.get_json()["items"]]
    cursor = first.get_json()["next_cursor"]
    # A page by number links on by number; its body gives the cursor to switch to.
    assert _links(first.headers["Link"])["next"].endswith("page=2")
    second = client.get(
        "/api/v1/books", query_string={"per_page": 2, "sort": "-title", "after": cursor}
    )
    body = second.get_json()
    assert (body["page"], body["total"], body["total_exact"]) == (2, 5, False)
    links = _links(second.headers["Link"])
    assert set(links) == {"first", "prev", "next"}  # no "last": the total is not exact
    assert links["first"].endswith("page=1")
    assert "after" not in links["prev"]
    assert links["next"] == f"/api/v1/books?per_page=2&sort=-title&after={body['next_cursor']}"
    seen += [b["title"] for b in body["items"]]

    last = client.get(links["next"])
    seen += [b["title"] for b in last.get_json()["items"]]
    assert last.get_json()["next_cursor"] is None
    assert "next" not in _links(last.headers["Link"])
    assert seen == ["Book 4", "Book 3", "Book 2", "Book 1", "Book 0"]


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ({"after": "not-a-cursor"}, "garbage"),
        ({"after": "W10"}, "valid base64 and JSON, not a cursor"),
        ({"page": 2, "after": "CURSOR"}, "both page and after"),
        ({"sort": "year", "after": "CURSOR"}, "a cursor of another sort order"),
    ],
)
def test_a_cursor_that_does_not_fit_is_422(
    client: FlaskClient, query: dict[str, object], why: str
) -> None:
    for number in range(3):
        add_book(client, number)
    cursor = client.get("/api/v1/books?per_page=1").get_json()["next_cursor"]
    query = {k: cursor if v == "CURSOR" else v for k, v in query.items()}

    response = client.get("/api/v1/books", query_string=query)

    body = assert_problem(response, 422, "INVALID_VALUE")
    assert body["details"]["field"] == "after", why


def _walk_by_next(client: FlaskClient, path: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Follow ``next`` from the first page by number, switching to the cursor at page 2."""
    first = client.get(path, query_string={"per_page": 2})
    bodies = [first.get_json()]
    if bodies[0]["next_cursor"] is not None:
        after = {"per_page": 2, "after": bodies[0]["next_cursor"]}
        response = client.get(path, query_string=after)
        bodies.append(response.get_json())
        while "next" in (links := _links(response.headers["Link"])):
            assert "after=" in links["next"]  # a page by cursor links on by cursor
            response = client.get(links["next"])
            bodies.append(response.get_json())
            assert len(bodies) < 20, "the walk does not end"
    return [item["id"] for body in bodies for item in body["items"]], bodies


@pytest.mark.parametrize("listing", ["members", "loans", "audit-events"])
def test_the_big_lists_page_by_cursor_too(client: FlaskClient, listing: str) -> None:
    for number in range(4):
        borrow(client, register(client), add_book(client, number))
    whole = client.get(f"/api/v1/{listing}?per_page=100").get_json()
    everything = [item["id"] for item in whole["items"]]
    assert len(everything) >= 4

    ids, bodies = _walk_by_next(client, f"/api/v1/{listing}")

    assert ids == everything
    assert [body["page"] for body in bodies] == list(range(1, len(bodies) + 1))
    assert all(body["total"] == len(everything) for body in bodies)
    assert [body["total_exact"] for body in bodies] == [True] + [False] * (len(bodies) - 1)
    assert bodies[-1]["next_cursor"] is None


@pytest.mark.parametrize(
    ("listing", "other"), [("members", "loans"), ("loans", "audit-events"), ("books", "members")]
)
def test_a_cursor_of_another_list_is_422(client: FlaskClient, listing: str, other: str) -> None:
    reader = register(client)
    for number in range(2):
        borrow(client, reader, add_book(client, number))
    register(client)
    cursor = client.get(f"/api/v1/{listing}?per_page=1").get_json()["next_cursor"]
    assert cursor is not None

    response = client.get(f"/api/v1/{other}", query_string={"after": cursor})

    body = assert_problem(response, 422, "INVALID_VALUE")
    assert body["details"]["field"] == "after"


def test_per_page_defaults_to_20_and_stops_at_100(client: FlaskClient) -> None:
    assert client.get("/api/v1/books").get_json()["per_page"] == 20
    assert client.get("/api/v1/books?per_page=100").status_code == 200

    for query in ("per_page=101", "per_page=0", "page=0", "page=x", "page=1.5"):
        response = client.get(f"/api/v1/books?{query}")
        body = assert_problem(response, 422, "VALIDATION_FAILED")
        assert field_errors(body) == {("query", query.split("=")[0])}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1",
        "/api/v1/books",
        "/api/v1/members",
        "/api/v1/loans",
        "/api/v1/holds",
        "/api/v1/books/x",
        "/api/v1/books/x/copies",
        "/api/v1/books/x/availability",
        "/api/v1/copies/x",
        "/api/v1/members/x",
        "/api/v1/members/x/loans",
        "/api/v1/members/x/holds",
        "/api/v1/members/x/account",
        "/api/v1/loans/x",
        "/api/v1/holds/x",
    ],
)
def test_an_unknown_query_parameter_is_422_not_ignored(client: FlaskClient, url: str) -> None:
    response = client.get(url, query_string={"colour": "red"})

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert field_errors(body) == {("query", "colour")}


def test_unknown_parameters_are_refused_on_writes_too(client: FlaskClient) -> None:
    response = client.post("/api/v1/books?dry_run=true", json={"isbn": "x", "title": "T"})

    assert ("query", "dry_run") in field_errors(assert_problem(response, 422, "VALIDATION_FAILED"))


def test_books_are_found_by_words_author_isbn_and_availability(client: FlaskClient) -> None:
    add_book(client, 0, title="The Art of Computer Programming", authors=["Donald Knuth"])
    add_book(client, 1, title="Structure and Interpretation", authors=["Harold Abelson"])
    lent = add_book(client, 2, title="The Art of Unix Programming", authors=["Eric Raymond"])
    borrow(client, register(client), lent)

    def titles(query: str) -> list[str]:
        return [b["title"] for b in client.get(f"/api/v1/books?{query}").get_json()["items"]]

    assert titles("q=art programming") == [
        "The Art of Computer Programming",
        "The Art of Unix Programming",
    ]
    assert titles("q=knuth") == ["The Art of Computer Programming"]
    assert titles("author=abelson") == ["Structure and Interpretation"]
    assert titles("isbn=0-262-03384-4") == ["Structure and Interpretation"]
    assert titles("available=false") == ["The Art of Unix Programming"]
    assert len(titles("available=true")) == 2
    assert_problem(client.get("/api/v1/books?available=yes"), 422, "VALIDATION_FAILED")
    assert_problem(client.get("/api/v1/books?isbn=1234567890"), 422, "INVALID_ISBN")


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", ["A", "B", "C"]),
        ("-title", ["C", "B", "A"]),
        ("year", ["B", "C", "A"]),
        ("-year", ["C", "B", "A"]),
        ("created_at", ["C", "A", "B"]),
        ("-created_at", ["B", "A", "C"]),
    ],
)
def test_books_are_sorted(client: FlaskClient, sort: str, expected: list[str]) -> None:
    add_book(client, 0, title="C", year=2000)
    add_book(client, 1, title="A")
    add_book(client, 2, title="B", year=1990)

    response = client.get(f"/api/v1/books?sort={sort}")

    assert [b["title"] for b in response.get_json()["items"]] == expected


def test_an_unknown_sort_is_422(client: FlaskClient) -> None:
    body = assert_problem(client.get("/api/v1/books?sort=colour"), 422, "VALIDATION_FAILED")

    assert field_errors(body) == {("query", "sort")}


def test_a_books_copies_are_paged_too(client: FlaskClient) -> None:
    book = add_book(client, 0, copies=3)

    response = client.get(f"/api/v1/books/{book['id']}/copies?per_page=2&page=2")

    body = response.get_json()
    assert [c["barcode"] for c in body["items"]] == ["B0-2"]
    assert body["total"] == 3
    assert "Link" in response.headers
