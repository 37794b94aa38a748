"""Signing in and out in a real browser: the pages load under their CSP, pass axe-core, and
take the keyboard."""

from __future__ import annotations

import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from domain.members import Role
from tests.browser.conftest import Library, sign_in, sign_out
from tests.browser.support import (
    DESKTOP,
    PHONE,
    assert_accessible,
    console_errors,
    focused,
    screenshot,
    wait_for,
    wait_for_text,
)

pytestmark = pytest.mark.browser


def test_the_sign_in_page_is_accessible_on_a_desk_and_on_a_phone(
    driver: WebDriver, library: Library
) -> None:
    driver.get(f"{library.url}/sign-in")
    wait_for(driver, "#email")

    assert focused(driver).get_attribute("id") == "email"  # ready to type
    assert_accessible(driver)
    screenshot(driver, "sign-in")
    driver.set_window_size(*PHONE)
    try:
        assert_accessible(driver)
        screenshot(driver, "sign-in-phone")
    finally:
        driver.set_window_size(*DESKTOP)


def test_the_scripts_run_under_the_pages_csp(driver: Chrome, library: Library) -> None:
    console_errors(driver)  # what earlier tests left
    driver.get(f"{library.url}/sign-in")
    wait_for(driver, "#email")

    # The page's own script was allowed (a script the policy refuses is never fetched).
    assert driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".some(e => e.name.includes('/static/web/web.js'))"
    )
    assert console_errors(driver) == []
    # An inline script without the nonce is refused, and the refusal is reported.
    driver.execute_script(
        "const s = document.createElement('script');"
        "s.textContent = 'window.injected = true'; document.body.append(s);"
    )
    assert driver.execute_script("return window.injected === true") is False
    assert any("Content Security Policy" in error for error in console_errors(driver))


def test_the_skip_link_comes_first_and_leads_to_the_content(
    driver: WebDriver, library: Library
) -> None:
    driver.get(f"{library.url}/sign-in")
    wait_for(driver, "#email")  # focused on arrival

    focused(driver).send_keys(Keys.SHIFT, Keys.TAB)
    skip = focused(driver)

    assert skip.text == "Skip to main content"
    assert skip.is_displayed()  # it shows itself when it has the focus
    skip.send_keys(Keys.ENTER)
    assert focused(driver).get_attribute("id") == "main"


def test_a_librarian_signs_in_at_the_desk_and_out_again(
    driver: WebDriver, library: Library
) -> None:
    librarian = library.register("Lena Librarian", Role.LIBRARIAN)

    sign_in(driver, library, librarian.email)

    wait_for_text(driver, "h1", "Desk")
    assert driver.current_url == f"{library.url}/desk/"
    cookie = driver.get_cookie("circulate_session")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert driver.execute_script("return document.cookie") == ""  # invisible to scripts
    sign_out(driver)
    wait_for_text(driver, "#announcer", "You are signed out.")
    driver.get(f"{library.url}/desk/")
    wait_for(driver, "#email")
    assert "/sign-in" in driver.current_url


def test_a_wrong_password_is_said_in_words(driver: WebDriver, library: Library) -> None:
    library.register("Walter Wrong", Role.LIBRARIAN)

    sign_in(driver, library, "walter.wrong@example.org", "certainly not the password")

    alert = wait_for(driver, "[role=alert]")
    assert "The email or the password is wrong." in alert.text
    assert_accessible(driver)
    screenshot(driver, "sign-in-refused")
