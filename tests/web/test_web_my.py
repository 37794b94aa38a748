"""The member pages (``/my``) through the Flask test client: each screen, each action, and
that a member only ever sees and changes their own records."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from dependency_injector import providers
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from adapters.clock import ManualClock
from application.catalogue import BookDetails
from application.queries import HoldFilter, PageRequest
from domain.holds import HoldStatus
from domain.policy import Policy
from entrypoints.container import Container
from tests.api.support import Users
from tests.web.conftest import csrf_token, sign_in

_SERIALS = itertools.count(200_000)


def _isbn13() -> str:
    digits = f"978{next(_SERIALS):09d}"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return f"{digits}{check}"


def add_book(container: Container, title: str, copies: int = 1) -> tuple[str, list[str]]:
    """A book with ``copies`` copies: its id and the copies' barcodes."""
    isbn = _isbn13()
    barcodes = [f"B{isbn}-{n}" for n in range(copies)]
    details = BookDetails(isbn=isbn, title=title, authors=["A. Writer"], year=2020)
    return container.library.catalogue().add_book(details, barcodes=barcodes).book.id, barcodes


def post(browser: FlaskClient, page: str, action: str, **data: str) -> TestResponse:
    """Post a form of ``page`` the way the browser would: with the page's CSRF token."""
    token = csrf_token(browser.get(page))
    return browser.post(action, data={"csrf_token": token, **data})


def ada_signed_in(app: Flask, users: Users) -> FlaskClient:
    browser = app.test_client()
    assert sign_in(browser, users.ada.email).status_code == 303
    return browser


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


# --- who may see what -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/my/", "/my/loans", "/my/holds", "/my/catalogue", "/my/account", "/my/notices"]
)
def test_signed_out_the_pages_send_you_to_sign_in(app: Flask, path: str) -> None:
    response = app.test_client().get(path)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/sign-in?next={path}"


def test_a_member_signs_in_to_their_start_page(app: Flask, users: Users) -> None:
    browser = app.test_client()

    response = sign_in(browser, users.ada.email)

    assert response.headers["Location"] == "/my/"
    page = browser.get("/my/")
    assert page.status_code == 200
    assert "Hello, Ada" in text(page)
    assert "You have nothing out." in text(page)


def test_a_form_post_without_its_csrf_token_is_refused_and_changes_nothing(
    member: FlaskClient, users: Users, container: Container
) -> None:
    _, barcodes = add_book(container, "Middlemarch")
    loan = container.library.circulation().borrow(users.ada.id, barcode=barcodes[0])

    response = member.post(f"/my/loans/{loan.id}/renew")

    assert response.status_code == 400
    assert "CSRF_TOKEN_INVALID" in text(response)
    assert container.library.circulation().get_loan(loan.id).renewals == 0


@pytest.mark.parametrize(
    "action",
    [
        "/my/loans/renew-all",
        "/my/holds",
        "/my/notices",
        "/my/loans/{loan}/renew",
        "/my/holds/{hold}/cancel",
        "/my/holds/{hold}/pause",
    ],
)
def test_every_member_form_is_refused_without_its_csrf_token(
    member: FlaskClient, users: Users, container: Container, action: str
) -> None:
    book_id, barcodes = add_book(container, "Cousin Phillis", copies=2)
    loan = container.library.circulation().borrow(users.grace.id, barcode=barcodes[0])
    hold = container.library.circulation().place_hold(users.ada.id, book_id).hold
    before = container.library.circulation().get_hold(hold.id).hold

    response = member.post(
        action.format(loan=loan.id, hold=hold.id), data={"book_id": book_id, "receipts": "on"}
    )

    assert response.status_code == 400
    assert "CSRF_TOKEN_INVALID" in text(response)
    assert container.library.circulation().get_hold(hold.id).hold == before
    assert container.notice_choices().get(users.ada.id).notices.receipts is False


def test_a_member_id_in_the_address_is_ignored(
    member: FlaskClient, users: Users, container: Container
) -> None:
    _, barcodes = add_book(container, "Mary Barton")
    container.library.circulation().borrow(users.grace.id, barcode=barcodes[0])

    for path in ("/my/", "/my/loans", "/my/account"):
        page = text(member.get(f"{path}?member_id={users.grace.id}"))
        assert "Mary Barton" not in page


def test_staff_see_their_own_records_on_the_member_pages(
    librarian: FlaskClient, users: Users, container: Container
) -> None:
    _, barcodes = add_book(container, "The Moorland Cottage")
    container.library.circulation().borrow(users.ada.id, barcode=barcodes[0])

    page = text(librarian.get("/my/loans"))

    assert "You have nothing out." in page
    assert "Moorland" not in page


