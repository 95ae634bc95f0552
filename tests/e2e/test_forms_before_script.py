"""The forms a page's script sends through the JSON API, in Chromium, before that script has run and with
JavaScript off: none can be sent natively (no method, so a GET of the page with what was typed in its URL
and the access logs), since their controls sit in a disabled fieldset the script enables once bound."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.support.live_server import LiveServer, run_live_server

from .conftest import PageFactory, sign_up

SCRIPT_FORMS = {
    "/dashboard": ["#add-link", "#add-block"],
    "/dashboard/products": ["#add-product"],
    "/dashboard/stats": ["#range"],
    "/settings/passkeys": ["#passkey-register"],
}
SECRET = "secret-typed-early"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("forms")) as server:
        yield server


class HeldScripts:
    """Holds the page's own scripts (``/static/js/``) until :meth:`release`: the page as it is between
    its HTML and its scripts, a moment a slow device or a loaded machine makes long."""

    def __init__(self, page: Page) -> None:
        self.held: list[Route] = []
        page.route("**/static/js/**", self.hold)

    def hold(self, route: Route) -> None:
        self.held.append(route)

    def release(self) -> None:
        for route in self.held:
            route.continue_()
        self.held.clear()


def requested_urls(page: Page) -> list[str]:
    """Every URL ``page`` asks for from now on."""
    urls: list[str] = []

    def seen(request: Request) -> None:
        urls.append(request.url)

    page.on("request", seen)
    return urls


def try_to_send(page: Page, form: str) -> None:
    """What a person can do to a form whose script has not bound it: put text in its text fields (as a
    browser's autofill would: they cannot be focused), press its submit button and Enter in a field."""
    page.locator(f"{form} input:not([type]), {form} input[type=password]").evaluate_all(
        f"(fields) => fields.forEach((field) => {{ field.value = {SECRET!r}; }})"
    )
    page.locator(f"{form} [type=submit]").click(force=True)
    page.locator(f"{form} input, {form} select").first.press("Enter")


def assert_nothing_sent(page: Page, url: str, urls: list[str]) -> None:
    expect(page).to_have_url(url)  # no navigation: the page is where it was, with no query string
    assert not [seen for seen in urls if SECRET in seen or "?title=" in seen or "?preset=" in seen], urls


def test_a_form_cannot_be_sent_before_its_script_has_bound_it(
    live: LiveServer, new_page: PageFactory
) -> None:
    page = new_page()
    sign_up(page, live, "early")
    for path, forms in SCRIPT_FORMS.items():
        held = HeldScripts(page)
        urls = requested_urls(page)
        page.goto(f"{live.url}{path}", wait_until="commit")
        for form in forms:
            expect(page.locator(f"{form} [type=submit]")).to_be_disabled()
            try_to_send(page, form)
        assert_nothing_sent(page, f"{live.url}{path}", urls)
        held.release()
        page.unroute("**/static/js/**")
        for form in forms:  # bound now: each form can be used
            expect(page.locator(f"{form} [type=submit]")).to_be_enabled()
            expect(page.locator(form).locator("input, select").first).to_be_editable()

    # Once bound, Enter in the add form adds the link through the API, and the page stays where it is.
    urls = requested_urls(page)
    page.goto(f"{live.url}/dashboard")
    page.locator("#new-title").fill("Early")
    page.locator("#new-url").fill("https://example.com/early")
    page.locator("#new-url").press("Enter")
    expect(page.locator("#links .link-title")).to_have_text(["Early"])
    assert_nothing_sent(page, f"{live.url}/dashboard", [seen for seen in urls if "example.com" in seen])


def test_without_javascript_the_forms_cannot_be_sent_and_the_page_says_why(
    live: LiveServer, new_page: PageFactory
) -> None:
    signed_in = new_page()
    sign_up(signed_in, live, "noscript")
    page = new_page(java_script_enabled=False, storage_state=signed_in.context.storage_state())
    for path, forms in SCRIPT_FORMS.items():
        urls = requested_urls(page)
        page.goto(f"{live.url}{path}")
        if path != "/settings/passkeys":  # which says so in its own words, next to its form
            expect(page.locator("#needs-javascript")).to_be_visible()
        for form in forms:
            expect(page.locator(f"{form} [type=submit]")).to_be_disabled()
            try_to_send(page, form)
        assert_nothing_sent(page, f"{live.url}{path}", urls)
