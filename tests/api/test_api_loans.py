"""Loans: lending by book or copy, listing, returning and renewing."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from adapters.clock import ManualClock
from tests.api.support import add_book, assert_problem, borrow, field_errors, register


def test_a_book_is_lent_and_the_loan_read_back(client: FlaskClient) -> None:
    member = register(client)
    book = add_book(client, 0)

    response = client.post("/api/v1/loans", json={"member_id": member["id"], "book_id": book["id"]})

    assert response.status_code == 201
    loan = response.get_json()
    assert loan["status"] == "open"
    assert loan["due_at"] == "2030-01-22T23:59:59Z"
    assert loan["fine_cents"] == 0
    assert response.headers["Location"].endswith(f"/api/v1/loans/{loan['id']}")
    read = client.get(f"/api/v1/loans/{loan['id']}")
    assert read.get_json() == loan
    assert read.headers["ETag"] == response.headers["ETag"]


def test_a_copy_is_lent_by_its_id(client: FlaskClient) -> None:
    book = add_book(client, 0, copies=2)
    copies = client.get(f"/api/v1/books/{book['id']}/copies").get_json()["items"]

    response = client.post(
        "/api/v1/loans", json={"member_id": register(client)["id"], "copy_id": copies[1]["id"]}
    )

    assert response.get_json()["copy_id"] == copies[1]["id"]


def test_exactly_one_of_book_and_copy_is_required(client: FlaskClient) -> None:
    member = register(client)
    book = add_book(client, 0)

    neither = client.post("/api/v1/loans", json={"member_id": member["id"]})
    both = client.post(
        "/api/v1/loans",
        json={"member_id": member["id"], "book_id": book["id"], "copy_id": "c"},
    )

    for response in (neither, both):
        assert_problem(response, 422, "VALIDATION_FAILED")


def test_lending_refusals_carry_the_rule(client: FlaskClient) -> None:
    member = register(client)
    book = add_book(client, 0)
    borrow(client, member, book)

    again = client.post("/api/v1/loans", json={"member_id": member["id"], "book_id": book["id"]})
    nobody = client.post("/api/v1/loans", json={"member_id": "nobody", "book_id": book["id"]})
    no_book = client.post("/api/v1/loans", json={"member_id": member["id"], "book_id": "none"})
    no_copy = client.post("/api/v1/loans", json={"member_id": member["id"], "copy_id": "none"})

    assert_problem(again, 409, "NO_COPY_AVAILABLE")
    assert_problem(nobody, 404, "MEMBER_NOT_FOUND")
    assert_problem(no_book, 404, "BOOK_NOT_FOUND")
    assert_problem(no_copy, 404, "COPY_NOT_FOUND")


def test_a_suspended_member_may_not_borrow(client: FlaskClient) -> None:
    member = register(client)
    client.patch(f"/api/v1/members/{member['id']}", json={"status": "suspended"})

    response = client.post(
        "/api/v1/loans", json={"member_id": member["id"], "book_id": add_book(client, 0)["id"]}
    )

    body = assert_problem(response, 409, "MEMBER_SUSPENDED")
    assert body["type"] == "urn:circulate:problem:member-suspended"


def test_loans_are_listed_by_member_and_status(client: FlaskClient, clock: ManualClock) -> None:
    ada, grace = register(client), register(client)
    late = borrow(client, ada, add_book(client, 0))
    clock.advance(timedelta(days=22))
    fresh = borrow(client, grace, add_book(client, 1))
    returned = borrow(client, grace, add_book(client, 2))
    client.post(f"/api/v1/loans/{returned['id']}/return")

    def ids(query: str) -> list[str]:
        return [loan["id"] for loan in client.get(f"/api/v1/loans{query}").get_json()["items"]]

    assert ids("") == [returned["id"], fresh["id"], late["id"]]  # newest first
    assert ids(f"?member_id={ada['id']}") == [late["id"]]
    assert ids("?status=overdue") == [late["id"]]
    assert ids("?status=open") == [fresh["id"], late["id"]]
    assert ids("?status=returned") == [returned["id"]]
    assert_problem(client.get("/api/v1/loans?status=gone"), 422, "VALIDATION_FAILED")
    assert_problem(client.get("/api/v1/loans?member_id=nobody"), 404, "MEMBER_NOT_FOUND")


def test_an_overdue_loan_shows_its_accruing_fine_and_is_charged_on_return(
    client: FlaskClient, clock: ManualClock
) -> None:
    member = register(client)
    loan = borrow(client, member, add_book(client, 0))
    clock.advance(timedelta(days=24))  # three started days late

    read = client.get(f"/api/v1/loans/{loan['id']}").get_json()
    returned = client.post(f"/api/v1/loans/{loan['id']}/return")

    assert (read["status"], read["fine_cents"]) == ("overdue", 75)
    assert returned.status_code == 200
    body = returned.get_json()
    assert (body["status"], body["fine_cents"]) == ("returned", 75)
    assert body["returned_at"] == "2030-01-25T09:00:00Z"
    again = client.post(f"/api/v1/loans/{loan['id']}/return")
    assert_problem(again, 409, "LOAN_ALREADY_RETURNED")


def test_a_loan_is_renewed_until_the_limit(client: FlaskClient) -> None:
    loan = borrow(client, register(client), add_book(client, 0))

    first = client.post(f"/api/v1/loans/{loan['id']}/renewals")
    client.post(f"/api/v1/loans/{loan['id']}/renewals")
    third = client.post(f"/api/v1/loans/{loan['id']}/renewals")

    assert first.status_code == 200
    assert first.get_json()["renewals"] == 1
    assert first.get_json()["due_at"] == "2030-02-12T23:59:59Z"
    assert_problem(third, 409, "RENEWAL_LIMIT_REACHED")


def test_unknown_loans_are_404(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/loans/nope"), 404, "LOAN_NOT_FOUND")
    assert_problem(client.post("/api/v1/loans/nope/return"), 404, "LOAN_NOT_FOUND")
    assert_problem(client.post("/api/v1/loans/nope/renewals"), 404, "LOAN_NOT_FOUND")


def test_an_unknown_field_in_the_loan_body_is_refused(client: FlaskClient) -> None:
    response = client.post("/api/v1/loans", json={"member_id": "m", "book_id": "b", "due": "1"})

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert ("body", "due") in field_errors(body)


def test_renew_all_answers_per_loan(client: FlaskClient) -> None:
    member = register(client)
    free, wanted = add_book(client, 1), add_book(client, 2)
    kept = borrow(client, member, free)
    held = borrow(client, member, wanted)
    client.post(
        "/api/v1/holds", json={"member_id": register(client)["id"], "book_id": wanted["id"]}
    )

    response = client.post(f"/api/v1/members/{member['id']}/renewals")

    assert response.status_code == 200
    items = {item["loan"]["id"]: item for item in response.get_json()["items"]}
    assert items[kept["id"]]["renewed"] is True
    assert items[kept["id"]]["loan"]["renewals"] == 1
    assert (items[held["id"]]["renewed"], items[held["id"]]["code"]) == (
        False,
        "RENEWAL_BLOCKED_BY_HOLD",
    )