# --- loans ------------------------------------------------------------------------------------


def test_my_loans_show_due_dates_overdue_flags_and_the_fine_so_far(
    app: Flask, users: Users, container: Container, clock: ManualClock
) -> None:
    _, first = add_book(container, "Bleak House")
    _, second = add_book(container, "Hard Times")
    container.library.circulation().borrow(users.ada.id, barcode=first[0])
    clock.advance(timedelta(days=20))
    container.library.circulation().borrow(users.ada.id, barcode=second[0])
    clock.advance(timedelta(days=20))  # the first is 40 days out: overdue; the second is not
    member = ada_signed_in(app, users)  # after the clock moved, or the session would be idle

    page = text(member.get("/my/loans"))

    assert "2 items out" in page
    bleak, hard = page.split("Bleak House")[1], page.split("Hard Times")[1]
    assert "Overdue" in bleak.split("</tr>")[0]
    assert "Overdue" not in hard.split("</tr>")[0]
    fine = container.library.accounts().statement(users.ada.id).accruing_cents
    assert fine > 0
    assert f"{fine // 100}.{fine % 100:02d}" in bleak.split("</tr>")[0]


def test_renewing_a_loan_moves_its_due_date_and_says_so(
    member: FlaskClient, users: Users, container: Container
) -> None:
    _, barcodes = add_book(container, "Persuasion")
    loan = container.library.circulation().borrow(users.ada.id, barcode=barcodes[0])

    response = post(member, "/my/loans", f"/my/loans/{loan.id}/renew")

    assert response.status_code == 303
    assert response.headers["Location"] == "/my/loans"
    renewed = container.library.circulation().get_loan(loan.id)
    assert renewed.renewals == 1
    assert renewed.due_at > loan.due_at
    page = text(member.get("/my/loans"))
    assert "Persuasion renewed: now due" in page
    assert f"item {barcodes[0]}" in page  # the barcode on the item in the member's hands
    assert "renewed 1 time" in page
    # Said once: the next look at the page is quiet again.
    assert "Persuasion renewed" not in text(member.get("/my/loans"))


def test_a_refused_renewal_is_said_in_words_with_its_code(
    member: FlaskClient, users: Users, container: Container
) -> None:
    book_id, barcodes = add_book(container, "Emma")
    loan = container.library.circulation().borrow(users.ada.id, barcode=barcodes[0])
    container.library.circulation().place_hold(users.grace.id, book_id)  # Grace waits for it

    post(member, "/my/loans", f"/my/loans/{loan.id}/renew")

    page = text(member.get("/my/loans"))
    assert "Another member is waiting for this title, so it cannot be renewed." in page
    assert "RENEWAL_BLOCKED_BY_HOLD" in page
    assert container.library.circulation().get_loan(loan.id).renewals == 0


def test_renew_all_says_per_loan_what_happened(
    member: FlaskClient, users: Users, container: Container
) -> None:
    _, free = add_book(container, "Sense and Sensibility")
    wanted_id, wanted = add_book(container, "Mansfield Park")
    circulation = container.library.circulation()
    free_loan = circulation.borrow(users.ada.id, barcode=free[0])
    wanted_loan = circulation.borrow(users.ada.id, barcode=wanted[0])
    circulation.place_hold(users.grace.id, wanted_id)

    post(member, "/my/loans", "/my/loans/renew-all")

    page = text(member.get("/my/loans"))
    assert "1 of your 2 loans renewed" in page
    free_row = page.split(f'id="loan-{free_loan.id}"')[1].split("</tr>")[0]
    wanted_row = page.split(f'id="loan-{wanted_loan.id}"')[1].split("</tr>")[0]
    assert "Renewed: now due" in free_row
    assert "RENEWAL_BLOCKED_BY_HOLD" in wanted_row
    assert circulation.get_loan(free_loan.id).renewals == 1
    assert circulation.get_loan(wanted_loan.id).renewals == 0


def test_another_members_loan_cannot_be_renewed_or_seen(
    member: FlaskClient, users: Users, container: Container
) -> None:
    _, barcodes = add_book(container, "Northanger Abbey")
    graces = container.library.circulation().borrow(users.grace.id, barcode=barcodes[0])

    response = post(member, "/my/loans", f"/my/loans/{graces.id}/renew")

    assert response.status_code == 404
    assert "That loan is not among yours." in text(response)
    assert container.library.circulation().get_loan(graces.id).renewals == 0
    assert "Northanger Abbey" not in text(member.get("/my/loans"))
    assert "Northanger Abbey" not in text(member.get("/my/"))


# --- holds and the catalogue ------------------------------------------------------------------


