"""The desk's screens through the Flask test client: each one calls the use cases and says the
outcome in words (the browser tests drive the same screens in Chromium)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from adapters.clock import ManualClock
from application.catalogue import BookDetails
from domain.members import Member
from entrypoints.container import Container
from tests.api.support import Users
from tests.web.conftest import csrf_token, sign_in


@dataclass(frozen=True)
class Scene:
    ada: Member
    grace: Member
    book_id: str


@pytest.fixture
def scene(container: Container, users: Users) -> Scene:
    catalogue = container.library.catalogue()
    book = catalogue.add_book(
        BookDetails(isbn="9780131103627", title="The C Programming Language", authors=["K&R"]),
        barcodes=["C-1", "C-2"],
    )
    catalogue.add_book(
        BookDetails(isbn="9780262033848", title="Introduction to Algorithms", authors=["CLRS"]),
        barcodes=["A-1"],
    )
    membership = container.library.membership()
    return Scene(
        ada=membership.get(users.ada.id),
        grace=membership.get(users.grace.id),
        book_id=book.book.id,
    )


def text(response: TestResponse) -> str:
    """What the page says: its text without tags, spaces collapsed."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", words)


def post(browser: FlaskClient, page: str, url: str, **form: str) -> TestResponse:
    token = csrf_token(browser.get(page))
    return browser.post(url, data={**form, "csrf_token": token})


def test_checkout_finds_the_member_by_card_and_lends_each_scanned_item(
    librarian: FlaskClient, scene: Scene
) -> None:
    found = librarian.get(f"/desk/checkout?who={scene.ada.card_number}")
    assert found.status_code == 303
    screen = found.headers["Location"]
    assert screen == f"/desk/checkout/{scene.ada.id}"

    first = post(librarian, screen, screen, barcode="C-1")
    second = librarian.post(
        screen,
        data={"barcode": "A-1", "csrf_token": csrf_token(first)},
        headers={"X-Scan": "line"},
    )

    assert first.status_code == 200
    assert "The C Programming Language" in text(first)
    assert "due" in text(first)
    # The scan script asks for the line alone.
    assert second.get_data(as_text=True).strip().startswith("<li")
    assert "Introduction to Algorithms" in text(second)


def test_a_refused_scan_says_why_in_words_with_the_code(
    librarian: FlaskClient, scene: Scene, container: Container
) -> None:
    container.library.circulation().borrow(scene.grace.id, barcode="A-1")
    screen = f"/desk/checkout/{scene.ada.id}"

    on_loan = post(librarian, screen, screen, barcode="A-1")
    unknown = post(librarian, screen, screen, barcode="NOPE-9")

    assert "This item is already on loan; check it in first." in text(on_loan)
    assert "COPY_NOT_AVAILABLE" in text(on_loan)
    assert "No item has that barcode." in text(unknown)
    assert "COPY_NOT_FOUND" in text(unknown)


def test_checkout_search_by_name_lists_the_matches(librarian: FlaskClient, scene: Scene) -> None:
    response = librarian.get("/desk/checkout?who=example.org")

    assert response.status_code == 200
    assert "members match" in text(response)
    assert scene.ada.name in text(response)
    assert "No member has that" in text(librarian.get("/desk/checkout?who=nobody-at-all"))


def test_checkin_says_the_hold_shelf_and_the_member_waiting(
    librarian: FlaskClient, scene: Scene, container: Container
) -> None:
    circulation = container.library.circulation()
    circulation.borrow(scene.ada.id, barcode="C-1")
    circulation.borrow(scene.ada.id, barcode="C-2")
    circulation.place_hold(scene.grace.id, scene.book_id)

    to_hold = post(librarian, "/desk/checkin", "/desk/checkin", barcode="C-1")
    to_shelf = post(librarian, "/desk/checkin", "/desk/checkin", barcode="C-2")
    again = post(librarian, "/desk/checkin", "/desk/checkin", barcode="C-2")

    assert "hold shelf" in text(to_hold)
    assert scene.grace.name in text(to_hold)
    assert "pickup by" in text(to_hold)
    assert "back to the shelf" in text(to_shelf)
    assert "This item is not on loan." in text(again)


def test_the_member_screen_shows_loans_holds_and_the_account(
    librarian: FlaskClient, scene: Scene, container: Container, clock: ManualClock, users: Users
) -> None:
    circulation = container.library.circulation()
    circulation.borrow(scene.ada.id, barcode="C-1")
    circulation.place_hold(
        scene.ada.id, container.library.catalogue().get_copy_by_barcode("A-1").book_id
    )
    clock.advance(timedelta(days=30))
    sign_in(librarian, users.librarian.email)  # a month idle signed the desk out

    page = text(librarian.get(f"/desk/members/{scene.ada.id}"))

    assert "The C Programming Language" in page
    assert "Overdue" in page
    assert "Introduction to Algorithms" in page
    assert "fines still growing" in page


def test_a_payment_and_a_waiver_change_the_account(
    librarian: FlaskClient, scene: Scene, container: Container
) -> None:
    accounts = container.library.accounts()
    charge = accounts.charge(scene.ada.id, 500, "damaged cover")
    screen = f"/desk/members/{scene.ada.id}"

    paid = post(librarian, screen, f"{screen}/payments", amount="2.00", note="cash")
    waived = post(
        librarian, screen, f"{screen}/charges/{charge.id}/waive", reason="goodwill", amount="1"
    )

    assert paid.status_code == 303
    assert waived.status_code == 303
    assert accounts.statement(scene.ada.id).balance_cents == 200
    page = text(librarian.get(screen))
    assert "Waived 1.00." in page or "Payment of 2.00 recorded." in page


