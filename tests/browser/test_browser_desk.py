"""The desk in a real browser, driven from the keyboard as a scanner drives it: a scanned code
is typed and ends with Enter, and the focus must stay in the scan field."""

from __future__ import annotations

import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from domain.members import Role
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


@pytest.fixture(scope="module")
def librarian(library: Library) -> str:
    return library.register("Lena Librarian", Role.LIBRARIAN).email


def scan(driver: Chrome, code: str) -> None:
    """What a USB scanner does: the code's characters, then Enter, into the focused field."""
    focused(driver).send_keys(code + Keys.ENTER)


def lines(driver: Chrome) -> list[str]:
    return [line.text for line in driver.find_elements(By.CSS_SELECTOR, "#lines li")]


def wait_for_lines(driver: Chrome, count: int) -> list[str]:
    wait_for(driver, f"#lines li:nth-child({count})")
    return lines(driver)


def test_a_librarian_checks_out_two_items_by_scanning(
    driver: Chrome, library: Library, librarian: str
) -> None:
    library.add_book("Wuthering Heights", ["WH-1"])
    library.add_book("Middlemarch", ["MM-1"])
    ada = library.register("Ada Reader")
    sign_in(driver, library, librarian)
    wait_for_text(driver, "h1", "Desk")

    driver.find_element(By.LINK_TEXT, "Check out").click()
    wait_for(driver, "#who")
    scan(driver, ada.card_number)  # the card
    wait_for_text(driver, ".member-summary", "Ada Reader")
    assert focused(driver).get_attribute("id") == "barcode"
    scan(driver, "WH-1")
    first = wait_for_lines(driver, 1)
    assert focused(driver).get_attribute("id") == "barcode"  # ready for the next scan
    assert focused(driver).get_attribute("value") == ""
    scan(driver, "MM-1")
    scanned = wait_for_lines(driver, 2)

    assert "Wuthering Heights" in first[0]
    assert "due" in first[0]
    assert "Middlemarch" in scanned[0]  # newest first, the earlier line kept
    assert "Wuthering Heights" in scanned[1]
    assert focused(driver).get_attribute("id") == "barcode"
    assert len(library.container.library.circulation().renew_all(ada.id)) == 2  # both really lent
    assert_accessible(driver)
    screenshot(driver, "desk-checkout")


def test_a_refused_scan_says_why_in_words_and_keeps_the_focus(
    driver: Chrome, library: Library, librarian: str
) -> None:
    bea = library.register("Bea Blocked")
    library.container.library.membership().suspend(bea.id)
    library.add_book("Persuasion", ["PE-1"])
    sign_in(driver, library, librarian)
    wait_for_text(driver, "h1", "Desk")
    driver.get(f"{library.url}/desk/checkout/{bea.id}")
    wait_for(driver, "#barcode")

    scan(driver, "PE-1")
    scan(driver, "NO-SUCH-ITEM")
    refused = wait_for_lines(driver, 2)

    assert "No item has that barcode." in refused[0]
    assert "COPY_NOT_FOUND" in refused[0]
    assert "suspended" in refused[1]
    assert "MEMBER_SUSPENDED" in refused[1]
    assert focused(driver).get_attribute("id") == "barcode"
    assert_accessible(driver)
    screenshot(driver, "desk-checkout-refused")


def test_checking_in_an_item_a_member_waits_for_names_them_and_the_deadline(
    driver: Chrome, library: Library, librarian: str
) -> None:
    book_id = library.add_book("Emma", ["EM-1"])
    library.add_book("Ivanhoe", ["IV-1"])
    cleo, dora = library.register("Cleo Borrower"), library.register("Dora Waiting")
    circulation = library.container.library.circulation()
    circulation.borrow(cleo.id, barcode="EM-1")
    circulation.borrow(cleo.id, barcode="IV-1")
    circulation.place_hold(dora.id, book_id)
    sign_in(driver, library, librarian)
    wait_for_text(driver, "h1", "Desk")

    driver.find_element(By.LINK_TEXT, "Check in").click()
    wait_for(driver, "#barcode")
    scan(driver, "EM-1")
    scan(driver, "IV-1")
    checked_in = wait_for_lines(driver, 2)

    assert "back to the shelf" in checked_in[0]
    assert "Ivanhoe" in checked_in[0]
    assert "hold shelf for Dora Waiting" in checked_in[1]
    assert "pickup by" in checked_in[1]
    assert focused(driver).get_attribute("id") == "barcode"
    assert_accessible(driver)
    screenshot(driver, "desk-checkin")
    driver.find_element(By.LINK_TEXT, "Hold shelf").click()
    wait_for_text(driver, "main", "Dora Waiting")
    assert_accessible(driver)
    screenshot(driver, "desk-hold-shelf")


