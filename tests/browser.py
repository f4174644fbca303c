"""Headless Chromium for the review page tests: the driver fixture and small helpers.

Needs Debian's `chromium` and `chromium-driver` and the `selenium` package
(`bash .ci/install-chromium.sh` installs them). Without them the tests skip,
except under CI (the `CI` variable set), where they fail. Downloads (the
exported verdicts.csv) go to `driver.download_dir`.
"""
from __future__ import annotations

import os
import pathlib
import time
from urllib.parse import quote

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--window-size=1400,1100"]


def require_browser() -> None:
    """Skip when the browser, its driver or selenium is missing; fail instead under CI."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    try:
        import selenium  # noqa: F401 (only: is it installed)
    except ImportError:
        missing.append("the selenium package")
    if missing:
        message = f"headless Chromium test needs {', '.join(missing)}; run: bash .ci/install-chromium.sh"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so this is a failure, not a skip)")
        pytest.skip(message)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    """One headless Chromium for the module, with a fresh profile and a download folder; no Selenium Manager."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    downloads = tmp_path_factory.mktemp("downloads")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    drv.set_page_load_timeout(30)
    drv.download_dir = downloads
    yield drv
    drv.quit()


def open_view(driver, page: pathlib.Path, article: str | None = None, hash_: str | None = None) -> None:
    """Load the page at the index, at one article's view, or at another hash (#rows)."""
    driver.get("about:blank")  # so each test starts from a fresh load, not a hash change
    target = "#article=" + quote(article, safe="") if article else (hash_ or "")
    driver.get(page.as_uri() + target)
    wait_for(driver, "#article" if article else "#all-table" if hash_ == "#rows" else "#index-table")


def wait_for(driver, css: str, seconds: float = 10):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, seconds).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_until(condition, seconds: float = 10, what: str = "condition"):
    """Poll condition() until it is truthy; return its value."""
    end = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def css(driver, selector: str):
    from selenium.webdriver.common.by import By
    return driver.find_elements(By.CSS_SELECTOR, selector)


def column(driver, key: str, table: str = "rows-table") -> list[str]:
    """Texts of one column of a visible table."""
    return [td.text for td in css(driver, f"#{table} tbody td.c-{key}")]


def no_alert(driver) -> bool:
    from selenium.common.exceptions import NoAlertPresentException
    try:
        driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def fits_width(driver) -> bool:
    """True when the page needs no horizontal scrolling at the window's width."""
    return driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
