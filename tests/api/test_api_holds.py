"""Holds: queueing for a book, the queue position, cancelling."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.support import add_book, assert_problem, borrow, register


def test_holds_queue_in_order_and_show_their_position(client: FlaskClient) -> None:
    book = add_book(client, 0)
    borrow(client, register(client), book)
    first, second = register(client), register(client)

    placed = client.post("/api/v1/holds", json={"member_id": first["id"], "book_id": book["id"]})
    behind = client.post("/api/v1/holds", json={"member_id": second["id"], "book_id": book["id"]})

    assert placed.status_code == 201
    assert placed.get_json()["position"] == 1
    assert behind.get_json()["position"] == 2
    assert placed.headers["Location"].endswith(f"/api/v1/holds/{placed.get_json()['id']}")
    read = client.get(f"/api/v1/holds/{behind.get_json()['id']}")
    assert read.get_json()["position"] == 2
    # The new hold's tag is the one a read gives it, as long as nothing has changed it.
    assert read.headers["ETag"] == behind.headers["ETag"]


def test_a_hold_on_a_book_on_the_shelf_is_ready_at_once(client: FlaskClient) -> None:
    book = add_book(client, 0)
    member = register(client)

    hold = client.post("/api/v1/holds", json={"member_id": member["id"], "book_id": book["id"]})

    body = hold.get_json()
    assert body["status"] == "ready"
    assert body["position"] is None
    assert body["pickup_by"] == "2030-01-08T09:00:00Z"


def test_cancelling_moves_the_queue_up(client: FlaskClient) -> None:
    book = add_book(client, 0)
    borrow(client, register(client), book)
    first = client.post(
        "/api/v1/holds", json={"member_id": register(client)["id"], "book_id": book["id"]}
    ).get_json()
    second = client.post(
        "/api/v1/holds", json={"member_id": register(client)["id"], "book_id": book["id"]}
    ).get_json()

    response = client.delete(f"/api/v1/holds/{first['id']}")

    assert response.status_code == 204
    assert client.get(f"/api/v1/holds/{first['id']}").get_json()["status"] == "cancelled"
    assert client.get(f"/api/v1/holds/{second['id']}").get_json()["position"] == 1
    assert_problem(client.delete(f"/api/v1/holds/{first['id']}"), 409, "HOLD_NOT_ACTIVE")


def test_holds_are_listed_with_filters(client: FlaskClient) -> None:
    book, other = add_book(client, 0), add_book(client, 1)
    member = register(client)
    on_book = client.post("/api/v1/holds", json={"member_id": member["id"], "book_id": book["id"]})
    client.post("/api/v1/holds", json={"member_id": member["id"], "book_id": other["id"]})

    mine = client.get(f"/api/v1/holds?member_id={member['id']}").get_json()
    for_book = client.get(f"/api/v1/holds?book_id={book['id']}&status=ready").get_json()
    cancelled = client.get("/api/v1/holds?status=cancelled").get_json()

    assert mine["total"] == 2
    assert [h["id"] for h in for_book["items"]] == [on_book.get_json()["id"]]
    assert cancelled["total"] == 0
    # Every representation of a hold says where it stands in its queue.
    assert [h["position"] for h in mine["items"]] == [None, None]  # both ready at once


def test_hold_refusals(client: FlaskClient) -> None:
    book = add_book(client, 0)
    member = register(client)
    client.post("/api/v1/holds", json={"member_id": member["id"], "book_id": book["id"]})

    twice = client.post("/api/v1/holds", json={"member_id": member["id"], "book_id": book["id"]})
    no_book = client.post("/api/v1/holds", json={"member_id": member["id"], "book_id": "none"})
    nobody = client.post("/api/v1/holds", json={"member_id": "nobody", "book_id": book["id"]})

    assert_problem(twice, 409, "HOLD_ALREADY_PLACED")
    assert_problem(no_book, 404, "BOOK_NOT_FOUND")
    assert_problem(nobody, 404, "MEMBER_NOT_FOUND")
    assert_problem(client.get("/api/v1/holds/nope"), 404, "HOLD_NOT_FOUND")
    assert_problem(client.delete("/api/v1/holds/nope"), 404, "HOLD_NOT_FOUND")
    assert_problem(client.get("/api/v1/holds?member_id=nobody"), 404, "MEMBER_NOT_FOUND")


def test_a_suspended_hold_keeps_its_place_but_is_passed_over(client: FlaskClient) -> None:
    book = add_book(client, 0)
    loan = borrow(client, register(client), book)
    first = client.post(
        "/api/v1/holds", json={"member_id": register(client)["id"], "book_id": book["id"]}
    ).get_json()
    second = client.post(
        "/api/v1/holds", json={"member_id": register(client)["id"], "book_id": book["id"]}
    ).get_json()

    suspended = client.patch(f"/api/v1/holds/{first['id']}", json={"suspended": True})
    assert suspended.status_code == 200
    assert (suspended.get_json()["suspended"], suspended.get_json()["position"]) == (True, 1)
    listed = client.get(f"/api/v1/holds?book_id={book['id']}").get_json()["items"]
    assert [(h["id"], h["position"]) for h in listed] == [(first["id"], 1), (second["id"], 2)]

    client.post(f"/api/v1/loans/{loan['id']}/return")

    assert client.get(f"/api/v1/holds/{second['id']}").get_json()["status"] == "ready"
    resumed = client.patch(f"/api/v1/holds/{first['id']}", json={"suspended": False})
    assert (resumed.get_json()["suspended"], resumed.get_json()["position"]) == (False, 1)
    ready = client.get(f"/api/v1/holds/{second['id']}").get_json()
    assert_problem(
        client.patch(f"/api/v1/holds/{ready['id']}", json={"suspended": True}),
        409,
        "HOLD_NOT_ACTIVE",
    )


def test_a_hold_can_say_when_it_is_no_longer_needed(client: FlaskClient) -> None:
    book = add_book(client, 0)
    borrow(client, register(client), book)
    placed = client.post(
        "/api/v1/holds",
        json={
            "member_id": register(client)["id"],
            "book_id": book["id"],
            "not_needed_after": "2030-01-10",
        },
    )
    assert placed.get_json()["not_needed_after"] == "2030-01-10"
    changed = client.patch(
        f"/api/v1/holds/{placed.get_json()['id']}", json={"not_needed_after": None}
    )
    assert changed.get_json()["not_needed_after"] is None


def test_staff_reorder_a_queue(client: FlaskClient) -> None:
    book = add_book(client, 0)
    borrow(client, register(client), book)
    placed = [
        client.post(
            "/api/v1/holds", json={"member_id": register(client)["id"], "book_id": book["id"]}
        ).get_json()
        for _ in range(3)
    ]

    moved = client.put(f"/api/v1/holds/{placed[2]['id']}/position", json={"position": 1})

    assert moved.status_code == 200
    assert moved.get_json()["position"] == 1
    listed = client.get(f"/api/v1/holds?book_id={book['id']}").get_json()["items"]
    assert [h["id"] for h in listed] == [placed[2]["id"], placed[0]["id"], placed[1]["id"]]
    assert [h["position"] for h in listed] == [1, 2, 3]
    out_of_range = client.put(f"/api/v1/holds/{placed[0]['id']}/position", json={"position": 9})
    assert_problem(out_of_range, 422, "INVALID_VALUE")
