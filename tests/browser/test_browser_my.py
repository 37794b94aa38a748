"""The member pages in a real browser: a member signs in, renews a loan, places a hold from
the catalogue and sees their place in the queue; another member's records stay out of reach;
every page passes axe-core at a desk's size and on a phone, and is saved as a screenshot."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from application.catalogue import BookDetails
from domain.holds import HoldStatus
from domain.members import Member
from tests.browser.conftest import Library, sign_in
from tests.browser.support import (
    DESKTOP,
    PHONE,
    assert_accessible,
    focused,
    screenshot,
    wait_for,
    wait_for_text,
)

pytestmark = pytest.mark.browser

_SERIALS = itertools.count(300_000)


def _isbn13() -> str:
    digits = f"978{next(_SERIALS):09d}"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return f"{digits}{check}"


def add_book(library: Library, title: str, author: str, copies: int = 1) -> tuple[str, list[str]]:
    """A book with copies, added on the server's database: its id and the barcodes."""
    isbn = _isbn13()
    barcodes = [f"M{isbn}-{n}" for n in range(copies)]
    details = BookDetails(isbn=isbn, title=title, authors=[author], year=1999)
    return library.container.library.catalogue().add_book(
        details, barcodes=barcodes
    ).book.id, barcodes


@dataclass(frozen=True)
class Scene:
    mia: Member  # the member who signs in
    otto: Member  # another member
    otto_hold_id: str  # Otto waits for a book Mia has out


@pytest.fixture(scope="module")
def scene(library: Library) -> Scene:
    mia = library.register("Mia Reader")
    otto = library.register("Otto Other")
    circulation = library.container.library.circulation()
    _, shelf = add_book(library, "The Remains of the Day", "Kazuo Ishiguro")
    circulation.borrow(mia.id, barcode=shelf[0])
    waited_id, waited = add_book(library, "Never Let Me Go", "Kazuo Ishiguro")
    circulation.borrow(mia.id, barcode=waited[0])
    otto_hold = circulation.place_hold(otto.id, waited_id).hold
    _, lent = add_book(library, "A Pale View of Hills", "Kazuo Ishiguro")
    circulation.borrow(otto.id, barcode=lent[0])  # none on the shelf: Mia will queue for it
    artist_id, artist = add_book(library, "An Artist of the Floating World", "Kazuo Ishiguro")
    circulation.borrow(otto.id, barcode=artist[0])
    circulation.place_hold(mia.id, artist_id)  # Mia waits for it: a hold she can pause
    accounts = library.container.library.accounts()
    accounts.charge(mia.id, 250, "a replacement library card")  # below the debt limit
    accounts.record_payment(mia.id, 100)
    return Scene(mia=mia, otto=otto, otto_hold_id=otto_hold.id)


def _check_both_sizes(driver: WebDriver, name: str) -> None:
    """axe-core at a desk's size and on a phone, and a screenshot of each."""
    assert_accessible(driver)
    screenshot(driver, name)
    driver.set_window_size(*PHONE)
    try:
        assert_accessible(driver)
        screenshot(driver, f"{name}-phone")
    finally:
        driver.set_window_size(*DESKTOP)


def test_a_member_signs_in_to_their_own_overview(
    driver: WebDriver, library: Library, scene: Scene
) -> None:
    sign_in(driver, library, scene.mia.email)

    wait_for_text(driver, "h1", "Hello, Mia Reader")
    assert driver.current_url == f"{library.url}/my/"
    assert "You have 2 items out" in driver.find_element(By.ID, "main").text
    _check_both_sizes(driver, "my-overview")


def test_a_member_renews_a_loan_and_is_told_the_new_due_date(
    driver: WebDriver, library: Library, scene: Scene
) -> None:
    sign_in(driver, library, scene.mia.email)
    wait_for_text(driver, "h1", "Hello")
    driver.get(f"{library.url}/my/loans")

    wait_for(driver, "button[aria-label='Renew The Remains of the Day']").click()

    wait_for_text(driver, "#announcer", "The Remains of the Day renewed: now due")
    row = driver.find_element(By.XPATH, "//tr[.//strong[text()='The Remains of the Day']]")
    assert "renewed 1 time" in row.text
    assert "Renewed: now due" in row.text
    _check_both_sizes(driver, "my-loans")


def test_renew_all_says_which_could_not_be_renewed_and_why(
    driver: WebDriver, library: Library, scene: Scene
) -> None:
    sign_in(driver, library, scene.mia.email)
    wait_for_text(driver, "h1", "Hello")
    driver.get(f"{library.url}/my/loans")

    wait_for(driver, "form[action='/my/loans/renew-all'] button").click()

    wait_for_text(driver, "#announcer", "1 of your 2 loans renewed")
    row = driver.find_element(By.XPATH, "//tr[.//strong[text()='Never Let Me Go']]")
    assert "Another member is waiting for this title, so it cannot be renewed." in row.text
    assert "RENEWAL_BLOCKED_BY_HOLD" in row.text
    screenshot(driver, "my-loans-renew-all")


