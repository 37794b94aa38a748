"""``GET /api/v1/audit-events`` and the attribution of each request's changes to its caller;
``DELETE /api/v1/members/{id}`` anonymising."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from domain.access import Scope
from entrypoints.container import Container
from tests.api.support import Users, add_book, assert_problem, borrow, field_errors, register

AUDIT = "/api/v1/audit-events"


def audit(client: FlaskClient, **query: str) -> list[dict[str, Any]]:
    response = client.get(AUDIT, query_string=query)
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def test_a_change_records_its_caller_and_request(
    anonymous: FlaskClient, client: FlaskClient, users: Users
) -> None:
    book = add_book(client)
    response = anonymous.post(
        "/api/v1/loans",
        json={"member_id": users.ada.id, "book_id": book["id"]},
        headers={**users.librarian.headers, "X-Request-ID": "desk-42"},
    )
    assert response.status_code == 201, response.get_json()
    loan = response.get_json()

    [lent] = audit(client, entity_type="loan", entity_id=loan["id"])
    assert lent["actor"] == f"member:{users.librarian.id}"
    assert lent["action"] == "book_lent"
    assert lent["request_id"] == "desk-42"
    assert lent["details"] == {
        "loan_id": loan["id"],
        "copy_id": loan["copy_id"],
        "member_id": users.ada.id,
    }


def test_an_api_key_is_named_as_the_actor(client: FlaskClient, container: Container) -> None:
    created = container.identity.api_keys().create("desk terminal", [Scope.MEMBERS_WRITE])
    member = register(client)
    response = client.patch(
        f"/api/v1/members/{member['id']}",
        json={"status": "suspended"},
        headers={"Authorization": f"ApiKey {created.plaintext}"},
    )
    assert response.status_code == 200, response.get_json()
    [suspended] = audit(client, action="member_status_changed")
    assert suspended["actor"] == f"api_key:{created.key.id}"
    assert suspended["details"] == {"member_id": member["id"], "status": "suspended"}


def test_filters_and_paging(client: FlaskClient) -> None:
    members = [register(client) for _ in range(3)]
    everything = audit(client, action="member_registered")
    assert [e["entity_id"] for e in everything] == [m["id"] for m in reversed(members)]

    response = client.get(AUDIT, query_string={"action": "member_registered", "per_page": 2})
    body = response.get_json()
    assert (body["total"], len(body["items"])) == (3, 2)
    assert 'rel="next"' in response.headers["Link"]

    first = everything[-1]["occurred_at"]
    assert audit(client, action="member_registered", until=first) == []
    assert len(audit(client, action="member_registered", since=first)) == 3


def test_a_time_range_that_runs_backwards_is_refused(client: FlaskClient) -> None:
    response = client.get(
        AUDIT, query_string={"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}
    )
    body = assert_problem(response, 422, "INVALID_VALUE")
    assert body["details"]["field"] == "until"


def test_bad_filters_are_refused(client: FlaskClient) -> None:
    response = client.get(AUDIT, query_string={"since": "yesterday", "colour": "red"})
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert {("query", "since"), ("query", "colour")} <= field_errors(body)


def test_members_read_no_audit_events(anonymous: FlaskClient, users: Users) -> None:
    response = anonymous.get(
        AUDIT, query_string={"actor": f"member:{users.ada.id}"}, headers=users.ada.headers
    )
    assert_problem(response, 403, "INSUFFICIENT_SCOPE")


def test_nothing_changes_or_deletes_an_event(client: FlaskClient) -> None:
    register(client)
    events = audit(client)
    event = events[0]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert client.open(AUDIT, method=method, json={}).status_code == 405
        assert client.open(f"{AUDIT}/{event['id']}", method=method, json={}).status_code == 404
    assert audit(client) == events


class TestRemovingAMember:
    def test_anonymises_and_keeps_the_books(self, client: FlaskClient) -> None:
        member = register(client, name="Grace Hopper")
        loan = borrow(client, member, add_book(client))
        assert client.post(f"/api/v1/loans/{loan['id']}/return").status_code == 200

        assert client.delete(f"/api/v1/members/{member['id']}").status_code == 204

        shown = client.get(f"/api/v1/members/{member['id']}").get_json()
        assert shown["status"] == "anonymised"
        assert shown["name"] == "Anonymised member"
        assert "Grace" not in str(shown)
        loans = client.get(f"/api/v1/members/{member['id']}/loans").get_json()
        assert [item["id"] for item in loans["items"]] == [loan["id"]]
        [removed] = audit(client, action="member_anonymised")
        assert removed["entity_id"] == member["id"]

    def test_twice_is_no_error_and_no_change(self, client: FlaskClient) -> None:
        member = register(client)
        assert client.delete(f"/api/v1/members/{member['id']}").status_code == 204
        assert client.delete(f"/api/v1/members/{member['id']}").status_code == 204
        assert len(audit(client, action="member_anonymised")) == 1

    def test_an_anonymised_member_cannot_be_changed(self, client: FlaskClient) -> None:
        member = register(client)
        client.delete(f"/api/v1/members/{member['id']}")
        response = client.patch(f"/api/v1/members/{member['id']}", json={"name": "Back"})
        assert_problem(response, 409, "MEMBER_ANONYMISED")

    def test_nobody_is_anonymised_by_a_patch(self, client: FlaskClient) -> None:
        member = register(client)
        response = client.patch(f"/api/v1/members/{member['id']}", json={"status": "anonymised"})
        body = assert_problem(response, 422, "INVALID_VALUE")
        assert body["details"]["field"] == "status"
        assert client.get(f"/api/v1/members/{member['id']}").get_json()["status"] == "active"


def test_signing_out_and_a_reused_refresh_token_are_recorded(
    anonymous: FlaskClient, client: FlaskClient, users: Users
) -> None:
    refresh = {"refresh_token": users.grace.refresh_token}
    assert anonymous.post("/api/v1/auth/refresh", json=refresh).status_code == 200
    assert anonymous.post("/api/v1/auth/refresh", json=refresh).status_code == 401  # reused
    assert anonymous.post("/api/v1/auth/logout", headers=users.ada.headers).status_code == 204

    revoked = audit(client, action="sessions_revoked")
    assert [(e["actor"], e["details"]["reason"], e["entity_id"]) for e in revoked] == [
        (f"member:{users.ada.id}", "signed_out", users.ada.id),
        ("anonymous", "refresh_token_reused", users.grace.id),
    ]
