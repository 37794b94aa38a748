"""Member categories, item types and the rules matrix over HTTP."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.support import add_book, assert_problem, borrow, field_errors, register


def _dvd_library(client: FlaskClient) -> dict[str, str]:
    assert client.post("/api/v1/item-types", json={"code": "dvd", "name": "DVD"}).status_code == 201
    child = client.post(
        "/api/v1/member-categories", json={"code": "child", "name": "Child", "loan_limit": 3}
    )
    assert child.status_code == 201
    assert child.headers["Location"].endswith("/api/v1/member-categories/child")
    rule = client.post(
        "/api/v1/circulation-rules",
        json={"member_category": "any", "item_type": "dvd", "loan_days": 7, "max_loans": 2},
    )
    assert rule.status_code == 201
    return {"rule": rule.get_json()["id"]}


def test_a_fresh_install_lists_its_defaults(client: FlaskClient) -> None:
    categories = client.get("/api/v1/member-categories").get_json()
    types = client.get("/api/v1/item-types").get_json()
    rules = client.get("/api/v1/circulation-rules").get_json()

    assert [c["code"] for c in categories["items"]] == ["standard"]
    assert [t["code"] for t in types["items"]] == ["book"]
    assert rules["total"] == 1
    default = rules["items"][0]
    assert (default["id"], default["member_category"], default["item_type"]) == (
        "default",
        "any",
        "any",
    )
    assert default["loan_days"] == 21  # CIRCULATE_LOAN_PERIOD_DAYS


def test_a_dvd_goes_out_for_its_rule_and_resolve_says_why(client: FlaskClient) -> None:
    made = _dvd_library(client)
    book = add_book(client, 1)
    copy_id = client.get(f"/api/v1/books/{book['id']}/copies").get_json()["items"][0]["id"]
    assert (
        client.put(f"/api/v1/copies/{copy_id}/item-type", json={"item_type": "dvd"}).status_code
        == 204
    )
    member = register(client)

    explained = client.get(
        f"/api/v1/circulation-rules/resolve?member_id={member['id']}&copy_id={copy_id}"
    )
    body = explained.get_json()
    assert explained.status_code == 200
    assert (body["member_category"], body["item_type"]) == ("standard", "dvd")
    assert body["rule"]["id"] == made["rule"]
    assert body["candidates"] == [made["rule"], "default"]
    assert "most specific" in body["reason"]

    loan = borrow(client, member, book)
    assert loan["due_at"] == "2030-01-08T23:59:59Z"  # seven days, not 21
    assert client.get(f"/api/v1/copies/{copy_id}").get_json()["item_type"] == "dvd"


def test_changing_a_rule_keeps_loans_due_when_they_were(client: FlaskClient) -> None:
    made = _dvd_library(client)
    book = add_book(client, 1)
    assert (
        client.put(f"/api/v1/books/{book['id']}/item-type", json={"item_type": "dvd"}).status_code
        == 204
    )
    assert client.get(f"/api/v1/books/{book['id']}").get_json()["item_type"] == "dvd"
    copy_id = client.get(f"/api/v1/books/{book['id']}/copies").get_json()["items"][0]["id"]
    client.put(f"/api/v1/copies/{copy_id}/item-type", json={"item_type": "dvd"})
    loan = borrow(client, register(client), book)

    etag = client.get(f"/api/v1/circulation-rules/{made['rule']}").headers["ETag"]
    changed = client.patch(
        f"/api/v1/circulation-rules/{made['rule']}",
        json={"loan_days": 2},
        headers={"If-Match": etag},
    )
    stale = client.patch(
        f"/api/v1/circulation-rules/{made['rule']}",
        json={"loan_days": 3},
        headers={"If-Match": etag},
    )

    assert changed.status_code == 200
    assert changed.get_json()["loan_days"] == 2
    assert_problem(stale, 412, "VERSION_MISMATCH")
    assert client.get(f"/api/v1/loans/{loan['id']}").get_json()["due_at"] == loan["due_at"]


def test_refusals_carry_their_codes(client: FlaskClient) -> None:
    made = _dvd_library(client)
    assert_problem(
        client.post(
            "/api/v1/circulation-rules", json={"member_category": "any", "item_type": "dvd"}
        ),
        409,
        "CIRCULATION_RULE_CONFLICT",
    )
    assert_problem(
        client.post("/api/v1/circulation-rules", json={"member_category": "x", "item_type": "any"}),
        404,
        "MEMBER_CATEGORY_NOT_FOUND",
    )
    assert_problem(
        client.post("/api/v1/item-types", json={"code": "dvd", "name": "Again"}),
        409,
        "CODE_ALREADY_EXISTS",
    )
    contradictory = client.patch(
        f"/api/v1/circulation-rules/{made['rule']}", json={"holds_allowed": False, "max_holds": 3}
    )
    assert_problem(contradictory, 422, "INVALID_VALUE")
    assert_problem(
        client.delete("/api/v1/circulation-rules/default"), 409, "CIRCULATION_RULE_CONFLICT"
    )
    assert_problem(
        client.delete("/api/v1/member-categories/standard"), 409, "CIRCULATION_RULE_CONFLICT"
    )
    assert_problem(client.get("/api/v1/circulation-rules/nope"), 404, "CIRCULATION_RULE_NOT_FOUND")
    wrong = client.post(
        "/api/v1/circulation-rules",
        json={"member_category": "any", "item_type": "any", "loan_days": "7"},
    )
    assert ("body", "loan_days") in {
        (where, field) for where, field in field_errors(wrong.get_json())
    }


def test_a_member_moved_to_a_category_borrows_within_its_limit(client: FlaskClient) -> None:
    client.post(
        "/api/v1/member-categories", json={"code": "child", "name": "Child", "loan_limit": 1}
    )
    member = register(client)
    assert (
        client.put(
            f"/api/v1/members/{member['id']}/category", json={"category": "child"}
        ).status_code
        == 204
    )
    assert client.get(f"/api/v1/members/{member['id']}").get_json()["category"] == "child"
    borrow(client, member, add_book(client, 1))

    refused = client.post(
        "/api/v1/loans", json={"member_id": member["id"], "book_id": add_book(client, 2)["id"]}
    )

    assert_problem(refused, 409, "LOAN_LIMIT_REACHED")
    retired = client.delete("/api/v1/member-categories/child")
    assert retired.status_code == 204
    assert client.get("/api/v1/member-categories/child").get_json()["retired_at"] is not None
    assert_problem(
        client.put(
            f"/api/v1/members/{register(client)['id']}/category", json={"category": "child"}
        ),
        409,
        "MEMBER_CATEGORY_RETIRED",
    )


def test_closed_days_move_due_dates_and_are_listed(client: FlaskClient) -> None:
    # The test library lends at 2030-01-01 09:00 UTC (a Tuesday); 21 days on is Tuesday 22.
    christmas = client.post("/api/v1/closures", json={"date": "2030-01-22", "note": "Inventory"})
    tuesdays_too = client.post("/api/v1/closures", json={"weekday": "wednesday"})
    assert christmas.status_code == 201
    assert tuesdays_too.get_json()["weekday"] == "wednesday"
    listed = client.get("/api/v1/closures").get_json()["items"]
    assert [(c["date"], c["weekday"]) for c in listed] == [
        (None, "wednesday"),
        ("2030-01-22", None),
    ]

    loan = borrow(client, register(client), add_book(client, 1))

    assert loan["due_at"] == "2030-01-24T23:59:59Z"  # Tuesday closed, Wednesday closed
    assert_problem(
        client.post("/api/v1/closures", json={"weekday": "wednesday"}),
        409,
        "CIRCULATION_RULE_CONFLICT",
    )
    assert client.delete(f"/api/v1/closures/{christmas.get_json()['id']}").status_code == 204
    wrong = client.post("/api/v1/closures", json={"date": "2030-01-22", "weekday": "monday"})
    assert wrong.status_code == 422