def test_a_librarian_takes_a_payment_from_the_keyboard(
    driver: Chrome, library: Library, librarian: str
) -> None:
    eve = library.register("Eve Owing")
    accounts = library.container.library.accounts()
    accounts.charge(eve.id, 450, "replacement card")
    sign_in(driver, library, librarian)
    wait_for_text(driver, "h1", "Desk")

    driver.find_element(By.LINK_TEXT, "Members").click()
    wait_for(driver, "#q")
    scan(driver, eve.card_number)
    wait_for_text(driver, "h1", "Eve Owing")
    driver.find_element(By.ID, "pay-amount").send_keys("3.00")
    driver.find_element(By.ID, "pay-note").send_keys("cash" + Keys.ENTER)

    wait_for_text(driver, "#announcer", "Payment of 3.00 recorded.")
    assert focused(driver).text == "Payment of 3.00 recorded."  # read out first
    assert accounts.statement(eve.id).balance_cents == 150
    assert (
        "1.50"
        in driver.find_element(By.ID, "account-heading")
        .find_element(By.XPATH, "following-sibling::p")
        .text
    )
    assert_accessible(driver)
    screenshot(driver, "desk-member")
    driver.set_window_size(*PHONE)
    try:
        assert_accessible(driver)
        screenshot(driver, "desk-member-phone")
    finally:
        driver.set_window_size(*DESKTOP)


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    driver: Chrome, library: Library, librarian: str
) -> None:
    fay = library.register("Fay Forged")
    accounts = library.container.library.accounts()
    accounts.charge(fay.id, 300, "damaged cover")
    sign_in(driver, library, librarian)
    wait_for_text(driver, "h1", "Desk")
    driver.get(f"{library.url}/desk/members/{fay.id}")
    wait_for(driver, "#pay-amount")

    # As a forged form would arrive: everything but the token.
    driver.execute_script(
        "document.querySelector('#pay-amount').form.querySelector('[name=csrf_token]').remove()"
    )
    driver.find_element(By.ID, "pay-amount").send_keys("3.00" + Keys.ENTER)

    wait_for_text(driver, "h1", "This form was not accepted")
    assert "CSRF_TOKEN_INVALID" in driver.find_element(By.TAG_NAME, "main").text
    assert accounts.statement(fay.id).balance_cents == 300
    assert_accessible(driver)
    screenshot(driver, "csrf-refused")


def test_the_other_desk_screens_pass_axe(driver: Chrome, library: Library, librarian: str) -> None:
    gus = library.register("Gus Late")
    library.add_book("Cranford", ["CR-1"])
    library.lend_days_ago(gus.id, "CR-1", days=60)
    sign_in(driver, library, librarian)
    wait_for_text(driver, "h1", "Desk")
    assert_accessible(driver)
    screenshot(driver, "desk-home")

    searches = {"Catalogue": ("cranford", "1 title matches"), "Members": ("example.org", "match")}
    shots = {
        "Check out": "desk-checkout-find",
        "Members": "desk-members",
        "Catalogue": "desk-catalogue",
        "Overdue": "desk-overdue",
    }
    for link, shot in shots.items():
        driver.find_element(By.LINK_TEXT, link).click()
        wait_for_text(driver, "h1", link)
        if link in searches:
            words, answer = searches[link]
            scan(driver, words)
            wait_for_text(driver, "main", answer)
        assert_accessible(driver)
        screenshot(driver, shot)
    assert "Gus Late" in driver.find_element(By.TAG_NAME, "main").text  # the overdue list


def test_the_desk_needs_no_mouse_from_sign_in_to_a_loan(
    driver: Chrome, library: Library, librarian: str
) -> None:
    library.add_book("North and South", ["NS-1"])
    hal = library.register("Hal Keys")
    driver.delete_all_cookies()
    driver.get(f"{library.url}/sign-in")
    wait_for(driver, "#email")

    scan(driver, librarian)  # email and Enter: the browser moves to the empty password
    assert focused(driver).get_attribute("id") == "password"
    scan(driver, "a sufficiently long passphrase")
    wait_for_text(driver, "h1", "Desk")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)  # the skip link
    focused(driver).send_keys(Keys.TAB)  # the first screen of the desk
    assert focused(driver).text == "Check out"
    focused(driver).send_keys(Keys.ENTER)
    wait_for(driver, "#who")
    scan(driver, hal.card_number)
    wait_for(driver, "#barcode")
    scan(driver, "NS-1")

    assert "North and South" in wait_for_lines(driver, 1)[0]
