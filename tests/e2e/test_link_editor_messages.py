"""The link editor's refusals in Chromium, in the words of its fields' labels, under the field at fault."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory, sign_up
from .test_core_flow import add_link


def open_editor(page: Page, live: LiveServer, username: str) -> Locator:
    """A new account's only link, its edit form open."""
    sign_up(page, live, username)
    add_link(page, "Later", "https://later.example/")
    row = page.locator("#links .link-item").filter(has_text="Later")
    row.get_by_role("button", name="Edit").click()
    return row.locator("form.link-edit")


def save_refused(form: Locator, field: Locator, message: str) -> None:
    """Save: nothing is sent, and ``message`` is said under ``field``, which is invalid and focused."""
    form.get_by_role("button", name="Save").click()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(message)
    expect(field).to_be_focused()


def test_a_schedule_the_server_cannot_keep_is_explained_with_the_fields_labels(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    page = new_page(timezone_id="UTC")
    form = open_editor(page, live_server, "sched.words")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/api/edit/link/" in request.url else None)
    starts, ends = form.get_by_label("Show from"), form.get_by_label("Hide from")

    # Hide before Show: both named by their labels (the API's "starts_at" is no word of the page).
    starts.fill("2030-01-01T12:00")
    ends.fill("2030-01-01T11:00")
    save_refused(form, ends, "Hide from must be later than Show from")

    # A year the date picker offers but no time JavaScript can write ("Invalid time value").
    ends.fill("")
    starts.evaluate("input => { input.value = '275760-09-13T00:00'; }")
    save_refused(form, starts, "Show from must fall between 1970-01-01 00:00 and 9999-12-31 00:00 (UTC)")
    starts.evaluate("input => { input.value = '10000-01-01T00:00'; }")
    save_refused(form, starts, "Show from must fall between 1970-01-01 00:00 and 9999-12-31 00:00 (UTC)")
    assert sent == []

    # The server's own bound, said exactly: the last minute of 9999 is past it (in the browser's zone, UTC).
    starts.fill("9999-12-31T23:59")
    save_refused(form, starts, "Show from must fall between 1970-01-01 00:00 and 9999-12-31 00:00 (UTC)")
    assert sent == []
    starts.fill("9999-12-31T00:00")
    with page.expect_response(lambda response: "/api/edit/link/" in response.url) as answer:
        form.get_by_role("button", name="Save").click()
    assert answer.value.status == 200, answer.value.text()


def test_a_lock_password_too_short_is_said_once(live_server: LiveServer, new_page: PageFactory) -> None:
    page = new_page()
    form = open_editor(page, live_server, "lock.words")
    password = form.get_by_label("Password for visitors")
    password.fill("abc")
    with page.expect_response(lambda response: "/api/edit/link/" in response.url) as answer:
        form.get_by_role("button", name="Save").click()
    assert answer.value.status == 422, answer.value.text()
    expect(password).to_have_accessible_description(
        "Password for visitors must be 4 to 200 characters, or empty for none"
    )
    expect(password).to_be_focused()
