"""The desk over HTTP: card numbers, barcodes, lending by scan and check-in by barcode."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapters.clock import ManualClock
from domain.access import Scope
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.support import Users, add_book, assert_problem, make_users, register


def scan_out(client: FlaskClient, member: dict[str, Any], barcode: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/loans", json={"card_number": member["card_number"], "barcode": barcode}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_members_get_a_card_number_and_are_found_by_it(client: FlaskClient) -> None:
    drawn = register(client)
    given = register(client, card_number="lib 0042-7")

    found = client.get("/api/v1/members", query_string={"card_number": "LIB00427"})
    taken = client.post(
        "/api/v1/members",
        json={"email": "x@example.org", "name": "X", "card_number": "LIB-00427"},
    )
    malformed = client.post(
        "/api/v1/members", json={"email": "y@example.org", "name": "Y", "card_number": "A/B"}
    )

    assert len(drawn["card_number"]) == 14
    assert drawn["card_number"].startswith("2")
    assert given["card_number"] == "LIB00427"
    assert [m["id"] for m in found.get_json()["items"]] == [given["id"]]
    assert assert_problem(taken, 409, "CARD_NUMBER_TAKEN")["details"]["card_number"] == "LIB00427"
    assert_problem(malformed, 422, "INVALID_VALUE")
    everyone = client.get("/api/v1/members").get_json()["items"]
    assert {m["email"] for m in everyone} == {drawn["email"], given["email"]}


def test_staff_change_a_card_number_and_members_may_not(client: FlaskClient, users: Users) -> None:
    ada = users.ada
    other = register(client, card_number="OTHER-1")

    own = client.application.test_client().patch(
        f"/api/v1/members/{ada.id}", json={"card_number": "MINE-0001"}, headers=ada.headers
    )
    clash = client.patch(f"/api/v1/members/{ada.id}", json={"card_number": "other1"})
    changed = client.patch(f"/api/v1/members/{ada.id}", json={"card_number": "new-0001"})

    assert_problem(own, 403, "INSUFFICIENT_SCOPE")
    assert_problem(clash, 409, "CARD_NUMBER_TAKEN")
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["card_number"] == "NEW0001"
    assert client.get(f"/api/v1/members/{other['id']}").get_json()["card_number"] == "OTHER1"


def test_a_copy_is_found_by_barcode_with_its_title_status_and_loan(client: FlaskClient) -> None:
    book = add_book(client, 0, copies=2, title="Scanned")
    member = register(client)
    loan = scan_out(client, member, "B0-0")

    lent = client.get("/api/v1/copies", query_string={"barcode": "B0-0"})
    shelved = client.get("/api/v1/copies", query_string={"barcode": "B0-1"})
    unknown = client.get("/api/v1/copies", query_string={"barcode": "NOPE"})
    missing = client.get("/api/v1/copies")

    assert lent.status_code == 200
    assert lent.get_json() | {"loan": None} == shelved.get_json() | {
        "id": lent.get_json()["id"],
        "barcode": "B0-0",
        "status": "on_loan",
        "version": lent.get_json()["version"],
        "updated_at": lent.get_json()["updated_at"],
        "loan": None,
    }
    assert lent.get_json()["title"] == "Scanned"
    assert lent.get_json()["book_id"] == book["id"]
    assert lent.get_json()["loan"]["id"] == loan["id"]
    assert shelved.get_json()["status"] == "available"
    assert shelved.get_json()["loan"] is None
    assert_problem(unknown, 404, "COPY_NOT_FOUND")
    assert_problem(missing, 422, "VALIDATION_FAILED")


def test_members_may_not_look_copies_up_at_the_desk(app: Flask, users: Users) -> None:
    response = app.test_client().get(
        "/api/v1/copies", query_string={"barcode": "B0-0"}, headers=users.ada.headers
    )
    assert_problem(response, 403, "INSUFFICIENT_SCOPE")


def test_loans_are_listed_by_copy_id_or_barcode(client: FlaskClient) -> None:
    add_book(client, 0, copies=2)
    first = scan_out(client, register(client), "B0-0")
    scan_out(client, register(client), "B0-1")

    by_id = client.get("/api/v1/loans", query_string={"copy_id": first["copy_id"]})
    by_barcode = client.get("/api/v1/loans", query_string={"barcode": "B0-0"})
    both = client.get(
        "/api/v1/loans", query_string={"barcode": "B0-0", "copy_id": first["copy_id"]}
    )

    assert [x["id"] for x in by_id.get_json()["items"]] == [first["id"]]
    assert by_barcode.get_json()["items"] == by_id.get_json()["items"]
    assert_problem(both, 422, "VALIDATION_FAILED")


def test_lending_needs_exactly_one_member_and_one_copy_reference(client: FlaskClient) -> None:
    book = add_book(client, 0)
    member = register(client)

    attempts = [
        {"barcode": "B0-0"},
        {"member_id": member["id"], "card_number": member["card_number"], "barcode": "B0-0"},
        {"card_number": member["card_number"]},
        {"card_number": member["card_number"], "barcode": "B0-0", "book_id": book["id"]},
        {"card_number": member["card_number"], "barcode": None},
    ]
    for body in attempts:
        assert_problem(client.post("/api/v1/loans", json=body), 422, "VALIDATION_FAILED")
    unknown_card = client.post("/api/v1/loans", json={"card_number": "NOCARD1", "barcode": "B0-0"})
    unknown_copy = client.post(
        "/api/v1/loans", json={"card_number": member["card_number"], "barcode": "NOPE"}
    )

    assert_problem(unknown_card, 404, "MEMBER_NOT_FOUND")
    assert_problem(unknown_copy, 404, "COPY_NOT_FOUND")
    assert client.get("/api/v1/loans").get_json()["total"] == 0


def test_members_borrow_the_copy_in_hand_for_themselves_only(
    client: FlaskClient, users: Users
) -> None:
    book = add_book(client, 0, copies=2)
    ada = users.ada
    cards = {
        name: client.get(f"/api/v1/members/{users[name].id}").get_json()["card_number"]
        for name in ("ada", "grace")
    }
    as_ada = client.application.test_client()
    as_ada.environ_base["HTTP_AUTHORIZATION"] = ada.headers["Authorization"]

    by_book = as_ada.post("/api/v1/loans", json={"member_id": ada.id, "book_id": book["id"]})
    for_grace = as_ada.post(
        "/api/v1/loans", json={"card_number": cards["grace"], "barcode": "B0-0"}
    )
    own = as_ada.post("/api/v1/loans", json={"card_number": cards["ada"], "barcode": "B0-0"})

    assert_problem(by_book, 403, "INSUFFICIENT_SCOPE")
    hidden = assert_problem(for_grace, 404, "MEMBER_NOT_FOUND")
    assert users.grace.id not in hidden["message"]
    assert own.status_code == 201, own.get_json()
    assert own.get_json()["member_id"] == ada.id


def test_self_service_by_book_is_a_setting(container: Container) -> None:
    container.settings.override(
        Settings(storage="memory", environment="test", self_service_by_book=True)
    )
    app = create_app(container=container)
    staff = app.test_client()
    key = container.identity.api_keys().create("desk", frozenset({Scope.BOOKS_WRITE}))
    staff.environ_base["HTTP_AUTHORIZATION"] = f"ApiKey {key.plaintext}"
    book = add_book(staff, 0)
    ada = make_users(container).ada

    response = app.test_client().post(
        "/api/v1/loans", json={"member_id": ada.id, "book_id": book["id"]}, headers=ada.headers
    )

    assert response.status_code == 201, response.get_json()


def test_check_in_says_shelf_or_hold_shelf_for_a_named_member(
    client: FlaskClient, clock: ManualClock
) -> None:
    book = add_book(client, 0, copies=2)
    ada, grace = register(client), register(client, name="Grace Hopper")
    late = scan_out(client, ada, "B0-0")
    scan_out(client, ada, "B0-1")
    hold = client.post("/api/v1/holds", json={"member_id": grace["id"], "book_id": book["id"]})
    assert hold.status_code == 201, hold.get_json()
    clock.advance(timedelta(days=23))  # two days late

    first = client.post("/api/v1/returns", json={"barcode": "B0-0"})
    second = client.post("/api/v1/returns", json={"barcode": "B0-1"})

    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["loan"]["id"] == late["id"]
    assert body["loan"]["status"] == "returned"
    assert body["loan"]["fine_cents"] == 50
    assert body["destination"] == "hold_shelf"
    assert body["hold"] == {
        "id": hold.get_json()["id"],
        "member_id": grace["id"],
        "member_name": "Grace Hopper",
        "card_number": grace["card_number"],
        "pickup_by": client.get(f"/api/v1/holds/{hold.get_json()['id']}").get_json()["pickup_by"],
    }
    assert second.get_json()["destination"] == "shelf"
    assert second.get_json()["hold"] is None


def test_check_in_of_a_copy_on_no_loan_is_refused(client: FlaskClient) -> None:
    add_book(client, 0)

    free = client.post("/api/v1/returns", json={"barcode": "B0-0"})
    unknown = client.post("/api/v1/returns", json={"barcode": "NOPE"})
    extra = client.post("/api/v1/returns", json={"barcode": "B0-0", "copy_id": "x"})

    body = assert_problem(free, 409, "NO_OPEN_LOAN")
    assert body["details"]["status"] == "available"
    assert_problem(unknown, 404, "COPY_NOT_FOUND")
    assert_problem(extra, 422, "VALIDATION_FAILED")


def test_check_in_replays_under_the_same_idempotency_key(client: FlaskClient) -> None:
    add_book(client, 0)
    scan_out(client, register(client), "B0-0")
    headers = {"Idempotency-Key": "check-in-1"}

    first = client.post("/api/v1/returns", json={"barcode": "B0-0"}, headers=headers)
    again = client.post("/api/v1/returns", json={"barcode": "B0-0"}, headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("route", ["/api/v1/returns"])
def test_members_may_not_check_in(app: Flask, users: Users, route: str) -> None:
    response = app.test_client().post(route, json={"barcode": "B0-0"}, headers=users.ada.headers)
    assert_problem(response, 403, "INSUFFICIENT_SCOPE")
