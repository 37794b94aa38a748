"""One real server per test module (over its own SQLite file), one headless Chromium per module.

The scene is set through the use cases, in this process, on the server's database: the pages
are then exercised only as a person would, through the browser.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from adapters.clock import ManualClock
from application.catalogue import BookDetails
from domain.members import Member, Role
from entrypoints.container import Container, build_container, dispose
from entrypoints.settings import Settings
from tests.browser.support import PASSWORD, chromium, running_server, wait_for

pytestmark = pytest.mark.browser


def _isbn13(serial: int) -> str:
    digits = f"978{serial:09d}"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return f"{digits}{check}"


_ISBNS = (_isbn13(n) for n in itertools.count(100_000))


@dataclass(frozen=True)
class Library:
    """The served library: its base URL and the use cases over its database."""

    url: str
    container: Container
    settings: Settings

    def add_book(self, title: str, barcodes: list[str]) -> str:
        """A book with these copies; its id."""
        isbn = next(_ISBNS)
        details = BookDetails(isbn=isbn, title=title, authors=["A. Writer"], year=2020)
        return self.container.library().catalogue().add_book(details, barcodes=barcodes).book.id

    def lend_days_ago(self, member_id: str, barcode: str, days: int) -> None:
        """A loan made ``days`` ago (so it may be overdue now), by the desk of that day."""
        past = build_container(self.settings, wire=False)
        now = datetime.now(UTC)
        past.clock.override(providers.Object(ManualClock(now - timedelta(days=days))))
        try:
            past.library().circulation().borrow(member_id, barcode=barcode)
        finally:
            dispose(past)

    def register(self, name: str, role: Role = Role.MEMBER) -> Member:
        email = f"{name.lower().replace(' ', '.')}@example.org"
        return (
            self.container.library()
            .membership()
            .register(email=email, name=name, role=role, password=PASSWORD)
        )


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    workdir = tmp_path_factory.mktemp("library")
    with running_server(workdir) as url:
        settings = Settings(
            database_url=f"sqlite:///{workdir / 'circulate.db'}",
            signing_keys_file=str(workdir / "circulate-keys.json"),
        )
        container = build_container(settings, wire=False)
        try:
            yield Library(url, container, settings)
        finally:
            dispose(container)


@pytest.fixture(scope="module")
def driver() -> Iterator[Chrome]:
    with chromium() as browser:
        yield browser


def sign_in(driver: WebDriver, library: Library, email: str, password: str = PASSWORD) -> None:
    driver.delete_all_cookies()
    driver.get(f"{library.url}/sign-in")
    wait_for(driver, "#email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()


def sign_out(driver: WebDriver) -> None:
    driver.find_element(By.CSS_SELECTOR, "form.sign-out button").click()
    wait_for(driver, "#email")