def test_the_catalogue_shows_availability_and_places_a_hold_with_my_place_in_the_queue(
    member: FlaskClient, users: Users, container: Container
) -> None:
    book_id, barcodes = add_book(container, "Villette")
    container.library.circulation().borrow(users.grace.id, barcode=barcodes[0])  # none on the shelf

    search = text(member.get("/my/catalogue?q=villette"))
    assert "None of 1" in search
    assert "Place a hold on Villette" in search

    response = post(member, "/my/catalogue?q=villette", "/my/holds", book_id=book_id, q="villette")

    assert response.headers["Location"] == "/my/holds"
    holds = text(member.get("/my/holds"))
    assert "Hold placed on Villette: you are number 1 in the queue." in holds
    assert "Number 1" in holds
    assert "You hold it: number 1 in the queue" in text(member.get("/my/catalogue?q=villette"))


def test_a_hold_is_always_the_signed_in_members_whatever_the_form_says(
    member: FlaskClient, users: Users, container: Container
) -> None:
    book_id, _ = add_book(container, "Shirley")

    post(member, "/my/catalogue?q=shirley", "/my/holds", book_id=book_id, member_id=users.grace.id)

    holds = container.library.circulation().list_holds(HoldFilter(book_id=book_id), PageRequest())
    assert [hold.member_id for hold in holds.items] == [users.ada.id]


def test_a_refused_hold_goes_back_to_the_search_with_the_reason(
    member: FlaskClient, users: Users, container: Container
) -> None:
    book_id, barcodes = add_book(container, "Jane Eyre")
    container.library.circulation().borrow(users.ada.id, barcode=barcodes[0])

    response = post(member, "/my/catalogue?q=eyre", "/my/holds", book_id=book_id, q="eyre")

    assert response.headers["Location"] == "/my/catalogue?q=eyre"
    page = text(member.get("/my/catalogue?q=eyre"))
    assert "You already have a copy of this title." in page
    assert "BOOK_ALREADY_ON_LOAN_TO_MEMBER" in page


def test_a_hold_on_a_title_not_in_the_catalogue_is_refused_in_words(
    member: FlaskClient, users: Users, container: Container
) -> None:
    response = post(member, "/my/catalogue?q=x", "/my/holds", book_id="no-such-book", q="x")

    assert response.headers["Location"] == "/my/catalogue?q=x"
    page = text(member.get("/my/catalogue?q=x"))
    assert "That title is not in the catalogue." in page
    assert "BOOK_NOT_FOUND" in page


def test_cancelling_my_hold(member: FlaskClient, users: Users, container: Container) -> None:
    book_id, barcodes = add_book(container, "Agnes Grey")
    container.library.circulation().borrow(users.grace.id, barcode=barcodes[0])
    hold = container.library.circulation().place_hold(users.ada.id, book_id).hold

    response = post(member, "/my/holds", f"/my/holds/{hold.id}/cancel")

    assert response.headers["Location"] == "/my/holds"
    assert container.library.circulation().get_hold(hold.id).hold.status is HoldStatus.CANCELLED
    page = text(member.get("/my/holds"))
    assert "Your hold on Agnes Grey is cancelled." in page
    assert "You have no holds." in page


def test_another_members_hold_cannot_be_cancelled_or_seen(
    member: FlaskClient, users: Users, container: Container
) -> None:
    book_id, barcodes = add_book(container, "The Tenant of Wildfell Hall")
    container.library.circulation().borrow(users.ada.id, barcode=barcodes[0])
    graces = container.library.circulation().place_hold(users.grace.id, book_id).hold

    response = post(member, "/my/holds", f"/my/holds/{graces.id}/cancel")

    assert response.status_code == 404
    assert "That hold is not among yours." in text(response)
    assert "HOLD_NOT_FOUND" in text(response)
    assert container.library.circulation().get_hold(graces.id).hold.status is HoldStatus.WAITING
    assert "Wildfell" not in text(member.get("/my/holds"))


def test_pausing_my_hold_keeps_its_place_and_resuming_it_brings_it_back(
    member: FlaskClient, users: Users, container: Container
) -> None:
    book_id, barcodes = add_book(container, "Ruth")
    circulation = container.library.circulation()
    circulation.borrow(users.grace.id, barcode=barcodes[0])
    hold = circulation.place_hold(users.ada.id, book_id).hold

    post(member, "/my/holds", f"/my/holds/{hold.id}/pause")

    assert circulation.get_hold(hold.id).hold.suspended is True
    page = text(member.get("/my/holds"))
    assert "Your hold on Ruth is paused; it keeps its place in the queue." in page
    assert "Resume the hold on Ruth" in page

    post(member, "/my/holds", f"/my/holds/{hold.id}/resume")

    assert circulation.get_hold(hold.id).hold.suspended is False
    assert "Your hold on Ruth is active again: number 1." in text(member.get("/my/holds"))