def test_a_bad_amount_is_refused_in_words_and_records_nothing(
    librarian: FlaskClient, scene: Scene, container: Container
) -> None:
    container.library.accounts().charge(scene.ada.id, 500, "damaged cover")
    screen = f"/desk/members/{scene.ada.id}"

    post(librarian, screen, f"{screen}/payments", amount="two euros")

    assert "Enter an amount such as 2.50." in text(librarian.get(screen))
    assert container.library.accounts().statement(scene.ada.id).balance_cents == 500


def test_suspending_a_member_stops_their_borrowing(
    librarian: FlaskClient, scene: Scene, container: Container
) -> None:
    screen = f"/desk/members/{scene.ada.id}"

    post(librarian, screen, f"{screen}/suspend")

    assert container.library.membership().get(scene.ada.id).status == "suspended"
    checkout = f"/desk/checkout/{scene.ada.id}"
    refused = post(librarian, checkout, checkout, barcode="C-1")
    assert "MEMBER_SUSPENDED" in text(refused)


def test_a_librarian_may_not_suspend_an_admin_as_the_api_rules(
    librarian: FlaskClient, users: Users, container: Container
) -> None:
    screen = f"/desk/members/{users.admin.id}"

    post(librarian, screen, f"{screen}/suspend")

    assert container.library.membership().get(users.admin.id).status == "active"
    assert "INSUFFICIENT_SCOPE" in text(librarian.get(screen))


def test_renewing_from_the_member_screen(
    librarian: FlaskClient, scene: Scene, container: Container
) -> None:
    loan = container.library.circulation().borrow(scene.ada.id, barcode="C-1")
    screen = f"/desk/members/{scene.ada.id}"

    post(librarian, screen, f"{screen}/loans/{loan.id}/renew")

    assert container.library.circulation().get_loan(loan.id).renewals == 1
    assert "Renewed: now due" in text(librarian.get(screen))


def test_catalogue_hold_shelf_and_overdue_lists(
    librarian: FlaskClient, scene: Scene, container: Container, clock: ManualClock, users: Users
) -> None:
    circulation = container.library.circulation()
    circulation.borrow(scene.ada.id, barcode="C-1")
    circulation.borrow(scene.ada.id, barcode="C-2")
    circulation.place_hold(scene.grace.id, scene.book_id)
    circulation.return_copy("C-1")
    clock.advance(timedelta(days=40))
    sign_in(librarian, users.librarian.email)

    found = text(librarian.get("/desk/catalogue?q=programming"))
    shelf = text(librarian.get("/desk/hold-shelf"))
    overdue = text(librarian.get("/desk/overdue"))

    assert "The C Programming Language" in found
    assert "Past its deadline" in shelf
    assert scene.grace.name in shelf
    assert "C-2" in overdue
    assert scene.ada.name in overdue


@pytest.mark.parametrize(
    "path",
    [
        "/desk/",
        "/desk/checkout",
        "/desk/checkin",
        "/desk/members",
        "/desk/catalogue",
        "/desk/hold-shelf",
        "/desk/overdue",
    ],
)
def test_every_desk_screen_is_for_staff_only(
    member: FlaskClient, anonymous: FlaskClient, path: str
) -> None:
    assert member.get(path).status_code == 403
    assert anonymous.get(path).status_code == 303


def test_a_signed_out_scan_from_the_script_is_sent_to_sign_in_as_a_whole_page(
    anonymous: FlaskClient, scene: Scene
) -> None:
    response = anonymous.post(
        f"/desk/checkout/{scene.ada.id}", data={"barcode": "C-1"}, headers={"X-Scan": "line"}
    )

    assert response.headers["X-Location"].startswith("/sign-in")


def test_what_the_desk_does_is_audited_as_the_signed_in_librarian(
    librarian: FlaskClient, scene: Scene, container: Container, users: Users
) -> None:
    from application.audit import AuditFilter
    from application.queries import PageRequest

    screen = f"/desk/checkout/{scene.ada.id}"
    post(librarian, screen, screen, barcode="C-1")

    records = container.audit().list(AuditFilter(action="book_lent"), PageRequest(1, 10)).items
    assert [record.actor for record in records] == [f"member:{users.librarian.id}"]
    assert records[0].request_id is not None


def test_members_search_goes_straight_to_a_card_and_reactivation_undoes_suspension(
    librarian: FlaskClient, scene: Scene, container: Container
) -> None:
    found = librarian.get(f"/desk/members?q={scene.ada.card_number}")
    screen = f"/desk/members/{scene.ada.id}"
    assert found.headers["Location"] == screen

    post(librarian, screen, f"{screen}/suspend")
    post(librarian, screen, f"{screen}/reactivate")

    assert container.library.membership().get(scene.ada.id).status == "active"
    assert "is active again" in text(librarian.get(screen))


def test_an_unknown_member_is_a_page_in_words(librarian: FlaskClient) -> None:
    response = librarian.get("/desk/members/no-such-member")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "MEMBER_NOT_FOUND" in text(response)


def test_a_server_error_is_a_page_without_the_cause(
    librarian: FlaskClient, container: Container
) -> None:
    from dependency_injector import providers

    class Broken:
        def get_by_card_number(self, *_: object) -> None:
            raise RuntimeError("secret detail of the failure")

    with container.library.membership.override(providers.Object(Broken())):
        response = librarian.get("/desk/members?q=someone")

    assert response.status_code == 500
    assert "Something went wrong" in text(response)
    assert "secret detail" not in text(response)
    assert response.headers["X-Request-ID"] in text(response)
