"""Books: the catalogue records, their copies and availability."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.support import ISBNS, add_book, assert_problem, borrow, field_errors, register


def test_a_book_is_added_with_its_copies_and_can_be_read_back(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/books",
        json={
            "isbn": "0-13-110362-8",
            "title": "  The C   Programming Language ",
            "authors": ["Brian W. Kernighan", "Dennis M. Ritchie"],
            "year": 1988,
            "barcodes": ["C-1", "C-2"],
        },
    )

    assert response.status_code == 201
    book = response.get_json()
    assert book["isbn"] == "9780131103627"  # ISBN-10 converted
    assert book["title"] == "The C Programming Language"
    assert book["version"] == 1
    assert response.headers["Location"] == f"/api/v1/books/{book['id']}"
    assert response.headers["ETag"]
    read = client.get(response.headers["Location"])
    assert read.status_code == 200
    assert read.get_json() == book
    assert read.headers["ETag"] == response.headers["ETag"]
    copies = client.get(f"/api/v1/books/{book['id']}/copies").get_json()
    assert [c["barcode"] for c in copies["items"]] == ["C-1", "C-2"]
    assert copies["total"] == 2


def test_a_second_book_with_the_same_isbn_is_a_conflict(client: FlaskClient) -> None:
    add_book(client, 0)

    response = client.post("/api/v1/books", json={"isbn": ISBNS[0], "title": "Again"})

    assert_problem(response, 409, "ISBN_ALREADY_EXISTS")


def test_a_bad_isbn_check_digit_is_a_422_with_the_domain_code(client: FlaskClient) -> None:
    response = client.post("/api/v1/books", json={"isbn": "9780131103620", "title": "X"})

    body = assert_problem(response, 422, "INVALID_ISBN")
    assert body["details"] == {"field": "isbn"}


def test_a_body_that_breaks_the_schema_lists_every_bad_field(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/books", json={"title": "", "year": "1988", "colour": "red", "authors": [1]}
    )

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert field_errors(body) == {
        ("body", "isbn"),
        ("body", "title"),
        ("body", "year"),
        ("body", "colour"),
        ("body", "authors.0"),
    }
    assert all(e["message"] for e in body["details"]["errors"])
    assert "1988" not in response.get_data(as_text=True)  # rejected values are not echoed


def test_a_missing_book_is_a_404(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/books/nope"), 404, "BOOK_NOT_FOUND")
    assert_problem(
        client.put("/api/v1/books/nope", json={"isbn": ISBNS[0], "title": "T"}),
        404,
        "BOOK_NOT_FOUND",
    )
    assert_problem(client.patch("/api/v1/books/nope", json={"title": "T"}), 404, "BOOK_NOT_FOUND")
    assert_problem(client.delete("/api/v1/books/nope"), 404, "BOOK_NOT_FOUND")
    assert_problem(client.get("/api/v1/books/nope/copies"), 404, "BOOK_NOT_FOUND")
    assert_problem(
        client.post("/api/v1/books/nope/copies", json={"barcode": "X-1"}), 404, "BOOK_NOT_FOUND"
    )
    assert_problem(client.get("/api/v1/books/nope/availability"), 404, "BOOK_NOT_FOUND")


def test_put_replaces_every_field(client: FlaskClient) -> None:
    book = add_book(client, 0, publisher="Old House", year=1978, subjects=["C"])
    before = client.get(f"/api/v1/books/{book['id']}").headers["ETag"]

    response = client.put(
        f"/api/v1/books/{book['id']}", json={"isbn": book["isbn"], "title": "Second edition"}
    )

    assert response.status_code == 200
    replaced = response.get_json()
    assert replaced["title"] == "Second edition"
    assert replaced["authors"] == []
    assert replaced["publisher"] is None
    assert replaced["year"] is None
    assert replaced["subjects"] == []
    assert replaced["version"] == 2
    assert response.headers["ETag"] != before
    assert response.headers["ETag"] == client.get(f"/api/v1/books/{book['id']}").headers["ETag"]


def test_patch_changes_only_the_fields_given_and_null_clears_optional_ones(
    client: FlaskClient,
) -> None:
    book = add_book(client, 0, publisher="Prentice Hall", year=1988)

    response = client.patch(f"/api/v1/books/{book['id']}", json={"title": "New", "year": None})

    assert response.status_code == 200
    changed = response.get_json()
    assert changed["title"] == "New"
    assert changed["year"] is None
    assert changed["publisher"] == "Prentice Hall"
    assert changed["authors"] == book["authors"]


def test_patch_refuses_null_for_a_field_a_book_needs(client: FlaskClient) -> None:
    book = add_book(client, 0)

    response = client.patch(f"/api/v1/books/{book['id']}", json={"title": None})

    assert field_errors(assert_problem(response, 422, "VALIDATION_FAILED")) == {("body", "title")}


def test_patch_to_an_isbn_another_book_has_is_a_conflict(client: FlaskClient) -> None:
    add_book(client, 0)
    other = add_book(client, 1)

    response = client.patch(f"/api/v1/books/{other['id']}", json={"isbn": ISBNS[0]})

    assert_problem(response, 409, "ISBN_ALREADY_EXISTS")


def test_a_book_is_deleted_unless_a_copy_is_on_loan(client: FlaskClient) -> None:
    lent = add_book(client, 0)
    idle = add_book(client, 1)
    borrow(client, register(client), lent)

    assert_problem(client.delete(f"/api/v1/books/{lent['id']}"), 409, "BOOK_HAS_OPEN_LOANS")
    response = client.delete(f"/api/v1/books/{idle['id']}")

    assert response.status_code == 204
    assert response.get_data() == b""
    assert client.get(f"/api/v1/books/{idle['id']}").status_code == 404


def test_a_copy_is_added_with_a_location_and_a_duplicate_barcode_is_refused(
    client: FlaskClient,
) -> None:
    book = add_book(client, 0, copies=0)

    response = client.post(f"/api/v1/books/{book['id']}/copies", json={"barcode": "NEW-1"})

    assert response.status_code == 201
    copy = response.get_json()
    assert copy["status"] == "available"
    assert response.headers["Location"].endswith(f"/api/v1/copies/{copy['id']}")
    again = client.post(f"/api/v1/books/{book['id']}/copies", json={"barcode": "NEW-1"})
    assert_problem(again, 409, "BARCODE_ALREADY_EXISTS")
    bad = client.post(f"/api/v1/books/{book['id']}/copies", json={"barcode": "no spaces"})
    assert field_errors(assert_problem(bad, 422, "VALIDATION_FAILED")) == {("body", "barcode")}


def test_availability_counts_copies_and_holds(client: FlaskClient) -> None:
    book = add_book(client, 0, copies=2)
    borrow(client, register(client), book)

    body = client.get(f"/api/v1/books/{book['id']}/availability").get_json()

    assert body == {
        "book_id": book["id"],
        "copies": 2,
        "available": 1,
        "on_loan": 1,
        "on_hold_shelf": 0,
        "holds_waiting": 0,
        "member_id": None,
        "can_borrow": None,
        "reasons": [],
    }


def test_availability_says_why_a_member_could_not_borrow(client: FlaskClient) -> None:
    book = add_book(client, 0, copies=1)
    borrow(client, register(client), book)
    member = register(client)

    response = client.get(f"/api/v1/books/{book['id']}/availability?member_id={member['id']}")

    body = response.get_json()
    assert body["member_id"] == member["id"]
    assert body["can_borrow"] is False
    assert [r["code"] for r in body["reasons"]] == ["NO_COPY_AVAILABLE"]
    assert response.headers["ETag"]
    missing = client.get(f"/api/v1/books/{book['id']}/availability?member_id=nobody")
    assert_problem(missing, 404, "MEMBER_NOT_FOUND")


def test_availability_for_a_member_who_can_borrow(client: FlaskClient) -> None:
    book = add_book(client, 0, copies=1)
    member = register(client)

    body = client.get(
        f"/api/v1/books/{book['id']}/availability", query_string={"member_id": member["id"]}
    ).get_json()

    assert body["can_borrow"] is True
    assert body["reasons"] == []
