"""Driving the pages in headless Chromium: the server, the browser, screenshots, axe-core.

Debian's ``chromium`` and ``chromium-driver`` (installed by ``scripts/ensure-services``, which
``make test`` runs). A missing browser fails the tests: it is never a reason to skip them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.served import served

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CIRCULATE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CIRCULATE_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
# The README names this folder: every screen the tests visit is saved here.
SCREENSHOTS = ROOT / "build" / "screenshots"
WAIT_SECONDS = 15.0  # the longest a page element is waited for (a ceiling, not a timing)
DESKTOP = (1280, 800)
PHONE = (390, 844)
PASSWORD = "a sufficiently long passphrase"

# Without these Chromium reaches for the network (updates, sync, QUIC probes) and stalls on a
# closed one.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
    "--lang=en-GB",
)


def server_environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCULATE_")}
    env.update(
        CIRCULATE_DATABASE_URL=f"sqlite:///{workdir / 'circulate.db'}",
        CIRCULATE_SIGNING_KEYS_FILE=str(workdir / "circulate-keys.json"),
        CIRCULATE_WORKER_IN_SERVE="off",
        CIRCULATE_RATE_LIMIT_DEFAULT="10000 per minute",
    )
    return env


@contextmanager
def running_server(workdir: Path) -> Iterator[str]:
    """``circulate serve`` over a fresh SQLite file in ``workdir``; yields its base URL."""
    with served(workdir, server_environment(workdir)) as base:
        yield base


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a profile of its own, closed afterwards."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            pytest.fail(
                f"{path} is missing: install Debian's chromium and chromium-driver "
                "(scripts/ensure-services does, as part of `make test`)"
            )
    profile = tempfile.mkdtemp(prefix="circulate-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP reports land there
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# --- looking at pages -------------------------------------------------------------------------


def wait_for(driver: WebDriver, css: str) -> WebElement:
    element: WebElement = WebDriverWait(driver, WAIT_SECONDS).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )
    return element


def wait_for_text(driver: WebDriver, css: str, text: str) -> WebElement:
    WebDriverWait(driver, WAIT_SECONDS).until(_text_in(css, text))
    return driver.find_element(By.CSS_SELECTOR, css)


def _text_in(css: str, text: str) -> Callable[[WebDriver], bool]:
    def present(driver: WebDriver) -> bool:
        try:
            return text in driver.find_element(By.CSS_SELECTOR, css).text
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        except WebDriverException as error:
            # A form post's redirect replaced the page between finding the element and reading
            # it: Chromium then says the node "does not belong to the document". Look again.
            if "does not belong to the document" in str(error):
                return False
            raise

    return present


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """The page's console errors since the last call (a CSP refusal is one)."""
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return [entry["message"] for entry in entries if entry["level"] == "SEVERE"]


def focused(driver: WebDriver) -> WebElement:
    element: WebElement = driver.switch_to.active_element
    return element


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save the current screen as ``build/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"no screenshot of {name}"
    return path


def axe_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page (WCAG 2.1 A and AA).

    The script is injected by the driver, outside the page's Content Security Policy, which
    stays as strict as users get it.
    """
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
        axe.run(document, {runOnly: {type: "tag", values: tags}})
          .then(r => done({violations: r.violations}))
          .catch(e => done({error: String(e)}));
        """
    )
    assert "error" not in result, result.get("error")
    return [v for v in result["violations"] if v.get("impact") in {"serious", "critical"}]


def assert_accessible(driver: WebDriver) -> None:
    violations = axe_violations(driver)
    summary = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in violations
    ]
    assert not violations, "\n".join(summary)
