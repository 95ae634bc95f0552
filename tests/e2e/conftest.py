"""Browser tests: Debian's Chromium driven by Playwright (sync API) against the app on a live HTTP server.

Every test in this folder is marked ``browser``. When /usr/bin/chromium is missing the tests
are skipped with the reason, or fail under ``CONEXOOS_REQUIRE_SERVICES=1``. A failing test leaves a
screenshot of each page it opened; the path is printed in the failure report. With
``CONEXOOS_E2E_SCREENSHOTS=<folder>`` the tests also save named screenshots there for a visual review.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support.live_server import LiveServer, run_live_server
from tests.support.services import REQUIRE_SERVICES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 10_000
DESKTOP_VIEWPORT = {"width": 1280, "height": 800}
PHONE_VIEWPORT = {"width": 375, "height": 740}
HERE = Path(__file__).parent
SCREENSHOT_FOLDER_VARIABLE = "CONEXOOS_E2E_SCREENSHOTS"

PageFactory = Callable[..., Page]
"""``new_page(phone=False, **context_options)``: a page in a fresh browser context."""
PASSWORD = "correct horse battery staple"


def fill_setup(page: Page, live: LiveServer, policy: str = "By invitation") -> None:
    """Complete /setup (the live server is local, so no token is needed): site Linkhaus, administrator
    "owner", sign-up ``policy`` (a radio button's label)."""
    page.goto(f"{live.url}/setup")
    page.get_by_label("Site name").fill("Linkhaus")
    page.get_by_label("Administrator's email").fill("owner@example.com")
    page.get_by_label("Administrator's username").fill("owner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label(policy).check()
    page.get_by_role("button", name="Set up the site").click()
    expect(page.get_by_text("Your site is set up")).to_be_visible()


def log_in_as_owner(page: Page) -> None:
    """Log in as the administrator ``fill_setup`` made, from the login form on screen; the overview opens."""
    page.get_by_label("Email or username").fill("owner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="Linkhaus: overview")).to_be_visible()


def set_up_site(page: Page, live: LiveServer, policy: str = "By invitation") -> None:
    """:func:`fill_setup`, then log in as its administrator."""
    fill_setup(page, live, policy)
    log_in_as_owner(page)


def sign_up(page: Page, live: LiveServer, username: str) -> None:
    """Create an account through the /signup form ("check your inbox"), then log in from there with the
    password; the dashboard opens, its scripts run (so its lists have asked for their items: a test that
    then holds those requests with ``page.route`` holds only those of the page it opens next)."""
    page.goto(f"{live.url}/signup")
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(f"{live.url}/signup/sent")
    page.get_by_role("link", name="Log in").last.click()
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(f"{live.url}/dashboard")
    page.wait_for_load_state("load")


def scripts_ran(page: Page) -> None:
    """Wait until the page's deferred scripts have run (they run before DOMContentLoaded), after a click
    that loaded a new page: until then a script's listeners are missing, and what the test does (a key
    typed for a live preview, a button a script turns into an in-place action) is lost or done without it.
    ``page.goto`` waits for this by itself; a page's forms sent through the API also wait (disabled)."""
    page.wait_for_load_state("domcontentloaded")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder as ``browser``."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CONEXOOS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the whole run (never a downloaded browser)."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def desktop_user_agent(browser: Browser) -> str:
    """A desktop Chrome user agent for this Chromium (the analytics count 'HeadlessChrome' as a bot)."""
    major = browser.version.split(".")[0]
    return (
        f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )


def phone_user_agent(browser: Browser) -> str:
    """An Android Chrome user agent for this Chromium's version."""
    major = browser.version.split(".")[0]
    return (
        f"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Mobile Safari/537.36"
    )


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[PageFactory]:
    """Open a page in a fresh browser context (its own cookies), desktop-sized or, with ``phone=True``, a
    375x740 touch phone; other keyword arguments go to ``new_context``."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    request.node.e2e_pages = pages

    def factory(phone: bool = False, **options: Any) -> Page:
        if phone:
            options.setdefault("viewport", PHONE_VIEWPORT)
            options.setdefault("user_agent", phone_user_agent(browser))
            options.setdefault("is_mobile", True)
            options.setdefault("has_touch", True)
        options.setdefault("viewport", DESKTOP_VIEWPORT)
        options.setdefault("user_agent", desktop_user_agent(browser))
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        subscribe_early(page)
        pages.append(page)
        return page

    yield factory
    for context in contexts:
        context.close()


def subscribe_early(page: Page) -> None:
    """Turn on, now, the page events a test may listen to later. Playwright turns each one on at its
    first listener without waiting for the browser, so a listener added just before an action could miss
    what the action caused: CI once saw a key press open the native file dialog instead of the
    ``filechooser`` event (10 s timeout). Dialogs are left out: a listener on them, even a no-op, keeps
    every dialog open instead of dismissing it, so tests add theirs right after making the page."""
    for event in ("request", "console", "filechooser"):
        page.on(event, lambda _: None)


@pytest.fixture
def page(new_page: PageFactory) -> Page:
    """A desktop-sized page in its own context."""
    return new_page()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The real app on a real HTTP server at ``live_server.url``, with its own instance folder and SQLite."""
    with run_live_server(tmp_path) as server:
        yield server


@pytest.fixture
def snapshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path | None]:
    """Save a full-page screenshot named after the test when CONEXOOS_E2E_SCREENSHOTS names a folder."""
    folder = os.environ.get(SCREENSHOT_FOLDER_VARIABLE)

    def take(page: Page, name: str) -> Path | None:
        if not folder:
            return None
        path = Path(folder) / f"{_safe_name(request.node.name)}-{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """When a browser test fails, screenshot each of its open pages and name the files in the report."""
    report = yield
    pages = getattr(item, "e2e_pages", None)
    if report.when != "call" or not report.failed or not pages:
        return report
    base = os.environ.get(SCREENSHOT_FOLDER_VARIABLE) or tempfile.gettempdir()
    folder = Path(base) / "conexoos-e2e-failures"
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for number, page in enumerate(pages, start=1):
        if page.is_closed():
            continue
        path = folder / f"{_safe_name(item.name)}-page{number}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as error:  # noqa: BLE001 - the test's own failure matters more than the screenshot's
            saved.append(f"page {number} ({page.url}): no screenshot: {error}")
        else:
            saved.append(f"page {number} ({page.url}): {path}")
    report.sections.append(("browser screenshots", "\n".join(saved)))
    print("\nbrowser screenshots:\n  " + "\n  ".join(saved))
    return report


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]
