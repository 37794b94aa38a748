"""Who may call each route: one case per route, each tried anonymously, by a caller with the
wrong role, by another member, and by the caller it is meant for.

``ROUTES`` must name every route the app serves (``test_every_route_has_a_rule_and_a_case``),
so a new route fails this suite until it has an access rule and a case here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from adapters.clock import ManualClock
from adapters.webhooks import TargetCheck
from domain.access import Scope
from entrypoints.container import Container
from entrypoints.http import create_app
from entrypoints.http.app import UNGUARDED_ENDPOINTS
from entrypoints.http.middleware import access
from entrypoints.web.setup import is_page
from tests.api.support import PASSWORD, Users, add_book, assert_problem

HOOK = "http://127.0.0.1:9/hooks"


@dataclass
class Scene:
    """Ada's records (a loan, a hold, a fine), Grace's loan, books, an API key and a client."""

    users: Users
    book: str  # Ada has a copy on loan
    lent: str  # Grace has its only copy; Ada waits for it
    spare: str  # one copy on the shelf, never lent
    spare_copy: str
    ada_loan: str
    ada_hold: str
    carol: str  # a member with no loans, for removal
    api_key: str
    client_id: str
    rule: str  # a circulation rule for (any, dvd); a category "child" exists too
    closure: str  # the library is closed on 2030-12-25
    ada_charge: str  # Ada's fine for the late return
    ada_payment: str  # 25 cents of it she paid
    lost_copy: str  # a copy lost from the shelf
    webhook: str  # a subscription to a loopback URL (the scene's container allows those)
    client_secret: str = field(repr=False)


@pytest.fixture
def scene(client: FlaskClient, users: Users, clock: ManualClock) -> Scene:
    circulation = users.container.library.circulation()
    old = add_book(client, 3)
    first = circulation.borrow(users.ada.id, book_id=old["id"])
    clock.advance(timedelta(days=30))  # the loan comes back late: Ada owes a fine
    circulation.return_loan(first.id)
    book, lent, spare = add_book(client, 0), add_book(client, 1), add_book(client, 2)
    loan = circulation.borrow(users.ada.id, book_id=book["id"])
    circulation.borrow(users.grace.id, book_id=lent["id"])
    hold = circulation.place_hold(users.ada.id, lent["id"])
    paid = users.container.library.accounts().record_payment(users.ada.id, 25)
    lost = add_book(client, 4)
    catalogue = users.container.library.catalogue()
    lost_copy = catalogue.list_copies(lost["id"])[0].id
    catalogue.mark_copy_lost(lost_copy)
    carol = users.container.library.membership().register(email="carol@example.org", name="Carol")
    key = users.container.identity.api_keys().create("sync", [Scope.BOOKS_READ])
    service = users.container.identity.service_clients().create("portal", [Scope.BOOKS_READ])
    rules = users.container.library.circulation_rules()
    rules.create_category("child", "Child")
    rules.create_item_type("dvd", "DVD")
    rule = rules.create_rule(None, "dvd", loan_days=7)
    closure = rules.close_on(date(2030, 12, 25), "Christmas")
    users.container.webhook_targets.override(providers.Object(TargetCheck(allow_private=True)))
    webhook = users.container.webhooks().subscribe(HOOK, ["loan.created"])
    for user in (users.admin, users.librarian, users.ada, users.grace):
        users.sign_in_again(user)  # the clock moved past their first tokens
    return Scene(
        users=users,
        book=book["id"],
        lent=lent["id"],
        spare=spare["id"],
        spare_copy=client.get(f"/api/v1/books/{spare['id']}/copies").get_json()["items"][0]["id"],
        ada_loan=loan.id,
        ada_hold=hold.hold.id,
        carol=carol.id,
        api_key=key.key.id,
        client_id=service.client.id,
        client_secret=service.secret,
        rule=rule.id,
        closure=closure.id,
        ada_charge=paid.allocations[0].charge_id,
        ada_payment=paid.id,
        lost_copy=lost_copy,
        webhook=webhook.id,
    )


Build = Callable[[Scene], Any]


@dataclass(frozen=True)
class Route:
    """How one route answers each kind of caller.

    ``anonymous``: the status without credentials. ``refused``: callers answered 403 (a wrong
    role). ``other``: a member asking for Ada's records, answered 404 like a missing record.
    ``allowed``: the caller it is for, and ``ok`` what it gets.
    """

    endpoint: str
    method: str
    url: Build
    body: Build | None = None
    anonymous: int = 401
    refused: tuple[str, ...] = ()
    other: str | None = None
    allowed: str | None = "ada"
    ok: int = 200
    form: Build | None = None  # a form body instead of JSON


STAFF = ("ada",)  # a member where staff are needed
ADMIN_ONLY = ("ada", "librarian")


def _book_body(s: Scene) -> dict[str, Any]:
    return {"isbn": "9780134685991", "title": "New", "authors": ["Someone"]}


def _login(s: Scene) -> dict[str, Any]:
    return {"email": s.users.ada.email, "password": PASSWORD}


def _member_route(endpoint: str, suffix: str, **kw: Any) -> Route:
    return Route(endpoint, "GET", lambda s: f"/api/v1/members/{s.users.ada.id}{suffix}", **kw)


def _admin(endpoint: str, method: str, url: Build, ok: int, body: Build | None = None) -> Route:
    return Route(endpoint, method, url, body=body, refused=ADMIN_ONLY, allowed="admin", ok=ok)


ROUTES = [
    # --- the front door, sessions and keys
    Route("root.home", "GET", lambda s: "/", anonymous=200, allowed=None),
    Route("root.index", "GET", lambda s: "/api/v1", anonymous=200, allowed=None),
    Route(
        "auth.create_token",
        "POST",
        lambda s: "/api/v1/auth/token",
        _login,
        anonymous=200,
        allowed=None,
    ),
    Route(
        "auth.refresh_token",
        "POST",
        lambda s: "/api/v1/auth/refresh",
        lambda s: {"refresh_token": s.users.ada.refresh_token},
        anonymous=200,
        allowed=None,
    ),
    Route("auth.logout", "POST", lambda s: "/api/v1/auth/logout", ok=204),
    Route("auth.jwks", "GET", lambda s: "/.well-known/jwks.json", anonymous=200, allowed=None),
    Route(
        "oauth.issue_token",
        "POST",
        lambda s: "/oauth/token",
        form=lambda s: {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": s.client_secret,
        },
        anonymous=200,
        allowed=None,
    ),
    # --- the catalogue: public reads, staff writes
    Route("books.list_books", "GET", lambda s: "/api/v1/books", anonymous=200),
    Route(
        "books.create_book",
        "POST",
        lambda s: "/api/v1/books",
        _book_body,
        refused=STAFF,
        allowed="librarian",
        ok=201,
    ),
    Route("books.get_book", "GET", lambda s: f"/api/v1/books/{s.book}", anonymous=200),
    Route(
        "books.replace_book",
        "PUT",
        lambda s: f"/api/v1/books/{s.spare}",
        _book_body,
        refused=STAFF,
        allowed="librarian",
    ),
    Route(
        "books.update_book",
        "PATCH",
        lambda s: f"/api/v1/books/{s.spare}",
        lambda s: {"title": "Renamed"},
        refused=STAFF,
        allowed="librarian",
    ),
    Route(
        "books.delete_book",
        "DELETE",
        lambda s: f"/api/v1/books/{s.spare}",
        refused=STAFF,
        allowed="librarian",
        ok=204,
    ),
    Route("books.list_copies", "GET", lambda s: f"/api/v1/books/{s.book}/copies", anonymous=200),
    Route(
        "books.add_copy",
        "POST",
        lambda s: f"/api/v1/books/{s.book}/copies",
        lambda s: {"barcode": "NEW-1"},
        refused=STAFF,
        allowed="librarian",
        ok=201,
    ),
    # Asking whether a given member could borrow is that member's business.
    Route(
        "books.get_availability",
        "GET",
        lambda s: f"/api/v1/books/{s.book}/availability?member_id={s.users.ada.id}",
        other="grace",
    ),
    Route("copies.get_copy", "GET", lambda s: f"/api/v1/copies/{s.spare_copy}", anonymous=200),
    Route(
        "copies.find_copy",
        "GET",
        lambda s: "/api/v1/copies?barcode=B2-0",
        refused=STAFF,
        allowed="librarian",
    ),
    Route(
        "copies.update_copy",
        "PATCH",
        lambda s: f"/api/v1/copies/{s.spare_copy}",
        lambda s: {"status": "lost"},
        refused=STAFF,
        allowed="librarian",
    ),
    # --- members: staff for everyone, a member for themselves
    Route(
        "members.list_members",
        "GET",
        lambda s: "/api/v1/members",
        refused=STAFF,
        allowed="librarian",
    ),
    Route(
        "members.create_member",
        "POST",
        lambda s: "/api/v1/members",
        lambda s: {"email": "dan@example.org", "name": "Dan"},
        refused=STAFF,
        allowed="librarian",
        ok=201,
    ),
    Route("members.get_me", "GET", lambda s: "/api/v1/members/me"),
    _member_route("members.get_member", "", other="grace"),
    Route(
        "members.update_member",
        "PATCH",
        lambda s: f"/api/v1/members/{s.users.ada.id}",
        lambda s: {"name": "Ada King"},
        other="grace",
    ),
    Route(
        "members.delete_member",
        "DELETE",
        lambda s: f"/api/v1/members/{s.carol}",
        refused=STAFF,
        allowed="librarian",
        ok=204,
    ),
    _member_route("members.list_member_loans", "/loans", other="grace"),
    Route(
        "members.renew_member_loans",
        "POST",
        lambda s: f"/api/v1/members/{s.users.ada.id}/renewals",
        other="grace",
    ),
    _member_route("members.list_member_holds", "/holds", other="grace"),
    # --- accounts: a member reads their own; staff move money
    _member_route("accounts.get_account", "/account", other="grace"),
    Route(
        "accounts.create_payment",
        "POST",
        lambda s: f"/api/v1/members/{s.users.ada.id}/payments",
        lambda s: {"amount_cents": 25},
        refused=STAFF,
        allowed="librarian",
        ok=201,
    ),
    Route(
        "accounts.create_charge",
        "POST",
        lambda s: f"/api/v1/members/{s.users.ada.id}/charges",
        lambda s: {"amount_cents": 100, "note": "damaged cover"},
        refused=STAFF,
        allowed="librarian",
        ok=201,
    ),
    Route(
        "accounts.create_waiver",
        "POST",
        lambda s: f"/api/v1/members/{s.users.ada.id}/charges/{s.ada_charge}/waivers",
        lambda s: {"amount_cents": 10, "reason": "first time"},
        refused=STAFF,
        allowed="librarian",
        ok=201,
    ),
    Route(
        "accounts.create_cancellation",
        "POST",
        lambda s: f"/api/v1/members/{s.users.ada.id}/charges/{s.ada_charge}/cancellation",
        lambda s: {"reason": "charged in error"},
        refused=STAFF,
        allowed="librarian",
        ok=201,
    ),
    Route(
        "accounts.create_refund",
        "POST",
        lambda s: f"/api/v1/members/{s.users.ada.id}/payments/{s.ada_payment}/refunds",
        lambda s: {"reason": "paid twice"},
        refused=STAFF,
        allowed="librarian",
        ok=201,
    ),
    Route(
        "loans.declare_lost",
        "POST",
        lambda s: f"/api/v1/loans/{s.ada_loan}/lost",
        refused=STAFF,
        allowed="librarian",
    ),
    Route(
        "loans.claim_returned",
        "POST",
        lambda s: f"/api/v1/loans/{s.ada_loan}/claimed-returned",
        refused=STAFF,
        allowed="librarian",
    ),
    Route(
        "copies.found_copy",
        "POST",
        lambda s: f"/api/v1/copies/{s.lost_copy}/found",
        refused=STAFF,
        allowed="librarian",
    ),
    # --- loans and holds: a member's own, by body, query or record
    Route(
        "loans.create_loan",
        "POST",
        lambda s: "/api/v1/loans",
        lambda s: {"member_id": s.users.ada.id, "copy_id": s.spare_copy},
        other="grace",
        ok=201,
    ),
    Route(
        "loans.check_in",
        "POST",
        lambda s: "/api/v1/returns",
        lambda s: {"barcode": "B0-0"},  # the copy of Ada's loan
        refused=STAFF,
        allowed="librarian",
    ),
    Route(
        "loans.list_loans",
        "GET",
        lambda s: f"/api/v1/loans?member_id={s.users.ada.id}",
        other="grace",
    ),
    Route("loans.get_loan", "GET", lambda s: f"/api/v1/loans/{s.ada_loan}", other="grace"),
    Route(
        "loans.return_loan",
        "POST",
        lambda s: f"/api/v1/loans/{s.ada_loan}/return",
        refused=STAFF,
        allowed="librarian",
    ),
    Route(
        "loans.renew_loan",
        "POST",
        lambda s: f"/api/v1/loans/{s.ada_loan}/renewals",
        other="grace",
    ),
    Route(
        "holds.create_hold",
        "POST",
        lambda s: "/api/v1/holds",
        lambda s: {"member_id": s.users.ada.id, "book_id": s.spare},
        other="grace",
        ok=201,
    ),
    Route(
        "holds.list_holds",
        "GET",
        lambda s: f"/api/v1/holds?member_id={s.users.ada.id}",
        other="grace",
    ),
    Route("holds.get_hold", "GET", lambda s: f"/api/v1/holds/{s.ada_hold}", other="grace"),
    Route(
        "notices.list_notices",
        "GET",
        lambda s: f"/api/v1/notices?member_id={s.users.ada.id}",
        other="grace",
    ),
    Route(
        "audit.list_audit_events",
        "GET",
        lambda s: f"/api/v1/audit-events?entity_type=member&entity_id={s.users.ada.id}",
        refused=STAFF,
        allowed="librarian",
    ),
    Route(
        "notices.get_notice_preferences",
        "GET",
        lambda s: f"/api/v1/members/{s.users.ada.id}/notice-preferences",
        other="grace",
    ),
    Route(
        "notices.put_notice_preferences",
        "PUT",
        lambda s: f"/api/v1/members/{s.users.ada.id}/notice-preferences",
        lambda s: {"receipts": True},
        other="grace",
    ),
    Route(
        "holds.move_hold",
        "PUT",
        lambda s: f"/api/v1/holds/{s.ada_hold}/position",
        lambda s: {"position": 1},
        refused=STAFF,
        allowed="librarian",
    ),
    Route(
        "holds.update_hold",
        "PATCH",
        lambda s: f"/api/v1/holds/{s.ada_hold}",
        lambda s: {"suspended": True},
        other="grace",
    ),
    Route(
        "holds.cancel_hold",
        "DELETE",
        lambda s: f"/api/v1/holds/{s.ada_hold}",
        other="grace",
        ok=204,
    ),
    # --- administration
    _admin(
        "admin.create_api_key",
        "POST",
        lambda s: "/api/v1/api-keys",
        201,
        lambda s: {"name": "new", "scopes": ["books:read"]},
    ),
    _admin("admin.list_api_keys", "GET", lambda s: "/api/v1/api-keys", 200),
    # --- webhooks: admins only
    _admin(
        "webhooks.create_webhook",
        "POST",
        lambda s: "/api/v1/webhooks",
        201,
        lambda s: {"url": HOOK, "events": ["hold.ready"]},
    ),
    _admin("webhooks.list_webhooks", "GET", lambda s: "/api/v1/webhooks", 200),
    _admin("webhooks.get_webhook", "GET", lambda s: f"/api/v1/webhooks/{s.webhook}", 200),
    _admin("webhooks.delete_webhook", "DELETE", lambda s: f"/api/v1/webhooks/{s.webhook}", 204),
    _admin("webhooks.list_deliveries", "GET", lambda s: "/api/v1/webhook-deliveries", 200),
    # --- circulation rules: read by staff, changed by admins
    *(
        Route(endpoint, "GET", url, refused=STAFF, allowed="librarian")
        for endpoint, url in (
            ("rules.list_categories", lambda s: "/api/v1/member-categories"),
            ("rules.get_category", lambda s: "/api/v1/member-categories/child"),
            ("rules.list_item_types", lambda s: "/api/v1/item-types"),
            ("rules.get_item_type", lambda s: "/api/v1/item-types/dvd"),
            ("rules.list_rules", lambda s: "/api/v1/circulation-rules"),
            ("rules.get_rule", lambda s: f"/api/v1/circulation-rules/{s.rule}"),
            ("rules.list_closures", lambda s: "/api/v1/closures"),
            (
                "rules.resolve_rule",
                lambda s: (
                    "/api/v1/circulation-rules/resolve"
                    f"?member_id={s.users.ada.id}&copy_id={s.spare_copy}"
                ),
            ),
        )
    ),
    _admin(
        "rules.create_category",
        "POST",
        lambda s: "/api/v1/member-categories",
        201,
        lambda s: {"code": "teen", "name": "Teen"},
    ),
    _admin(
        "rules.update_category",
        "PATCH",
        lambda s: "/api/v1/member-categories/child",
        200,
        lambda s: {"loan_limit": 4},
    ),
    _admin("rules.retire_category", "DELETE", lambda s: "/api/v1/member-categories/child", 204),
    _admin(
        "rules.create_item_type",
        "POST",
        lambda s: "/api/v1/item-types",
        201,
        lambda s: {"code": "map", "name": "Map"},
    ),
    _admin(
        "rules.update_item_type",
        "PATCH",
        lambda s: "/api/v1/item-types/dvd",
        200,
        lambda s: {"name": "DVDs"},
    ),
    _admin("rules.retire_item_type", "DELETE", lambda s: "/api/v1/item-types/dvd", 204),
    _admin(
        "rules.create_rule",
        "POST",
        lambda s: "/api/v1/circulation-rules",
        201,
        lambda s: {"member_category": "child", "item_type": "any", "loan_days": 14},
    ),
    _admin(
        "rules.update_rule",
        "PATCH",
        lambda s: f"/api/v1/circulation-rules/{s.rule}",
        200,
        lambda s: {"loan_days": 5},
    ),
    _admin("rules.delete_rule", "DELETE", lambda s: f"/api/v1/circulation-rules/{s.rule}", 204),
    _admin(
        "rules.create_closure",
        "POST",
        lambda s: "/api/v1/closures",
        201,
        lambda s: {"weekday": "sunday", "note": "Sunday"},
    ),
    _admin("rules.delete_closure", "DELETE", lambda s: f"/api/v1/closures/{s.closure}", 204),
    Route(
        "rules.set_member_category",
        "PUT",
        lambda s: f"/api/v1/members/{s.users.ada.id}/category",
        lambda s: {"category": "child"},
        refused=STAFF,
        allowed="librarian",
        ok=204,
    ),
    Route(
        "rules.set_copy_item_type",
        "PUT",
        lambda s: f"/api/v1/copies/{s.spare_copy}/item-type",
        lambda s: {"item_type": "dvd"},
        refused=STAFF,
        allowed="librarian",
        ok=204,
    ),
    Route(
        "rules.set_book_item_type",
        "PUT",
        lambda s: f"/api/v1/books/{s.spare}/item-type",
        lambda s: {"item_type": "dvd"},
        refused=STAFF,
        allowed="librarian",
        ok=204,
    ),
    _admin("admin.get_api_key", "GET", lambda s: f"/api/v1/api-keys/{s.api_key}", 200),
    _admin("admin.revoke_api_key", "DELETE", lambda s: f"/api/v1/api-keys/{s.api_key}", 204),
    _admin(
        "admin.create_service_client",
        "POST",
        lambda s: "/api/v1/service-clients",
        201,
        lambda s: {"name": "new", "scopes": ["books:read"]},
    ),
    _admin("admin.list_service_clients", "GET", lambda s: "/api/v1/service-clients", 200),
    _admin(
        "admin.get_service_client",
        "GET",
        lambda s: f"/api/v1/service-clients/{s.client_id}",
        200,
    ),
    _admin(
        "admin.revoke_service_client",
        "DELETE",
        lambda s: f"/api/v1/service-clients/{s.client_id}",
        204,
    ),
]


def test_every_route_has_a_rule_and_a_case(app: Flask) -> None:
    served = {rule.endpoint for rule in app.url_map.iter_rules()}
    cased = {route.endpoint for route in ROUTES}
    # The pages declare who may see them on each view (tests/web/test_web_access.py).
    pages = {endpoint for endpoint in served if is_page(endpoint)}

    assert served - UNGUARDED_ENDPOINTS - pages == cased
    assert len(cased) == len(ROUTES)
    for endpoint in served:
        assert access.rule_for(endpoint) is not None, endpoint


def test_a_route_without_a_rule_is_closed(app: Flask, client: FlaskClient) -> None:
    app.add_url_rule("/test/unruled", "unruled", lambda: "open?")

    assert_problem(client.get("/test/unruled"), 403, "INSUFFICIENT_SCOPE")


def _call(client: FlaskClient, route: Route, s: Scene, who: str | None) -> TestResponse:
    headers = s.users[who].headers if who is not None else {}
    if route.form is not None:
        return client.open(route.url(s), method=route.method, data=route.form(s), headers=headers)
    body = route.body(s) if route.body is not None else None
    return client.open(route.url(s), method=route.method, json=body, headers=headers)


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.endpoint)
def test_each_caller_gets_what_the_route_allows(
    anonymous: FlaskClient, scene: Scene, route: Route
) -> None:
    # Refusals first: they must change nothing the allowed call then relies on.
    response = _call(anonymous, route, scene, None)
    if route.anonymous == 401:
        assert_problem(response, 401, "AUTHENTICATION_REQUIRED")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="circulate"'
    else:
        assert response.status_code == route.anonymous, response.get_data(as_text=True)
    for who in route.refused:
        refused = _call(anonymous, route, scene, who)
        body = assert_problem(refused, 403, "INSUFFICIENT_SCOPE")
        assert body["details"]["required"]
        assert "insufficient_scope" in refused.headers["WWW-Authenticate"]
    if route.other is not None:
        hidden = _call(anonymous, route, scene, route.other)
        body = assert_problem(hidden, 404, hidden.get_json()["code"])
        assert body["code"].endswith("_NOT_FOUND")
    if route.allowed is not None:
        allowed = _call(anonymous, route, scene, route.allowed)
        assert allowed.status_code == route.ok, allowed.get_data(as_text=True)


# --- ownership: nothing leaks --------------------------------------------------------------


def test_another_members_loan_is_as_missing_as_no_loan(
    anonymous: FlaskClient, scene: Scene
) -> None:
    grace = scene.users.grace.headers

    theirs = anonymous.get(f"/api/v1/loans/{scene.ada_loan}", headers=grace)
    missing = anonymous.get("/api/v1/loans/0190f1e2-0000-7000-8000-000000000000", headers=grace)

    assert (theirs.status_code, theirs.get_json()["code"]) == (404, "LOAN_NOT_FOUND")
    assert (missing.status_code, missing.get_json()["code"]) == (404, "LOAN_NOT_FOUND")
    assert theirs.get_json()["message"].replace(scene.ada_loan, "<id>") == missing.get_json()[
        "message"
    ].replace("0190f1e2-0000-7000-8000-000000000000", "<id>")


def test_another_member_and_no_member_answer_alike(anonymous: FlaskClient, scene: Scene) -> None:
    grace = scene.users.grace.headers
    for member_id in (scene.users.ada.id, "0190f1e2-0000-7000-8000-000000000000"):
        for url in (f"/api/v1/members/{member_id}", f"/api/v1/members/{member_id}/account"):
            assert_problem(anonymous.get(url, headers=grace), 404, "MEMBER_NOT_FOUND")
        assert_problem(
            anonymous.get(f"/api/v1/loans?member_id={member_id}", headers=grace),
            404,
            "MEMBER_NOT_FOUND",
        )


@pytest.mark.parametrize("collection", ["loans", "holds"])
def test_a_members_lists_hold_only_their_own(
    anonymous: FlaskClient, scene: Scene, collection: str
) -> None:
    mine = anonymous.get(f"/api/v1/{collection}", headers=scene.users.ada.headers).get_json()
    everyone = anonymous.get(
        f"/api/v1/{collection}", headers=scene.users.librarian.headers
    ).get_json()

    assert {item["member_id"] for item in mine["items"]} == {scene.users.ada.id}
    assert mine["total"] < everyone["total"] or collection == "holds"
    assert {item["member_id"] for item in everyone["items"]} >= {scene.users.ada.id}


def test_availability_for_the_caller_needs_no_member_id(
    anonymous: FlaskClient, scene: Scene
) -> None:
    url = f"/api/v1/books/{scene.spare}/availability"

    own = anonymous.get(url, headers=scene.users.ada.headers).get_json()
    public = anonymous.get(url).get_json()

    assert own["member_id"] == scene.users.ada.id
    assert public["member_id"] is None


# --- member records: who sets which fields ---------------------------------------------------


@pytest.mark.parametrize(
    ("who", "change", "status"),
    [
        ("ada", {"name": "Ada King"}, 200),
        ("ada", {"email": "ada.king@example.org"}, 403),
        ("librarian", {"email": "ada.king@example.org"}, 200),
        ("ada", {"status": "suspended"}, 403),
        ("ada", {"membership_expires_at": "2040-01-01T00:00:00Z"}, 403),
        ("ada", {"role": "librarian"}, 403),
        ("librarian", {"status": "suspended"}, 200),
        ("librarian", {"role": "librarian"}, 403),
        ("admin", {"role": "librarian"}, 200),
    ],
)
def test_who_may_change_which_fields_of_a_member(
    anonymous: FlaskClient, scene: Scene, who: str, change: dict[str, Any], status: int
) -> None:
    url = f"/api/v1/members/{scene.users.ada.id}"
    before = anonymous.get(url, headers=scene.users.admin.headers).get_json()

    response = anonymous.patch(url, json=change, headers=scene.users[who].headers)

    assert response.status_code == status, response.get_data(as_text=True)
    after = anonymous.get(url, headers=scene.users.admin.headers).get_json()
    if status == 200:
        assert {name: after[name] for name in change} == change
    else:
        assert_problem(response, 403, "INSUFFICIENT_SCOPE")
        assert after == before


def test_only_admins_make_staff_or_touch_staff_accounts(
    anonymous: FlaskClient, scene: Scene
) -> None:
    librarian, admin = scene.users.librarian.headers, scene.users.admin.headers
    staff = {"email": "eve@example.org", "name": "Eve", "role": "admin"}

    assert_problem(
        anonymous.post("/api/v1/members", json=staff, headers=librarian), 403, "INSUFFICIENT_SCOPE"
    )
    assert anonymous.post("/api/v1/members", json=staff, headers=admin).status_code == 201
    admin_url = f"/api/v1/members/{scene.users.admin.id}"
    assert_problem(
        anonymous.patch(admin_url, json={"status": "suspended"}, headers=librarian),
        403,
        "INSUFFICIENT_SCOPE",
    )
    assert_problem(anonymous.delete(admin_url, headers=librarian), 403, "INSUFFICIENT_SCOPE")
    own = anonymous.patch(
        f"/api/v1/members/{scene.users.librarian.id}", json={"name": "Lib"}, headers=librarian
    )
    assert own.status_code == 200


# --- integrations: scopes chosen by an admin ---------------------------------------------------


def test_an_api_key_can_do_what_its_scopes_allow_and_no_more(
    anonymous: FlaskClient, scene: Scene
) -> None:
    key = scene.users.container.identity.api_keys().create(
        "reader", [Scope.BOOKS_READ, Scope.LOANS_READ]
    )
    headers = {"Authorization": f"ApiKey {key.plaintext}"}

    assert anonymous.get(f"/api/v1/loans/{scene.ada_loan}", headers=headers).status_code == 200
    refused = anonymous.post("/api/v1/books", json=_book_body(scene), headers=headers)
    body = assert_problem(refused, 403, "INSUFFICIENT_SCOPE")
    assert body["details"]["required"] == "books:write"
    assert "WWW-Authenticate" not in refused.headers  # a bearer challenge would not fit


def test_a_cors_preflight_needs_no_credentials(container: Container) -> None:
    settings = container.settings().model_copy(update={"cors_origins": "https://app.example.org"})
    container.settings.override(providers.Object(settings))
    client = create_app(container=container).test_client()

    response = client.options(
        "/api/v1/members",
        headers={
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    assert "RateLimit-Limit" not in response.headers
