"""Webhook subscriptions over HTTP (admins only) and the deliveries with their last answers."""

from __future__ import annotations

import pytest
from dependency_injector import providers
from flask.testing import FlaskClient

from adapters.clock import ManualClock
from adapters.webhooks import TargetCheck
from application.notices import DEFAULT_BACKOFF
from application.webhooks import Delivery
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.api.conftest import TEST_RATE_LIMIT
from tests.api.support import Users, add_book, assert_problem, borrow, register

HOOK = "http://127.0.0.1:9/hooks"


class AnsweringSender:
    """Answers each delivery with the next status of ``answers`` (the last one repeats)."""

    def __init__(self, *answers: int) -> None:
        self.answers = list(answers)
        self.posted: list[Delivery] = []

    def post(self, delivery: Delivery) -> int:
        self.posted.append(delivery)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def settings() -> Settings:
    # The targets below are on loopback: a real deployment refuses them (see the last tests).
    return Settings(
        storage="memory",
        environment="test",
        rate_limit_default=TEST_RATE_LIMIT,
        webhook_allow_private=True,
    )


def test_an_admin_subscribes_lists_shows_and_removes_a_webhook(client: FlaskClient) -> None:
    response = client.post("/api/v1/webhooks", json={"url": HOOK, "events": ["loan.created"]})

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    made = response.get_json()
    assert made["secret"]
    assert response.headers["Location"].endswith(f"/api/v1/webhooks/{made['id']}")
    shown = client.get(f"/api/v1/webhooks/{made['id']}").get_json()
    assert shown == {k: v for k, v in made.items() if k != "secret"}
    listed = client.get("/api/v1/webhooks").get_json()
    assert (listed["total"], listed["items"]) == (1, [shown])

    assert client.delete(f"/api/v1/webhooks/{made['id']}").status_code == 204
    assert_problem(client.get(f"/api/v1/webhooks/{made['id']}"), 404, "WEBHOOK_NOT_FOUND")
    assert_problem(client.delete(f"/api/v1/webhooks/{made['id']}"), 404, "WEBHOOK_NOT_FOUND")
    assert client.get("/api/v1/webhooks").get_json()["total"] == 0


def test_deliveries_show_each_attempt_s_last_answer(
    client: FlaskClient, container: Container, clock: ManualClock
) -> None:
    sender = AnsweringSender(503, 204)
    container.webhook_sender.override(providers.Object(sender))
    client.post("/api/v1/webhooks", json={"url": HOOK, "events": ["loan.created", "fine.posted"]})
    loan = borrow(client, register(client), add_book(client, 0))

    container.worker().tick()
    [failed] = client.get("/api/v1/webhook-deliveries?status=pending").get_json()["items"]
    assert (failed["event"], failed["subject_id"], failed["attempts"]) == (
        "loan.created",
        loan["id"],
        1,
    )
    assert failed["last_response"] == f"{HOOK}: 503"
    assert failed["next_attempt_at"] is not None

    clock.advance(DEFAULT_BACKOFF.first)
    container.worker().tick()
    [delivered] = client.get("/api/v1/webhook-deliveries?event=loan.created").get_json()["items"]
    assert (delivered["id"], delivered["status"], delivered["attempts"]) == (
        failed["id"],
        "delivered",
        2,
    )
    assert delivered["last_response"] == f"{HOOK}: 204"
    assert [d.headers["Circulate-Event-Id"] for d in sender.posted] == [failed["id"]] * 2


def test_bad_subscriptions_are_refused_and_change_nothing(client: FlaskClient) -> None:
    for body, status, code in [
        ({"url": "ftp://example.org/x", "events": ["loan.created"]}, 422, "WEBHOOK_TARGET_REFUSED"),
        ({"url": HOOK, "events": ["loan.misplaced"]}, 422, "INVALID_VALUE"),
        ({"url": HOOK, "events": []}, 422, "VALIDATION_FAILED"),
        ({"url": HOOK, "events": ["loan.created"], "secret": "mine"}, 422, "VALIDATION_FAILED"),
    ]:
        assert_problem(client.post("/api/v1/webhooks", json=body), status, code)
    assert client.get("/api/v1/webhooks").get_json()["total"] == 0
    assert_problem(client.get("/api/v1/webhook-deliveries?event=nope"), 422, "INVALID_VALUE")


def test_only_admins_manage_webhooks(client: FlaskClient, users: Users) -> None:
    made = client.post("/api/v1/webhooks", json={"url": HOOK, "events": ["hold.ready"]})
    hook_id = made.get_json()["id"]
    for name in ("librarian", "ada"):
        headers = users[name].headers
        assert_problem(
            client.post(
                "/api/v1/webhooks", json={"url": HOOK, "events": ["hold.ready"]}, headers=headers
            ),
            403,
            "INSUFFICIENT_SCOPE",
        )
        for path in (
            "/api/v1/webhooks",
            "/api/v1/webhook-deliveries",
            f"/api/v1/webhooks/{hook_id}",
        ):
            assert_problem(client.get(path, headers=headers), 403, "INSUFFICIENT_SCOPE")
        assert_problem(
            client.delete(f"/api/v1/webhooks/{hook_id}", headers=headers), 403, "INSUFFICIENT_SCOPE"
        )
    assert client.get("/api/v1/webhooks").get_json()["total"] == 1


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/hook", "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/"],
)
def test_private_targets_are_refused_unless_allowed(
    client: FlaskClient, container: Container, url: str
) -> None:
    container.webhook_targets.override(providers.Object(TargetCheck(allow_private=False)))

    refused = client.post("/api/v1/webhooks", json={"url": url, "events": ["loan.created"]})

    assert_problem(refused, 422, "WEBHOOK_TARGET_REFUSED")
    assert client.get("/api/v1/webhooks").get_json()["total"] == 0
