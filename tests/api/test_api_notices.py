"""Notices over HTTP: their delivery state, by member and status."""

from __future__ import annotations

from flask.testing import FlaskClient

from entrypoints.container import Container
from tests.api.support import add_book, assert_problem, borrow, register


def test_a_hold_ready_notice_is_listed_pending_then_delivered(
    client: FlaskClient, container: Container
) -> None:
    book = add_book(client, 0)
    loan = borrow(client, register(client), book)
    waiting = register(client)
    client.post("/api/v1/holds", json={"member_id": waiting["id"], "book_id": book["id"]})
    assert client.post(f"/api/v1/loans/{loan['id']}/return").status_code == 200

    pending = client.get(f"/api/v1/notices?member_id={waiting['id']}&status=pending").get_json()
    [notice] = pending["items"]
    assert (notice["topic"], notice["attempts"], notice["channel"]) == ("hold_ready", 0, "email")

    container.worker().tick()  # in memory mode notices go to the in-memory notifier

    delivered = client.get(f"/api/v1/notices?member_id={waiting['id']}").get_json()
    assert [(n["id"], n["status"], n["attempts"]) for n in delivered["items"]] == [
        (notice["id"], "delivered", 1)
    ]
    assert client.get("/api/v1/notices?status=pending").get_json()["total"] == 0
    [sent] = container.notifier().sent
    assert sent.to == waiting["email"]


def test_an_unknown_member_or_status_is_refused(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/notices?member_id=nobody"), 404, "MEMBER_NOT_FOUND")
    assert_problem(client.get("/api/v1/notices?status=lost"), 422, "VALIDATION_FAILED")