def test_a_member_places_a_hold_from_the_catalogue_and_sees_their_place(
    driver: WebDriver, library: Library, scene: Scene
) -> None:
    sign_in(driver, library, scene.mia.email)
    wait_for_text(driver, "h1", "Hello")
    driver.get(f"{library.url}/my/catalogue")
    search = wait_for(driver, "#q")
    assert focused(driver).get_attribute("id") == "q"  # ready to type

    search.send_keys("pale view", Keys.ENTER)

    row = wait_for(driver, "tbody tr")
    assert "A Pale View of Hills" in row.text
    assert "None of 1" in row.text
    _check_both_sizes(driver, "my-catalogue")
    driver.find_element(
        By.CSS_SELECTOR, "button[aria-label='Place a hold on A Pale View of Hills']"
    ).click()

    wait_for_text(driver, "#announcer", "you are number 1 in the queue")
    assert driver.current_url == f"{library.url}/my/holds"
    held = driver.find_element(By.XPATH, "//tr[.//strong[text()='A Pale View of Hills']]")
    assert "Number 1" in held.text
    _check_both_sizes(driver, "my-holds")


def test_a_member_pauses_a_hold_and_resumes_it(
    driver: WebDriver, library: Library, scene: Scene
) -> None:
    sign_in(driver, library, scene.mia.email)
    wait_for_text(driver, "h1", "Hello")
    driver.get(f"{library.url}/my/holds")

    wait_for(
        driver, "button[aria-label='Pause the hold on An Artist of the Floating World']"
    ).click()

    wait_for_text(driver, "#announcer", "is paused; it keeps its place in the queue")
    screenshot(driver, "my-holds-paused")
    wait_for(
        driver, "button[aria-label='Resume the hold on An Artist of the Floating World']"
    ).click()
    wait_for_text(driver, "#announcer", "is active again: number 1")


def test_a_member_cannot_reach_another_members_hold_or_the_desk(
    driver: WebDriver, library: Library, scene: Scene
) -> None:
    sign_in(driver, library, scene.mia.email)
    wait_for_text(driver, "h1", "Hello")
    driver.get(f"{library.url}/my/holds")
    wait_for(driver, "form.sign-out")
    # A cancel form for Otto's hold, made in the page with the page's own CSRF token: the
    # server still refuses, since the hold is not Mia's.
    driver.execute_script(
        """
        const form = document.createElement("form");
        form.method = "post";
        form.action = "/my/holds/" + arguments[0] + "/cancel";
        const token = document.querySelector("input[name=csrf_token]").cloneNode();
        form.append(token);
        document.body.append(form);
        form.submit();
        """,
        scene.otto_hold_id,
    )

    wait_for_text(driver, "[role=alert]", "That hold is not among yours.")
    assert "HOLD_NOT_FOUND" in driver.find_element(By.ID, "main").text
    otto_hold = library.container.library.circulation().get_hold(scene.otto_hold_id).hold
    assert otto_hold.status is HoldStatus.WAITING
    driver.get(f"{library.url}/my/holds")
    assert "Never Let Me Go" not in wait_for(driver, "main").text  # Otto's, not hers
    driver.get(f"{library.url}/desk/")
    wait_for_text(driver, "h1", "This page is not for your account")


def test_the_account_page_is_accessible(driver: WebDriver, library: Library, scene: Scene) -> None:
    sign_in(driver, library, scene.mia.email)
    wait_for_text(driver, "h1", "Hello")
    driver.get(f"{library.url}/my/account")

    wait_for_text(driver, "#balance-heading", "Balance")
    main = driver.find_element(By.ID, "main").text
    assert "You owe 1.50 now." in main
    assert "Charge: a replacement library card" in main
    assert "Payment" in main
    _check_both_sizes(driver, "my-account")


def test_a_member_asks_for_receipts_with_the_keyboard(
    driver: WebDriver, library: Library, scene: Scene
) -> None:
    sign_in(driver, library, scene.mia.email)
    wait_for_text(driver, "h1", "Hello")
    driver.get(f"{library.url}/my/notices")
    receipts = wait_for(driver, "#receipts")
    assert not receipts.is_selected()
    assert "always sent" in driver.find_element(By.ID, "overdue-always").text
    _check_both_sizes(driver, "my-notices")

    receipts.send_keys(Keys.SPACE)
    focused(driver).send_keys(Keys.TAB)  # on to the Save button
    assert focused(driver).text == "Save"
    focused(driver).send_keys(Keys.ENTER)

    wait_for_text(driver, "#announcer", "Your notice preferences are saved.")
    assert driver.find_element(By.ID, "receipts").is_selected()
    assert library.container.notice_choices().get(scene.mia.id).notices.receipts is True
