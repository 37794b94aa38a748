"""Money over HTTP: manual charges, waivers, cancellations, refunds, and the lost-item routes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from adapters.clock import ManualClock
from entrypoints.container import Container
from tests.api.support import add_book, assert_problem, borrow, field_errors, register


@pytest.fixture
def fees(client: FlaskClient) -> None:
    """Lost items cost 25.00 to replace and 5.00 to process (the default rule)."""
    rules = client.get("/api/v1/circulation-rules").get_json()["items"]
    default = next(r for r in rules if r["member_category"] == "any" and r["item_type"] == "any")
    changed = client.patch(
        f"/api/v1/circulation-rules/{default['id']}",
        json={"replacement_fee_cents": 2500, "processing_fee_cents": 500},
    )
    assert changed.status_code == 200, changed.get_json()


def account(client: FlaskClient, member: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/v1/members/{member['id']}/account").get_json()
    return body


def post(client: FlaskClient, url: str, body: dict[str, Any], status: int = 201) -> Any:
    response = client.post(url, json=body)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_charges_waivers_cancellations_and_refunds(client: FlaskClient) -> None:
    member = register(client)
    base = f"/api/v1/members/{member['id']}"
    charge = post(client, f"{base}/charges", {"amount_cents": 400, "note": "damaged cover"})
    other = post(client, f"{base}/charges", {"amount_cents": 100, "note": "lost card"})
    assert (charge["kind"], charge["charge_type"], charge["remaining_cents"]) == (
        "charge",
        "manual",
        400,
    )

    waiver = post(
        client, f"{base}/charges/{charge['id']}/waivers", {"amount_cents": 150, "reason": "kind"}
    )
    payment = post(client, f"{base}/payments", {"amount_cents": 300})
    refund = post(
        client, f"{base}/payments/{payment['id']}/refunds", {"amount_cents": 50, "reason": "x"}
    )
    cancelled = post(
        client, f"{base}/charges/{other['id']}/cancellation", {"reason": "charged in error"}
    )

    assert waiver["allocations"] == [{"charge_id": charge["id"], "amount_cents": 150}]
    assert payment["allocations"] == [
        {"charge_id": charge["id"], "amount_cents": 250},
        {"charge_id": other["id"], "amount_cents": 50},
    ]
    assert refund["allocations"] == [{"charge_id": other["id"], "amount_cents": 50}]
    assert cancelled["amount_cents"] == 100
    body = account(client, member)
    assert body["balance_cents"] == 0
    assert body["totals"] == {
        "charges_cents": 500,
        "payments_cents": 300,
        "waived_cents": 150,
        "cancelled_cents": 100,
        "refunded_cents": 50,
    }
    assert [e["remaining_cents"] for e in body["entries"] if e["kind"] == "charge"] == [0, 0]


def test_money_refusals_are_problems_that_change_nothing(client: FlaskClient) -> None:
    member = register(client)
    base = f"/api/v1/members/{member['id']}"
    charge = post(client, f"{base}/charges", {"amount_cents": 100, "note": "damage"})
    before = account(client, member)

    refusals = [
        (client.post(f"{base}/charges/{charge['id']}/waivers", json={"reason": ""}), 422),
        (
            client.post(
                f"{base}/charges/{charge['id']}/waivers",
                json={"amount_cents": 101, "reason": "r"},
            ),
            409,
        ),
        (client.post(f"{base}/charges/nope/cancellation", json={"reason": "r"}), 404),
        (client.post(f"{base}/payments/nope/refunds", json={"reason": "r"}), 404),
        (client.post(f"{base}/payments", json={"amount_cents": 101}), 409),
        (
            client.post(f"{base}/payments", json={"amount_cents": 10, "charge_id": "nope"}),
            404,
        ),
        (
            client.post(f"{base}/charges", json={"amount_cents": 5, "note": "x", "kind": "lost"}),
            422,
        ),
    ]

    codes = [assert_problem(r, status, r.get_json()["code"])["code"] for r, status in refusals]
    assert codes == [
        "VALIDATION_FAILED",
        "AMOUNT_EXCEEDS_CHARGE",
        "CHARGE_NOT_FOUND",
        "PAYMENT_NOT_FOUND",
        "PAYMENT_EXCEEDS_BALANCE",
        "CHARGE_NOT_FOUND",
        "VALIDATION_FAILED",
    ]
    assert field_errors(refusals[0][0].get_json()) == {("body", "reason")}
    assert account(client, member) == before


def test_declare_lost_then_found(
    client: FlaskClient, clock: ManualClock, fees: None, container: Container
) -> None:
    ada, grace = register(client), register(client, email="grace@example.org")
    book = add_book(client, 0)
    loan = borrow(client, ada, book)
    hold = post(client, "/api/v1/holds", {"member_id": grace["id"], "book_id": book["id"]})
    clock.advance(timedelta(days=23))

    lost = post(client, f"/api/v1/loans/{loan['id']}/lost", {}, 200)

    assert (lost["loan"]["status"], lost["loan"]["fine_cents"]) == ("lost", 50)
    assert [(c["charge_type"], c["amount_cents"]) for c in lost["charges"]] == [
        ("overdue", 50),
        ("lost", 2500),
        ("processing", 500),
    ]
    assert client.get(f"/api/v1/copies/{loan['copy_id']}").get_json()["status"] == "lost"
    assert account(client, ada)["balance_cents"] == 3050
    assert_problem(client.post(f"/api/v1/loans/{loan['id']}/lost"), 409, "LOAN_ALREADY_RETURNED")
    assert client.get(f"/api/v1/holds/{hold['id']}").get_json()["status"] == "waiting"

    found = post(client, f"/api/v1/copies/{loan['copy_id']}/found", {}, 200)

    assert found["copy"]["status"] == "on_hold_shelf"
    assert (found["loan_id"], found["hold_id"], found["member_id"]) == (
        loan["id"],
        hold["id"],
        grace["id"],
    )
    assert (found["cancelled_cents"], found["refunded_cents"]) == (2500, 0)
    assert account(client, ada)["balance_cents"] == 550
    assert_problem(client.post(f"/api/v1/copies/{loan['copy_id']}/found"), 409, "COPY_NOT_LOST")
    assert container.library.lost_items() is not None


def test_claimed_returned_stops_the_fine(client: FlaskClient, clock: ManualClock) -> None:
    ada = register(client)
    loan = borrow(client, ada, add_book(client, 0))
    clock.advance(timedelta(days=22))

    claimed = post(client, f"/api/v1/loans/{loan['id']}/claimed-returned", {}, 200)
    clock.advance(timedelta(days=5))

    assert claimed["status"] == "claimed_returned"
    assert claimed["claimed_returned_at"] is not None
    assert client.get(f"/api/v1/loans/{loan['id']}").get_json()["fine_cents"] == 25
    listed = client.get("/api/v1/loans?status=claimed_returned").get_json()
    assert [item["id"] for item in listed["items"]] == [loan["id"]]
    assert_problem(
        client.post(f"/api/v1/loans/{loan['id']}/claimed-returned"), 409, "LOAN_CLAIMED_RETURNED"
    )
    assert_problem(client.post("/api/v1/loans/nope/lost"), 404, "LOAN_NOT_FOUND")
