"""Members: registration, changes, removal, and their loans, holds and account."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from adapters.clock import ManualClock
from tests.api.support import Users, add_book, assert_problem, borrow, field_errors, register


def test_a_member_is_registered_and_read_back_without_secrets(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/members",
        json={"email": "Ada@Example.org", "name": "Ada Lovelace", "password": "correct horse 1"},
    )

    assert response.status_code == 201
    member = response.get_json()
    assert member["email"] == "ada@example.org"
    assert member["role"] == "member"
    assert member["status"] == "active"
    assert member["membership_expires_at"] == "2031-01-01T09:00:00Z"
    read = client.get(response.headers["Location"])
    assert read.get_json()["has_password"] is True  # whether one is set, never what it is
    text = read.get_data(as_text=True)
    assert "correct horse" not in text
    assert "argon2" not in text
    assert [key for key in read.get_json() if "password" in key] == ["has_password"]


def test_an_expiry_in_another_offset_is_stored_in_utc(client: FlaskClient) -> None:
    member = register(client, membership_expires_at="2031-06-01T12:00:00+02:00")

    assert member["membership_expires_at"] == "2031-06-01T10:00:00Z"


def test_registration_refusals(client: FlaskClient) -> None:
    register(client, email="taken@example.org")

    taken = client.post("/api/v1/members", json={"email": "TAKEN@example.org", "name": "B"})
    short = client.post(
        "/api/v1/members", json={"email": "x@example.org", "name": "B", "password": "short"}
    )
    naive = client.post(
        "/api/v1/members",
        json={"email": "y@example.org", "name": "B", "membership_expires_at": "2031-01-01T00:00"},
    )

    assert_problem(taken, 409, "EMAIL_ALREADY_REGISTERED")
    assert field_errors(assert_problem(short, 422, "VALIDATION_FAILED")) == {("body", "password")}
    assert field_errors(assert_problem(naive, 422, "VALIDATION_FAILED")) == {
        ("body", "membership_expires_at")
    }


def test_members_are_listed_and_filtered(client: FlaskClient) -> None:
    ada = register(client, name="Ada Lovelace")
    register(client, name="Grace Hopper", role="librarian")

    everyone = client.get("/api/v1/members").get_json()
    found = client.get("/api/v1/members?q=lovelace").get_json()
    staff = client.get("/api/v1/members?role=librarian").get_json()

    assert everyone["total"] == 2
    assert [m["id"] for m in found["items"]] == [ada["id"]]
    assert [m["name"] for m in staff["items"]] == ["Grace Hopper"]


def test_me_needs_an_authenticated_caller(anonymous: FlaskClient) -> None:
    response = anonymous.get("/api/v1/members/me")

    assert_problem(response, 401, "AUTHENTICATION_REQUIRED")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="circulate"'
    assert_problem(anonymous.delete("/api/v1/members/me"), 405, "METHOD_NOT_ALLOWED")


def test_me_is_the_signed_in_member(client: FlaskClient, users: Users) -> None:
    response = client.get("/api/v1/members/me", headers=users.ada.headers)

    assert response.status_code == 200
    assert response.get_json()["id"] == users.ada.id
    assert response.get_json()["email"] == "ada@example.org"


def test_an_integration_is_not_a_member(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/members/me"), 404, "MEMBER_NOT_FOUND")


def test_patch_changes_fields_role_and_status_at_once(client: FlaskClient) -> None:
    member = register(client)

    response = client.patch(
        f"/api/v1/members/{member['id']}",
        json={"name": "New Name", "role": "librarian", "status": "suspended"},
    )

    changed = response.get_json()
    assert response.status_code == 200
    assert (changed["name"], changed["role"], changed["status"]) == (
        "New Name",
        "librarian",
        "suspended",
    )
    assert changed["version"] == 2
    reactivated = client.patch(f"/api/v1/members/{member['id']}", json={"status": "active"})
    assert reactivated.get_json()["status"] == "active"


def test_patch_refusals(client: FlaskClient) -> None:
    register(client, email="first@example.org")
    member = register(client)

    taken = client.patch(f"/api/v1/members/{member['id']}", json={"email": "first@example.org"})
    null = client.patch(f"/api/v1/members/{member['id']}", json={"email": None})
    missing = client.patch("/api/v1/members/nobody", json={"name": "X"})

    assert_problem(taken, 409, "EMAIL_ALREADY_REGISTERED")
    assert field_errors(assert_problem(null, 422, "VALIDATION_FAILED")) == {("body", "email")}
    assert_problem(missing, 404, "MEMBER_NOT_FOUND")


def test_a_member_with_a_loan_or_debt_is_not_removed(
    client: FlaskClient, clock: ManualClock
) -> None:
    member = register(client)
    loan = borrow(client, member, add_book(client, 0))

    assert_problem(client.delete(f"/api/v1/members/{member['id']}"), 409, "MEMBER_HAS_OPEN_LOANS")
    clock.advance(timedelta(days=30))
    client.post(f"/api/v1/loans/{loan['id']}/return")
    assert_problem(client.delete(f"/api/v1/members/{member['id']}"), 409, "MEMBER_HAS_DEBT")
    owed = client.get(f"/api/v1/members/{member['id']}/account").get_json()["balance_cents"]
    client.post(f"/api/v1/members/{member['id']}/payments", json={"amount_cents": owed})

    response = client.delete(f"/api/v1/members/{member['id']}")

    assert response.status_code == 204
    assert client.get(f"/api/v1/members/{member['id']}").get_json()["status"] == "anonymised"
    account = client.get(f"/api/v1/members/{member['id']}/account").get_json()
    totals = account["totals"]
    assert (totals["charges_cents"], totals["payments_cents"], account["balance_cents"]) == (
        owed,
        owed,
        0,
    )


def test_a_members_loans_and_holds_are_listed(client: FlaskClient) -> None:
    member = register(client)
    loan = borrow(client, member, add_book(client, 0))
    wanted = add_book(client, 1)
    borrow(client, register(client), wanted)
    hold = client.post("/api/v1/holds", json={"member_id": member["id"], "book_id": wanted["id"]})

    loans = client.get(f"/api/v1/members/{member['id']}/loans").get_json()
    open_loans = client.get(f"/api/v1/members/{member['id']}/loans?status=open").get_json()
    returned = client.get(f"/api/v1/members/{member['id']}/loans?status=returned").get_json()
    holds = client.get(f"/api/v1/members/{member['id']}/holds?status=waiting").get_json()

    assert [item["id"] for item in loans["items"]] == [loan["id"]]
    assert open_loans["total"] == 1
    assert returned["total"] == 0
    assert [item["id"] for item in holds["items"]] == [hold.get_json()["id"]]
    assert_problem(client.get("/api/v1/members/nobody/loans"), 404, "MEMBER_NOT_FOUND")
    assert_problem(client.get("/api/v1/members/nobody/holds"), 404, "MEMBER_NOT_FOUND")


def test_the_account_shows_fines_accruing_and_payments(
    client: FlaskClient, clock: ManualClock
) -> None:
    member = register(client)
    first = borrow(client, member, add_book(client, 0))
    second = borrow(client, member, add_book(client, 1))
    clock.advance(timedelta(days=23))  # both two days late: 50 cents each so far
    client.post(f"/api/v1/loans/{first['id']}/return")

    account = client.get(f"/api/v1/members/{member['id']}/account")

    body = account.get_json()
    assert body["totals"]["charges_cents"] == 50
    assert body["accruing"] == [{"loan_id": second["id"], "amount_cents": 50}]
    assert (body["balance_cents"], body["accruing_cents"], body["owed_cents"]) == (50, 50, 100)
    assert account.headers["ETag"]
    paid = client.post(
        f"/api/v1/members/{member['id']}/payments", json={"amount_cents": 30, "note": "cash"}
    )
    assert paid.status_code == 201
    assert paid.get_json()["kind"] == "payment"
    assert paid.headers["Location"].endswith(f"/api/v1/members/{member['id']}/account")
    after = client.get(f"/api/v1/members/{member['id']}/account").get_json()
    assert after["balance_cents"] == 20
    assert after["totals"]["payments_cents"] == 30
    assert [e["kind"] for e in after["entries"]] == ["charge", "payment"]
    assert [e["remaining_cents"] for e in after["entries"]] == [20, None]


def test_payment_refusals(client: FlaskClient) -> None:
    member = register(client)

    too_much = client.post(f"/api/v1/members/{member['id']}/payments", json={"amount_cents": 1})
    zero = client.post(f"/api/v1/members/{member['id']}/payments", json={"amount_cents": 0})
    text = client.post(f"/api/v1/members/{member['id']}/payments", json={"amount_cents": "5"})
    nobody = client.post("/api/v1/members/nobody/payments", json={"amount_cents": 5})

    assert_problem(too_much, 409, "PAYMENT_EXCEEDS_BALANCE")
    assert field_errors(assert_problem(zero, 422, "VALIDATION_FAILED")) == {
        ("body", "amount_cents")
    }
    assert field_errors(assert_problem(text, 422, "VALIDATION_FAILED")) == {
        ("body", "amount_cents")
    }
    assert_problem(nobody, 404, "MEMBER_NOT_FOUND")
    assert_problem(client.get("/api/v1/members/nobody/account"), 404, "MEMBER_NOT_FOUND")
