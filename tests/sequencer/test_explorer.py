"""The explorer in a real headless browser (Debian's chromium, driven by Selenium through
chromium-driver; `make setup` installs both with apt where missing): it finds the batch it has
just had proven and executed on the devnet, and updates live over the WebSocket when the next
batch lands; with a market, the book and trades follow the blocks live."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from sequencer.api import ApiServer, ServedOperator, serve_operator
from sequencer.api_models import make_tx_adapter, to_wire
from sequencer.client import Client
from sequencer.operator import L1Link
from sequencer.store import Store
from tests.sequencer.api_env import PRESET, ApiEnv, start_api_env
from tests.sequencer.helpers import USDC, transfer
from tests.sequencer.rollup_env import deploy_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
if CHROMIUM is None or DRIVER is None:
    pytest.skip(
        "no chromium / chromedriver: `make setup` installs them (apt-get install chromium "
        "chromium-driver); it could not here",
        allow_module_level=True,
    )

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver, what: str, found: Callable[[WebDriver], object], s: float = 60) -> None:
    """Polls ``found`` until it holds; a row the page re-rendered between finding and reading
    it (a stale element) is read again at the next poll."""
    waiting = WebDriverWait(
        driver, s, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
    )
    waiting.until(found, message=what)


def batch_status(driver: WebDriver, number: int) -> str | None:
    rows = driver.find_elements(By.CSS_SELECTOR, f'#batches tr[data-batch="{number}"]')
    return rows[0].get_attribute("data-status") if rows else None


def queue_rows(driver: WebDriver) -> list[Any]:
    return driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr")


def queue_texts(driver: WebDriver) -> list[str]:
    return [row.text for row in queue_rows(driver)]


def last_cell(driver: WebDriver, number: int) -> str:
    """The last cell of batch ``number``'s row (its proving time)."""
    row = driver.find_element(By.CSS_SELECTOR, f'#batches tr[data-batch="{number}"]')
    return str(row.text.split()[-1])


def is_live(driver: WebDriver) -> bool:
    return driver.find_element(By.ID, "live").text == "live"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    env = start_api_env(tmp_path)
    yield env
    env.stop()


def test_the_page_follows_batches_books_and_trades_live(env: ApiEnv, browser: WebDriver) -> None:
    browser.get(env.url + "/")
    wait(browser, "the live badge", is_live)
    wait(browser, "batch 1", lambda d: batch_status(d, 1) == "sealed")
    assert browser.find_element(By.CSS_SELECTOR, '#accounts tr[data-account="3"]')
    # the page has loaded: from now on every change reaches it over the WebSocket alone
    env.service.submit([make_tx_adapter(PRESET).validate_python(to_wire(transfer(3, 0, 4, 1)))])
    env.seal()
    wait(browser, "batch 2 live", lambda d: batch_status(d, 2) == "sealed")
    env.trade(env.order(3, True, 10_100, 3), env.order(4, False, 9_900, 2))
    book = browser.find_element(By.ID, "market-0")
    wait(browser, "the book live", lambda d: "10100" in book.text and "9900" in book.text)
    env.trade(env.order(5, False, 10_100, 2))
    wait(browser, "the trade live", lambda d: "seq 2" in d.find_element(By.ID, "market-0").text)
    assert "10100" in browser.find_element(By.ID, "market-0").text
    browser.find_element(By.CSS_SELECTOR, '#batches tr[data-batch="1"]').click()
    wait(browser, "batch 1's operations", lambda d: "register_key" in d.find_element(
        By.ID, "operations").text)  # fmt: skip


@pytest.mark.devnet
@pytest.mark.prove
def test_the_page_finds_the_proven_batch_and_sees_the_next_land(
    w3: Web3, tmp_path: Path, browser: WebDriver
) -> None:
    rollup = deploy_env(w3, tmp_path, users=2)
    alice, bob = rollup.users
    link = L1Link(w3, rollup.rollup, rollup.validator, rollup.start_block, confirmations=0)
    operator = ServedOperator.open(rollup.config, Store(rollup.store_path), link, rollup.provers)
    assert isinstance(operator, ServedOperator)
    server: ApiServer = serve_operator(operator, "127.0.0.1", 0)
    try:
        for user in rollup.users:
            rollup.deposit(user, 10 * USDC)
            rollup.register_key(user)
        browser.get(server.url + "/")  # the requests are on L1; the operator has not run
        first = "deposit (account 3)"
        wait(browser, "the queue", lambda d: len(q := queue_texts(d)) == 4 and first in q[0])
        while operator.step() is not None:
            pass
        browser.refresh()
        wait(browser, "the live badge", is_live)
        wait(browser, "batch 1 proven and executed", lambda d: batch_status(d, 1) == "executed")
        wait(browser, "batch 1's proving time", lambda d: "s" in last_cell(d, 1))
        Client(operator, alice.account, alice.key).transfer(bob.account, USDC)
        while operator.step() is not None:
            pass
        wait(browser, "batch 2 live", lambda d: batch_status(d, 2) == "executed", 120)
        assert queue_rows(browser) == []  # executed: nothing left in L1's queue
        assert "executed 2" in browser.find_element(By.ID, "status").text
    finally:
        server.stop()
        operator.store.close()