def test_another_members_hold_cannot_be_paused(
    member: FlaskClient, users: Users, container: Container
) -> None:
    book_id, barcodes = add_book(container, "Sylvia's Lovers")
    container.library.circulation().borrow(users.ada.id, barcode=barcodes[0])
    graces = container.library.circulation().place_hold(users.grace.id, book_id).hold

    response = post(member, "/my/holds", f"/my/holds/{graces.id}/pause")

    assert response.status_code == 404
    assert container.library.circulation().get_hold(graces.id).hold.suspended is False


def test_a_ready_hold_shows_until_when_to_collect_it(
    member: FlaskClient, users: Users, container: Container
) -> None:
    book_id, _ = add_book(container, "Cranford")

    post(member, "/my/catalogue?q=cranford", "/my/holds", book_id=book_id)

    holds = text(member.get("/my/holds"))
    assert "Ready: collect by" in holds
    home = text(member.get("/my/"))
    assert "Waiting for you on the hold shelf" in home
    assert "Cranford" in home


# --- the account ------------------------------------------------------------------------------


def test_my_account_shows_charges_payments_balance_and_fines_growing(
    app: Flask, users: Users, container: Container, clock: ManualClock
) -> None:
    _, late = add_book(container, "North and South")
    _, still_out = add_book(container, "Wives and Daughters")
    circulation, accounts = container.library.circulation(), container.library.accounts()
    returned = circulation.borrow(users.ada.id, barcode=late[0])
    circulation.borrow(users.ada.id, barcode=still_out[0])
    clock.advance(timedelta(days=30))
    circulation.return_loan(returned.id)  # late: an overdue fine is charged
    owed = accounts.statement(users.ada.id).balance_cents
    accounts.record_payment(users.ada.id, 50)
    member = ada_signed_in(app, users)

    page = text(member.get("/my/account"))

    statement = accounts.statement(users.ada.id)
    assert statement.balance_cents == owed - 50
    assert f"You owe <strong>{_money(statement.balance_cents)}</strong> now." in page
    assert "Overdue fine: North and South" in page  # the charge to pay names its title
    assert "Payment" in page
    assert "Fines still growing" in page
    assert "Wives and Daughters" in page
    assert _money(statement.accruing_cents) in page


def test_another_members_account_is_never_shown(
    member: FlaskClient, users: Users, container: Container
) -> None:
    container.library.accounts().charge(users.grace.id, 1234, "a torn page")

    page = text(member.get("/my/account"))

    assert "12.34" not in page
    assert "a torn page" not in page
    assert "Nothing to pay." in page


# --- notice preferences -----------------------------------------------------------------------


def test_asking_for_receipts(member: FlaskClient, users: Users, container: Container) -> None:
    page = text(member.get("/my/notices"))
    assert 'name="receipts"' in page
    assert 'name="overdue"' not in page  # this library sends overdue notices to everyone
    assert "always sent" in page

    response = post(member, "/my/notices", "/my/notices", receipts="on", version="1")

    assert response.headers["Location"] == "/my/notices"
    notices = container.notice_choices().get(users.ada.id).notices
    assert notices.receipts is True
    assert notices.overdue is True
    assert "Your notice preferences are saved." in text(member.get("/my/notices"))


def test_overdue_notices_stay_on_where_the_library_sends_them_to_everyone(
    member: FlaskClient, users: Users, container: Container
) -> None:
    post(member, "/my/notices", "/my/notices", version="1")  # no box ticked

    assert container.notice_choices().get(users.ada.id).notices.overdue is True


def test_overdue_notices_can_be_turned_off_where_the_library_allows_it(
    app: Flask, users: Users, container: Container
) -> None:
    container.policy.override(providers.Object(Policy(overdue_notice_opt_out=True)))
    container.notice_choices.reset()
    browser = ada_signed_in(app, users)

    assert 'name="overdue"' in text(browser.get("/my/notices"))
    post(browser, "/my/notices", "/my/notices", receipts="on")

    notices = container.notice_choices().get(users.ada.id).notices
    assert (notices.receipts, notices.overdue) == (True, False)


def test_a_stale_notice_form_is_refused_in_words(
    member: FlaskClient, users: Users, container: Container
) -> None:
    member_now = container.notice_choices().get(users.ada.id)
    token = csrf_token(member.get("/my/notices"))

    response = member.post(
        "/my/notices",
        data={"csrf_token": token, "receipts": "on", "version": str(member_now.version + 7)},
    )

    assert response.status_code == 303
    page = text(member.get("/my/notices"))
    assert "VERSION_MISMATCH" in page
    assert container.notice_choices().get(users.ada.id).notices.receipts is False


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
